"""When a print rises into warning or failure: its stamps, its alert with a snapshot, and the owner's answer."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Count, Q, Sum
from django.utils import timezone

from detection.conf import detection_settings
from detection.models import Prediction
from detection.temporal import TemporalStats
from detection.verdict import SEVERITY, Verdict
from printers.models import Printer
from prints.alert_images import alert_snapshot_render
from prints.models import Alert, Print
from prints.services.events import print_alert_events_enqueue
from prints.services.files import files_deleted_on_error

logger = logging.getLogger(__name__)

# An alert is recorded when the verdict rises into a level; "" is a print's verdict before its first prediction.
_VERDICT_RANK = {"": 0, **SEVERITY}


def print_escalate(*, print_: Print, prediction: Prediction, previous_verdict: str, image_bytes: bytes) -> Alert | None:
    """Stamp when a print first reaches warning and failure, and record an alert when it rises into one.

    ``previous_verdict`` is the print's verdict before this prediction ("" before its first). A rise
    (ok to warning, ok or warning to failure) records an alert and queues the level's webhook event
    with a signed link to its snapshot, unless (``_alert_level_due``):
    - the level is not armed: it re-arms only once the verdict has stayed below it for
      ``ALERT_REARM_SNAPSHOTS`` snapshots and ``ALERT_REARM_SECONDS`` (``_alert_armed``);
    - the print has recorded ``ALERTS_MAX_PER_PRINT`` alerts of the level already;
    - the owner marked an alert of the level in this print a false alarm.
    The snapshot (``image_bytes``, the predicted frame) is written through the default storage
    within the owner's quota, before the row that names it; without it the alert is still recorded
    and sent (``_alert_snapshot_attach``). If recording the row or its events fails, the file is
    deleted here; once the alert is returned, its file (``alert.snapshot.name``) is the caller's to
    delete if the transaction fails. A frame that does not rise decodes nothing and queries nothing.
    Call under the printer's lock, in the transaction that records the prediction.
    """
    stamped = _print_levels_stamp(print_=print_, prediction=prediction)
    level = _alert_level_due(print_=print_, prediction=prediction, previous_verdict=previous_verdict)
    if level is None:
        return None
    alert = Alert(
        print=print_,
        level=level,
        created_at=prediction.created_at,
        p=prediction.p,
        temporal_stats=TemporalStats.of(prediction).as_dict(),
        detections=prediction.detections,
    )
    # Past ALERT_STORAGE_QUOTA_BYTES the frame is not even decoded again.
    room = settings.ALERT_STORAGE_QUOTA_BYTES - _alert_snapshot_bytes_of_owner(print_=print_)
    if room > 0:
        _alert_snapshot_attach(alert=alert, image_bytes=image_bytes, room=room)
    with files_deleted_on_error() as written:
        if alert.snapshot:
            written.append(alert.snapshot.name)
        alert.save()
        print_alert_events_enqueue(
            print_=print_, prediction=prediction, alert=alert, first_warning="warning_at" in stamped
        )
    return alert


def _print_levels_stamp(*, print_: Print, prediction: Prediction) -> list[str]:
    """Stamp the print's ``warning_at`` and ``failure_at`` the first time it reaches them; the fields stamped."""
    stamped = []
    if prediction.verdict in (Verdict.WARNING, Verdict.FAILURE) and print_.warning_at is None:
        print_.warning_at = prediction.created_at
        stamped.append("warning_at")
    if prediction.verdict == Verdict.FAILURE and print_.failure_at is None:
        print_.failure_at = prediction.created_at
        stamped.append("failure_at")
    if stamped:
        print_.save(update_fields=stamped)
    return stamped


def _alert_level_due(*, print_: Print, prediction: Prediction, previous_verdict: str) -> Alert.Level | None:
    """The level of the alert this prediction raises, or None: see ``print_escalate``."""
    if _VERDICT_RANK[prediction.verdict] <= _VERDICT_RANK[previous_verdict]:
        return None
    level = Alert.Level(prediction.verdict)
    if not _alert_armed(print_=print_, level=level, prediction=prediction):
        return None
    recorded = print_.alerts.filter(level=level).aggregate(
        alerts=Count("id"), false_alarms=Count("id", filter=Q(feedback=Alert.Feedback.FALSE_ALARM))
    )
    if recorded["false_alarms"]:
        return None
    if recorded["alerts"] >= settings.ALERTS_MAX_PER_PRINT:
        logger.info("Print %s has %s %s alerts (ALERTS_MAX_PER_PRINT): no more", print_.pk, recorded["alerts"], level)
        return None
    return level


def _alert_armed(*, print_: Print, level: str, prediction: Prediction) -> bool:
    """Whether an alert of ``level`` may be recorded for this prediction, which rose into it.

    Yes the first time the print reaches the level. After that, only once the verdict has stayed
    below it for ``ALERT_REARM_SNAPSHOTS`` snapshots and ``ALERT_REARM_SECONDS`` since it last stood at
    or above it: frames that alternate between failing and clean raise one alert, not one a rise.
    Read from the print's history, newest first along its (print, prediction_num) index.
    """
    at_or_above = [verdict for verdict, rank in SEVERITY.items() if rank >= SEVERITY[Verdict(level)]]
    last = (
        Prediction.objects.filter(
            print_id=print_.pk, prediction_num__lt=prediction.prediction_num, verdict__in=at_or_above
        )
        .order_by("-prediction_num")
        .values_list("prediction_num", "created_at")
        .first()
    )
    if last is None:
        return True
    last_num, last_at = last
    snapshots_below = prediction.prediction_num - last_num - 1
    return snapshots_below >= settings.ALERT_REARM_SNAPSHOTS and (
        prediction.created_at - last_at >= timedelta(seconds=settings.ALERT_REARM_SECONDS)
    )


def _alert_snapshot_bytes_of_owner(*, print_: Print) -> int:
    """Bytes of alert snapshots the print's owner has stored (one query).

    Predicts of the owner's other printers run under other locks, so two of them alerting at once
    may each pass the quota by one snapshot.
    """
    owner = Printer.objects.filter(pk=print_.printer_id).values("owner_id")[:1]
    stored = Alert.objects.filter(print__printer__owner_id=owner).aggregate(total=Sum("snapshot_bytes"))
    return stored["total"] or 0


def _alert_snapshot_attach(*, alert: Alert, image_bytes: bytes, room: int) -> None:
    """Render the frame's snapshot and store it on ``alert`` if it fits in ``room`` bytes; never raises.

    A snapshot that cannot be rendered or saved (a full disk, a storage outage) is logged at ERROR
    and left out: losing the picture never loses the alert, fails the predict or rolls back its count.
    """
    try:
        snapshot = alert_snapshot_render(
            image_bytes, limits=detection_settings.image_limits(), max_bytes=settings.ALERT_SNAPSHOT_MAX_BYTES
        )
    except Exception:  # the frame was decoded once already: ours to log, never the caller's to lose
        logger.exception("Could not render the snapshot of a %s alert of print %s", alert.level, alert.print_id)
        return
    alert.frame_width, alert.frame_height = snapshot.frame_width, snapshot.frame_height
    if len(snapshot.jpeg) > room:
        logger.info("Print %s's owner is at ALERT_STORAGE_QUOTA_BYTES: alert kept without snapshot", alert.print_id)
        return
    try:
        alert.snapshot.save("alert.jpg", ContentFile(snapshot.jpeg), save=False)
    except Exception:  # OSError from a full disk, or any storage backend's own error
        logger.exception("Could not store the snapshot of a %s alert of print %s", alert.level, alert.print_id)
        alert.snapshot = ""
        return
    alert.snapshot_bytes = len(snapshot.jpeg)


def alert_feedback_set(*, alert: Alert, outcome: str) -> Alert:
    """Record (or replace) the owner's verdict on an alert: ``failure`` or ``false_alarm``.

    A false alarm silences later alerts of its level in the alert's print (``print_escalate``);
    changing the answer to ``failure`` lifts that.
    """
    alert.feedback = outcome
    alert.feedback_at = timezone.now()
    alert.save(update_fields=["feedback", "feedback_at"])
    return alert
