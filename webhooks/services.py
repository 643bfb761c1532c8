"""Webhook registration, the event outbox, and delivery with retries."""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.db import transaction
from django.utils import timezone

from webhooks.conf import webhook_settings
from webhooks.models import Webhook, WebhookDelivery
from webhooks.signing import sign
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


def webhook_deliveries_claim(
    *, limit: int, busy_webhook_ids: Collection[int] = (), after_webhook_id: int = 0
) -> list[WebhookDelivery]:
    """Take up to ``limit`` due deliveries for this worker by leasing them, at most one per webhook.

    Webhooks take turns: the oldest due delivery of each, in webhook order from ``after_webhook_id``
    (the last one this worker served) round to the start, so a receiver with a backlog cannot keep
    the others waiting. Webhooks in ``busy_webhook_ids`` (this worker's deliveries in flight) are
    skipped. The lease (``LEASE_SECONDS``) is how long other workers leave a delivery alone; a worker
    that dies holding one only delays it.
    """
    now = timezone.now()
    lease_end = now + timedelta(seconds=webhook_settings.LEASE_SECONDS)
    skip = set(busy_webhook_ids)
    claimed: list[WebhookDelivery] = []
    cursor: int | None = after_webhook_id
    while cursor is not None and len(claimed) < limit:  # ends: each turn skips a webhook, or wraps once
        with transaction.atomic():
            delivery = (
                # PostgreSQL: a row another worker is claiming is skipped, not waited for. SQLite has
                # no row locks; its transactions take the write lock at BEGIN (IMMEDIATE), so claims
                # run one at a time, and the conditional update below keeps a claim exact regardless.
                WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, webhook_id__gt=cursor)
                .exclude(webhook_id__in=skip)
                .select_related("webhook")
                .order_by("webhook_id", "next_attempt_at", "pk")
                .first()
            )
            if delivery is None:
                cursor = 0 if cursor else None  # round to the start once
                continue
            taken = WebhookDelivery.objects.filter(
                pk=delivery.pk, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
            ).update(next_attempt_at=lease_end)
        skip.add(delivery.webhook_id)
        cursor = delivery.webhook_id
        if taken:
            delivery.next_attempt_at = lease_end
            claimed.append(delivery)
    return claimed


@dataclass(frozen=True)
class DeliveryRequest:
    """A delivery's POST, signed and ready: all a sending thread needs, without the database."""

    url: str
    body: bytes
    headers: dict[str, str]


def webhook_delivery_request(*, delivery: WebhookDelivery) -> DeliveryRequest:
    """Sign the delivery's payload for sending now."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    event_id = delivery.payload["id"]
    timestamp = int(timezone.now().timestamp())
    signature = sign(
        secret=delivery.webhook.secret, event_id=event_id, timestamp=timestamp, event=delivery.event, body=body
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "obico-api-webhooks/1",
        "X-Webhook-Id": event_id,
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": signature,
    }
    return DeliveryRequest(url=delivery.webhook.url, body=body, headers=headers)


def webhook_delivery_send(*, request: DeliveryRequest) -> tuple[int | None, str]:
    """POST a signed delivery once; the receiver's status code and an error ("" on a 2xx).

    Touches no database, so a worker may run it on any thread. A refusal's error holds the start of
    the receiver's answer (``MAX_RESPONSE_BYTES`` at most), for the admin to see why.
    """
    try:
        # Resolves the host once, checks every address and connects to a checked one (DNS rebinding).
        reply = webhook_post(
            request.url,
            data=request.body,
            headers=request.headers,
            deadline=webhook_settings.TIMEOUT_SECONDS,
            max_response_bytes=webhook_settings.MAX_RESPONSE_BYTES,
            allow_private=webhook_settings.ALLOW_PRIVATE_NETWORKS,
            resolve_timeout=webhook_settings.RESOLVE_TIMEOUT_SECONDS,
        )
    except (requests.RequestException, ValueError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= reply.status_code < 300:
        return reply.status_code, ""
    answer = " ".join(reply.body.decode("utf-8", errors="replace").split())
    return reply.status_code, f"HTTP {reply.status_code}: {answer}" if answer else f"HTTP {reply.status_code}"


def retry_delay(attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait after ``attempts`` failed deliveries: doubling from ``base`` up to ``cap``."""
    return min(cap, base * 2 ** (attempts - 1))


def webhook_delivery_record(*, delivery: WebhookDelivery, status_code: int | None, error: str) -> None:
    """Mark the delivery delivered, failed for good, or due again after its back-off."""
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:2000]
    now = timezone.now()
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= webhook_settings.MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        logger.warning(
            "Webhook delivery %s failed for good after %s attempts: %s", delivery.pk, delivery.attempts, error
        )
    else:
        delay = retry_delay(
            delivery.attempts, base=webhook_settings.RETRY_BASE_SECONDS, cap=webhook_settings.RETRY_CAP_SECONDS
        )
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        logger.info("Webhook delivery %s failed (%s); retrying in %ss", delivery.pk, error, delay)
    delivery.save(
        update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at", "next_attempt_at"]
    )
