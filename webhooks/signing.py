"""Webhook signatures and retry timing: pure functions, no Django.

A receiver verifies ``X-Webhook-Signature: sha256=<hex>`` as
``HMAC-SHA256(secret, f"{X-Webhook-Timestamp}.".encode() + raw_body)`` and rejects old timestamps,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_PREFIX = "sha256="


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Webhook-Signature`` header value for a body sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(*, secret: str, timestamp: int, body: bytes, signature: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: a matching signature on a timestamp at most ``tolerance`` seconds old."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature)


def retry_delay(attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait after ``attempts`` failed deliveries: doubling from ``base`` up to ``cap``."""
    return min(cap, base * 2 ** (attempts - 1))
