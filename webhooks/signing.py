"""Webhook signatures: pure functions, no Django.

A delivery carries ``X-Webhook-Id``, ``X-Webhook-Event``, ``X-Webhook-Timestamp`` and
``X-Webhook-Signature: v1=<hex>``, where ``<hex>`` is
``HMAC-SHA256(secret, f"{id}.{timestamp}.{event}.".encode() + raw_body)``. The id and the event are
signed with the body, so a captured delivery cannot be replayed under a new id (past a receiver's
dedupe) or as another event; a receiver rejects old timestamps, so it cannot be replayed later
either, and dedupes on the id (the body's ``id``, the same value) within the window.

The id is a UUID and the timestamp digits, so neither holds a dot; the body is JSON, starting with
``{``, which no event name holds: each part of the signed string has one reading.
"""

from __future__ import annotations

import hashlib
import hmac

# The scheme's version, so a later one can be sent beside it while receivers move over.
SIGNATURE_PREFIX = "v1="


def sign(*, secret: str, event_id: str, timestamp: int, event: str, body: bytes) -> str:
    """The ``X-Webhook-Signature`` header value for event ``event_id`` sent at ``timestamp`` (Unix seconds)."""
    signed = f"{event_id}.{timestamp}.{event}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    *,
    secret: str,
    event_id: str,
    timestamp: int,
    event: str,
    body: bytes,
    signature: str,
    now: int,
    tolerance: int = 300,
) -> bool:
    """What a receiver does: a matching signature on a timestamp at most ``tolerance`` seconds old.

    ``event_id``, ``timestamp`` and ``event`` are the headers' values as received; then dedupe on
    ``event_id``, which equals the body's ``id``.
    """
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, event_id=event_id, timestamp=timestamp, event=event, body=body)
    # As bytes: compare_digest refuses a str holding non-ASCII, which a forged header may.
    return hmac.compare_digest(expected.encode(), signature.encode())
