"""The application's own webhook: ``GET``, ``PUT`` and ``DELETE /api/v1/webhook/``."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import READ, WRITE, AppTokenHasScope
from obico_api.api.schema import error_responses
from webhooks import services
from webhooks.models import Webhook
from webhooks.serializers import WebhookInputSerializer, WebhookOutputSerializer, WebhookWithSecretSerializer


class WebhookApi(APIView):
    required_alternate_scopes = {"GET": [[READ]], "PUT": [[WRITE]], "DELETE": [[WRITE]]}
    permission_classes = [AppTokenHasScope]

    @extend_schema(responses={200: WebhookOutputSerializer, **error_responses(404)})
    def get(self, request):
        webhook = Webhook.objects.filter(application=request.auth.application).first()
        if webhook is None:
            raise Http404("This application has no webhook.")
        return Response(WebhookOutputSerializer(webhook).data)

    @extend_schema(
        request=WebhookInputSerializer,
        responses={200: WebhookWithSecretSerializer, **error_responses(400)},
    )
    def put(self, request):
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_set(application=request.auth.application, **data.validated_data)
        return Response(WebhookWithSecretSerializer(webhook).data)

    @extend_schema(responses={204: None, **error_responses(404)})
    def delete(self, request):
        if not services.webhook_delete(application=request.auth.application):
            raise Http404("This application has no webhook.")
        return Response(status=status.HTTP_204_NO_CONTENT)
