"""Webhook registration, the event outbox, and delivery with retries."""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.models import Webhook, WebhookDelivery
from webhooks.signing import retry_delay, sign
from webhooks.transport import webhook_post

logger = logging.getLogger(__name__)


def webhook_secret_new() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def webhook_set(*, application, url: str, secret: str | None = None) -> Webhook:
    """Register or replace the application's webhook; a new secret is generated unless given."""
    webhook, _ = Webhook.objects.update_or_create(
        application=application,
        defaults={"url": url, "secret": secret or webhook_secret_new(), "is_active": True},
    )
    return webhook


def webhook_secret_replace(*, webhook: Webhook) -> Webhook:
    """Give the webhook a new secret, for its owner to be shown once; queued deliveries are signed with it."""
    webhook.secret = webhook_secret_new()
    webhook.save(update_fields=["secret", "updated_at"])
    return webhook


def webhook_delete(*, application) -> bool:
    """Remove the application's webhook and its pending deliveries; False if it had none."""
    deleted, _ = Webhook.objects.filter(application=application).delete()
    return deleted > 0


def webhook_event_enqueue(*, event: str, application_id: int | None, data: dict) -> WebhookDelivery | None:
    """Queue an event for an application, if it has an active webhook; ``data`` is the payload's body.

    Call inside the transaction that makes the change, so the event is stored if and only if the
    change is.
    """
    if application_id is None:
        return None
    webhook = Webhook.objects.filter(application_id=application_id, is_active=True).first()
    if webhook is None:
        return None
    now = timezone.now()
    payload = {"id": str(uuid.uuid4()), "event": event, "created_at": now.isoformat(), "data": data}
    return WebhookDelivery.objects.create(webhook=webhook, event=event, payload=payload, next_attempt_at=now)


def webhook_deliveries_claim(*, limit: int) -> list[WebhookDelivery]:
    """Take up to ``limit`` due deliveries for this worker by leasing them.

    The lease (``LEASE_SECONDS``) is how long other workers leave them alone; a worker that dies
    holding one only delays it.
    """
    config = settings.WEBHOOKS
    now = timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .select_related("webhook")
            .order_by("next_attempt_at")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
            next_attempt_at=now + timedelta(seconds=config["LEASE_SECONDS"])
        )
    return due


def webhook_delivery_attempt(*, delivery: WebhookDelivery) -> bool:
    """POST one signed delivery and record the outcome; True when the receiver took it (2xx)."""
    status_code, error = _delivery_post(delivery)
    _delivery_outcome_record(delivery, status_code=status_code, error=error)
    return not error


def _delivery_post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """Sign and POST the delivery's payload; the receiver's status code and an error ("" on a 2xx)."""
    config = settings.WEBHOOKS
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(timezone.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "obico-api-webhooks/1",
        "X-Webhook-Id": delivery.payload["id"],
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": sign(secret=delivery.webhook.secret, timestamp=timestamp, body=body),
    }
    try:
        # Resolves the host once, checks every address and connects to a checked one (DNS rebinding).
        response = webhook_post(
            delivery.webhook.url,
            data=body,
            headers=headers,
            timeout=config["TIMEOUT_SECONDS"],
            allow_private=config["ALLOW_PRIVATE_NETWORKS"],
            resolve_timeout=config["RESOLVE_TIMEOUT_SECONDS"],
        )
    except (requests.RequestException, ValueError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    status_code = response.status_code
    return status_code, "" if 200 <= status_code < 300 else f"HTTP {status_code}"


def _delivery_outcome_record(delivery: WebhookDelivery, *, status_code: int | None, error: str) -> None:
    """Mark the delivery delivered, failed for good, or due again after its back-off."""
    config = settings.WEBHOOKS
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:2000]
    now = timezone.now()
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= config["MAX_ATTEMPTS"]:
        delivery.status = WebhookDelivery.Status.FAILED
        logger.warning(
            "Webhook delivery %s failed for good after %s attempts: %s", delivery.pk, delivery.attempts, error
        )
    else:
        delay = retry_delay(delivery.attempts, base=config["RETRY_BASE_SECONDS"], cap=config["RETRY_CAP_SECONDS"])
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        logger.info("Webhook delivery %s failed (%s); retrying in %ss", delivery.pk, error, delay)
    delivery.save(
        update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at", "next_attempt_at"]
    )


def webhook_deliver_due(*, limit: int = 20) -> int:
    """Deliver what is due now; returns how many deliveries were attempted."""
    claimed = webhook_deliveries_claim(limit=limit)
    for delivery in claimed:
        webhook_delivery_attempt(delivery=delivery)
    return len(claimed)
