"""Signed, expiring links to an alert's snapshot: ``/api/v1/alerts/{id}/snapshot/?signature=...``.

The signature is Django's ``TimestampSigner`` (HMAC-SHA256 with ``SECRET_KEY``, under a salt of its
own, so no other signed value of the project can stand in for it) over the alert's id. Only the
timestamp and the MAC travel in the query string; the id is the one in the path, so a signature made
for one alert never opens another. It works for ``ALERT_SNAPSHOT_URL_MAX_AGE_SECONDS``. Links are built
on ``PUBLIC_BASE_URL``, never on the Host of the request that made them, which its client chooses.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.signing import BadSignature, TimestampSigner
from django.urls import reverse

SIGNATURE_PARAMETER = "signature"
_SALT = "prints.alert-snapshot"
# No signature is longer (a base62 timestamp and a base64 SHA-256 MAC are 50 characters); a longer
# value is refused before any HMAC is computed.
_MAX_SIGNATURE_LENGTH = 100


def _signer() -> TimestampSigner:
    return TimestampSigner(salt=_SALT)


def alert_snapshot_signature(*, alert_id: int) -> str:
    """The query-string signature (``timestamp:mac``) that opens this alert's snapshot from now on."""
    signer = _signer()
    return signer.sign(str(alert_id)).split(signer.sep, 1)[1]


def alert_snapshot_signature_valid(*, alert_id: int, signature: str) -> bool:
    """Whether ``signature`` was made for this alert and is younger than the setting's lifetime."""
    if len(signature) > _MAX_SIGNATURE_LENGTH:
        return False
    signer = _signer()
    try:
        signer.unsign(f"{alert_id}{signer.sep}{signature}", max_age=settings.ALERT_SNAPSHOT_URL_MAX_AGE_SECONDS)
    except BadSignature:  # SignatureExpired is one too
        return False
    return True


def alert_snapshot_url(*, alert_id: int) -> str:
    """The absolute signed link, under ``PUBLIC_BASE_URL``."""
    path = reverse("alert-snapshot", kwargs={"alert_id": alert_id})
    query = urlencode({SIGNATURE_PARAMETER: alert_snapshot_signature(alert_id=alert_id)})
    return f"{settings.PUBLIC_BASE_URL}{path}?{query}"


def alert_snapshot_link(alert) -> str | None:
    """The signed link to an alert's snapshot, or None for an alert recorded without one."""
    return alert_snapshot_url(alert_id=alert.pk) if alert.snapshot else None
