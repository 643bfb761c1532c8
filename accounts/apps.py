from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import token_cache  # noqa: F401  (connects its signal receivers)
