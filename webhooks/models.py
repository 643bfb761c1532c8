"""Webhooks of OAuth applications and the outbox of their deliveries."""

from django.db import models


class Webhook(models.Model):
    """Where an application wants its events, and the secret that signs them."""

    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.application} -> {self.url}"


class WebhookDelivery(models.Model):
    """One event to deliver: written in the same transaction as the change it reports (an outbox).

    A worker claims a due delivery by pushing ``next_attempt_at`` past a lease, posts it outside any
    transaction, then records the outcome; a worker that dies mid-post leaves the delivery to be
    retried when the lease ends, so nothing is lost (receivers dedupe on ``X-Webhook-Id``).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} ({self.status})"
