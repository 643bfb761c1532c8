from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "detection"

    def ready(self) -> None:
        from detection.conf import detection_settings

        # A mistyped key in settings.DETECTION stops the start, not the first predict.
        detection_settings.user_settings  # noqa: B018 (read for its check)
