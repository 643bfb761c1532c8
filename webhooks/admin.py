"""The webhook admin. A secret is shown once, on the page after it is made, and never again: the
change form, the list and the deliveries leave it out (it stays in the database, in clear, because
HMAC signing needs it)."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone

from webhooks import services
from webhooks.destinations import validate_webhook_url
from webhooks.models import Webhook, WebhookDelivery

SHOW_ONCE_TEMPLATE = "admin/webhooks/webhook/secret_once.html"


class WebhookChangeForm(forms.ModelForm):
    """The fields an admin may change; the secret is not one of them (the action replaces it)."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ["application", "url", "is_active"]

    def clean_url(self) -> str:
        """The API's rule (``webhooks/destinations.py``): an admin cannot register what an app could not."""
        url = self.cleaned_data["url"]
        validate_webhook_url(url)
        return url


class WebhookAddForm(WebhookChangeForm):
    secret = forms.CharField(
        min_length=16,
        max_length=128,
        required=False,
        help_text="Leave blank to generate one. It is shown once, after saving, and never again.",
    )

    class Meta(WebhookChangeForm.Meta):
        fields = ["application", "url", "secret", "is_active"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["application", "url", "is_active", "updated_at"]
    list_select_related = ["application"]
    raw_id_fields = ["application"]
    actions = ["replace_secret"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = WebhookChangeForm if obj is not None else WebhookAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and not obj.secret:
            obj.secret = services.webhook_secret_new()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        """Instead of a redirect, the one page that shows the new secret (nothing stores it on the way)."""
        return self._secret_once(request, [obj])

    @admin.action(description="Replace the secret (the new one is shown once)", permissions=["change"])
    def replace_secret(self, request, queryset):
        return self._secret_once(request, [services.webhook_secret_replace(webhook=w) for w in queryset])

    def _secret_once(self, request, webhooks):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Webhook secret" if len(webhooks) == 1 else "Webhook secrets",
            "webhooks": webhooks,
        }
        return TemplateResponse(request, SHOW_ONCE_TEMPLATE, context)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "webhook", "status", "attempts", "last_status_code", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    list_select_related = ["webhook__application"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        queryset.update(status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now())

    actions = ["retry_now"]
