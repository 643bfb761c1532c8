from django.urls import path

from webhooks.api import WebhookApi

urlpatterns = [
    path("webhook/", WebhookApi.as_view(), name="webhook"),
]
