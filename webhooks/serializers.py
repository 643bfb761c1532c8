"""The webhook endpoint's request and response shapes."""

from rest_framework import serializers

from webhooks.destinations import validate_webhook_url


class WebhookOutputSerializer(serializers.Serializer):
    url = serializers.URLField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookWithSecretSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(help_text="Signs every delivery; shown only when set.")


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.URLField(
        max_length=500, help_text="https; every address its host resolves to must be public. No user name or password."
    )
    secret = serializers.CharField(min_length=16, max_length=128, required=False, help_text="Generated when omitted.")

    def validate_url(self, url: str) -> str:
        """Refuse now what delivery would refuse, by the same rule (``webhooks/destinations.py``)."""
        validate_webhook_url(url)  # DRF reports Django's ValidationError on this field as its own
        return url
