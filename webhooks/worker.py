"""The webhook worker's engine: deliveries are sent on a few threads, so a slow receiver holds one of
them and no other application's delivery waits behind it.

Only the calling thread touches the database (claims and outcomes); each thread sends one signed,
prepared POST at a time (``webhook_delivery_send``), within the deadline of ``webhooks/transport.py``.
Each webhook has at most one delivery in flight per worker, and webhooks take turns
(``webhook_deliveries_claim``).
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from webhooks.conf import webhook_settings
from webhooks.models import WebhookDelivery
from webhooks.services import (
    webhook_deliveries_claim,
    webhook_delivery_record,
    webhook_delivery_request,
    webhook_delivery_send,
)

logger = logging.getLogger(__name__)


class DeliveryWorker:
    """Sends claimed deliveries on ``threads`` threads and records what they did; not thread-safe itself."""

    def __init__(self, *, threads: int):
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook-delivery")
        self._in_flight: dict[Future, WebhookDelivery] = {}
        self._last_webhook_id = 0

    @property
    def busy(self) -> bool:
        """Whether a delivery is in flight."""
        return bool(self._in_flight)

    def start_due(self, *, limit: int | None = None) -> int:
        """Claim due deliveries for the free threads (``limit`` at most) and start them; how many started."""
        free = self.threads - len(self._in_flight)
        if limit is not None:
            free = min(free, limit)
        if free <= 0:
            return 0
        claimed = webhook_deliveries_claim(
            limit=free,
            busy_webhook_ids={d.webhook_id for d in self._in_flight.values()},
            after_webhook_id=self._last_webhook_id,
        )
        for delivery in claimed:
            request = webhook_delivery_request(delivery=delivery)
            self._in_flight[self._pool.submit(webhook_delivery_send, request=request)] = delivery
        if claimed:
            self._last_webhook_id = claimed[-1].webhook_id
        return len(claimed)

    def finish(self, *, timeout: float | None) -> int:
        """Wait up to ``timeout`` seconds (``None``: without end) for a delivery to finish, then record
        every finished one; how many were recorded."""
        if not self._in_flight:
            return 0
        done, _ = wait(self._in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            delivery = self._in_flight.pop(future)
            try:
                status_code, error = future.result()
            except Exception as exc:  # a bug of ours: record a failed attempt (retried), keep the worker going
                logger.exception("Webhook delivery %s raised", delivery.pk)
                status_code, error = None, f"{type(exc).__name__}: {exc}"
            webhook_delivery_record(delivery=delivery, status_code=status_code, error=error)
        return len(done)

    def close(self) -> None:
        """Let the deliveries in flight finish (each within its deadline), record them, stop the threads."""
        while self._in_flight:
            self.finish(timeout=None)
        self._pool.shutdown()


def webhook_deliver_due(*, limit: int = 100) -> int:
    """Deliver what is due until nothing due is left or ``limit`` attempts were made; how many were.

    ``WORKER_THREADS`` deliveries at a time, one per webhook; tests and ``deliver_webhooks --once``.
    """
    worker = DeliveryWorker(threads=webhook_settings.WORKER_THREADS)
    attempted = 0
    try:
        while True:  # bounded: each turn starts deliveries (at most ``limit`` in all) or finishes one
            attempted += worker.start_due(limit=limit - attempted)
            if not worker.busy:
                return attempted
            worker.finish(timeout=None)
    finally:
        worker.close()
