from django.contrib import admin
from django.utils import timezone

from webhooks.models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["application", "url", "is_active", "updated_at"]
    list_select_related = ["application"]
    raw_id_fields = ["application"]


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
