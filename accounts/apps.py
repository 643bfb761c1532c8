from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # The system check registers itself; the token cache connects its signal receivers.
        from accounts import checks, token_cache  # noqa: F401
