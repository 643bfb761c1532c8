from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from webhooks.conf import webhook_settings

        # A mistyped key in settings.WEBHOOKS stops the start, not the first delivery.
        webhook_settings.user_settings  # noqa: B018 (read for its check)
