"""The webhook events of a print and their payloads, queued in the caller's transaction (``webhooks``)."""

from __future__ import annotations

from detection.models import Prediction
from prints.models import Alert, Print
from prints.signing import alert_snapshot_link
from webhooks.services import webhook_event_enqueue

EVENT_PRINT_STARTED = "print.started"
EVENT_PRINT_FINISHED = "print.finished"
EVENT_PRINT_WARNING = "print.warning"
EVENT_PRINT_FAILURE = "print.failure"

EVENT_OF_LEVEL = {Alert.Level.WARNING: EVENT_PRINT_WARNING, Alert.Level.FAILURE: EVENT_PRINT_FAILURE}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def print_event_enqueue(
    event: str, print_: Print, *, prediction: dict | None = None, alert: dict | None = None
) -> None:
    """Queue the event for the app that started the print, in the caller's transaction."""
    data = {
        "printer_id": print_.printer_id,
        "print": {
            "id": print_.pk,
            "filename": print_.filename,
            "status": print_.status,
            "started_at": _iso(print_.started_at),
            "ended_at": _iso(print_.ended_at),
            "warning_at": _iso(print_.warning_at),
            "failure_at": _iso(print_.failure_at),
        },
    }
    if prediction is not None:
        data["prediction"] = prediction
    if alert is not None:
        data["alert"] = alert
    webhook_event_enqueue(event=event, application_id=print_.application_id, data=data)


def print_alert_events_enqueue(*, print_: Print, prediction: Prediction, alert: Alert, first_warning: bool) -> None:
    """Queue the event of the alert's level, with the prediction and a signed link to the snapshot.

    ``first_warning``: the print reached warning for the first time with this prediction. A jump
    from ok straight to failure does, so it sends the warning event before the failure's, as ever.
    """
    summary = {
        "p": prediction.p,
        "verdict": prediction.verdict,
        "created_at": prediction.created_at.isoformat(),
        "temporal_stats": alert.temporal_stats,
    }
    alert_summary = {"id": alert.pk, "level": alert.level, "snapshot_url": alert_snapshot_link(alert)}
    if alert.level == Alert.Level.FAILURE and first_warning:
        print_event_enqueue(EVENT_PRINT_WARNING, print_, prediction=summary, alert=alert_summary)
    print_event_enqueue(EVENT_OF_LEVEL[alert.level], print_, prediction=summary, alert=alert_summary)
