"""Webhook settings: ``DEFAULTS``, overridden by ``settings.WEBHOOKS``.

The apps' one settings pattern (``obico_api.app_settings``, DRF's ``api_settings``)::

    from webhooks.conf import webhook_settings

    webhook_settings.TIMEOUT_SECONDS  # settings.WEBHOOKS["TIMEOUT_SECONDS"] if set, else DEFAULTS'

``settings.WEBHOOKS`` is one dict holding only what differs from ``DEFAULTS`` (config/settings.py
fills it from the ``WEBHOOK_*`` environment variables).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obico_api.app_settings import AppSettings

DEFAULTS: dict[str, Any] = {
    # The whole of one delivery attempt (lookup, connect, TLS, sending, the reply), not each read: a
    # receiver trickling a byte every 9 s once held the worker 41.7 s (issue 23). Our choice: 10 s is
    # ample for a receiver that answers before it does its work, as receivers should.
    "TIMEOUT_SECONDS": 10,
    # Of a reply, only the status and this much of the body are read (a refusal's start is kept in
    # the delivery's error); a 300 MB reply was once read whole into memory (issue 23).
    "MAX_RESPONSE_BYTES": 4096,
    # Deliveries in flight at once per worker process, at most one per webhook, so a slow receiver
    # holds one thread. Our choice: 8 receivers each taking the whole deadline still leave deliveries
    # flowing; a thread holds little but its socket and MAX_RESPONSE_BYTES.
    "WORKER_THREADS": 8,
    # 12 attempts, doubling from 10 s to at most an hour apart: about 4.5 hours of retries.
    "MAX_ATTEMPTS": 12,
    "RETRY_BASE_SECONDS": 10,
    "RETRY_CAP_SECONDS": 3600,
    # How long other workers leave a claimed delivery alone. None: twice TIMEOUT_SECONDS and at least
    # a minute, so it outlives any attempt and no other worker sends a delivery its claimer still may.
    "LEASE_SECONDS": None,
    # Receivers on loopback or private networks (server-side request forgery): refused unless set;
    # config/settings.py allows them in development (DEBUG).
    "ALLOW_PRIVATE_NETWORKS": False,
    # How long registration (on the request path) and delivery wait for the receiver's DNS lookup;
    # our choice: a healthy resolver answers in milliseconds, glibc's own retries take 5 s or more.
    "RESOLVE_TIMEOUT_SECONDS": 3,
}


class WebhookSettings(AppSettings):
    """``DEFAULTS`` as attributes, each overridden by the same key of ``settings.WEBHOOKS``.

    ``user_settings``, when given, is read instead of ``settings.WEBHOOKS``.
    """

    def __init__(self, user_settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(setting_name="WEBHOOKS", defaults=DEFAULTS, label="webhook", user_settings=user_settings)

    @property
    def LEASE_SECONDS(self) -> float:
        """The lease set, or the default's: twice ``TIMEOUT_SECONDS``, at least 60."""
        lease = self.user_settings.get("LEASE_SECONDS")
        if lease is None:
            lease = max(60, 2 * self.TIMEOUT_SECONDS)
        return lease


webhook_settings = WebhookSettings()
