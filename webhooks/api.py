"""The application's own webhook: ``GET``, ``PUT`` and ``DELETE /api/v1/webhook/``."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from obico_api.api.permissions import AppTokenHasReadWriteScope
from obico_api.api.schema import error_responses
from webhooks import services
from webhooks.destinations import validate_webhook_url
from webhooks.models import Webhook


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


class WebhookApi(APIView):
    permission_classes = [AppTokenHasReadWriteScope]

    @extend_schema(operation_id="webhook_retrieve", responses={200: WebhookOutputSerializer, **error_responses(404)})
    def get(self, request):
        webhook = Webhook.objects.filter(application=request.auth.application).first()
        if webhook is None:
            raise Http404("This application has no webhook.")
        return Response(WebhookOutputSerializer(webhook).data)

    @extend_schema(
        operation_id="webhook_set",
        request=WebhookInputSerializer,
        responses={200: WebhookWithSecretSerializer, **error_responses(400)},
    )
    def put(self, request):
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_set(application=request.auth.application, **data.validated_data)
        return Response(WebhookWithSecretSerializer(webhook).data)

    @extend_schema(operation_id="webhook_delete", responses={204: None, **error_responses(404)})
    def delete(self, request):
        if not services.webhook_delete(application=request.auth.application):
            raise Http404("This application has no webhook.")
        return Response(status=status.HTTP_204_NO_CONTENT)
