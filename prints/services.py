"""Writes of prints: the one place a print starts, escalates and ends, where its snapshots are scored,
and where its alerts are recorded, answered and pruned."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from detection.conf import detection_settings
from detection.models import Prediction
from detection.postprocess import Detection
from detection.services import Score, prediction_record, printer_stats_print_start, snapshot_score
from detection.temporal import TemporalStats
from detection.verdict import SEVERITY, Verdict
from printers.models import Printer
from printers.selectors import PRINTER_NOT_FOUND, PRINTER_NOT_PRINTING, printer_current_print_id_and_roi
from printers.services import printer_lock
from prints.alert_images import alert_snapshot_render
from prints.models import ALERT_FILES_FOLDER, Alert, Print
from prints.signing import alert_snapshot_link
from webhooks.services import webhook_event_enqueue

logger = logging.getLogger(__name__)

EVENT_PRINT_STARTED = "print.started"
EVENT_PRINT_FINISHED = "print.finished"
EVENT_PRINT_WARNING = "print.warning"
EVENT_PRINT_FAILURE = "print.failure"

PRINT_ENDED_DURING_PREDICT = "The print this snapshot belongs to has ended."


@transaction.atomic
def print_start(*, printer: Printer, filename: str, application=None) -> Printer:
    """Start a print on an idle printer and reset the per-print statistics.

    A printer that is already printing is refused, never silently restarted (the spec's 400).
    ``application`` is the OAuth app starting it: the print's webhooks go to that app.
    """
    printer = printer_lock(printer_id=printer.pk)
    if printer.current_print_id is not None:
        raise ValidationError("The printer is already printing; finish that print first.", code="already_printing")
    new_print = Print.objects.create(
        printer=printer, filename=filename, started_at=timezone.now(), application=application
    )
    printer.current_print = new_print
    printer.save(update_fields=["current_print", "updated_at"])
    printer_stats_print_start(stats=printer.stats)
    _print_event_enqueue(EVENT_PRINT_STARTED, new_print)
    return printer


@transaction.atomic
def print_finish(*, printer: Printer, status: str) -> Printer:
    """End the printer's current print as ``finished`` or ``cancelled``, keeping its count."""
    printer = printer_lock(printer_id=printer.pk)
    ending = printer.current_print
    if ending is None:
        raise Http404(PRINTER_NOT_PRINTING)
    ending.status = status
    ending.ended_at = timezone.now()
    ending.prediction_num = printer.stats.prediction_num
    ending.save(update_fields=["status", "ended_at", "prediction_num"])
    printer.current_print = None
    printer.save(update_fields=["current_print", "updated_at"])
    _print_event_enqueue(EVENT_PRINT_FINISHED, ending)
    return printer


# An alert is recorded when the verdict rises into a level; "" is a print's verdict before its first prediction.
_VERDICT_RANK = {"": 0, **SEVERITY}
EVENT_OF_LEVEL = {Alert.Level.WARNING: EVENT_PRINT_WARNING, Alert.Level.FAILURE: EVENT_PRINT_FAILURE}


def print_escalate(
    *,
    print_: Print,
    prediction: Prediction,
    previous_verdict: str,
    image_bytes: bytes,
    written: list[str],
) -> Alert | None:
    """Stamp when a print first reaches warning and failure, and record an alert when it rises into one.

    ``previous_verdict`` is the print's verdict before this prediction ("" before its first). A rise
    (ok to warning, ok or warning to failure) records an alert and queues the level's webhook event
    with a signed link to its snapshot, unless:
    - the level is not armed: it re-arms only once the verdict has stayed below it for
      ``ALERT_REARM_SNAPSHOTS`` snapshots and ``ALERT_REARM_SECONDS`` (``_alert_armed``);
    - the print has recorded ``ALERTS_MAX_PER_PRINT`` alerts of the level already;
    - the owner marked an alert of the level in this print a false alarm.
    The snapshot is written through the default storage (its name appended to ``written``, for the
    caller to delete if the transaction fails) within the owner's quota; without it the alert is
    still recorded and sent (``_alert_record``). A frame that does not rise decodes nothing and
    queries nothing. Call under the printer's lock, in the transaction that records the prediction.
    """
    stamped = []
    if prediction.verdict in (Verdict.WARNING, Verdict.FAILURE) and print_.warning_at is None:
        print_.warning_at = prediction.created_at
        stamped.append("warning_at")
    if prediction.verdict == Verdict.FAILURE and print_.failure_at is None:
        print_.failure_at = prediction.created_at
        stamped.append("failure_at")
    if stamped:
        print_.save(update_fields=stamped)
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
    alert = _alert_record(print_=print_, level=level, prediction=prediction, image_bytes=image_bytes, written=written)
    summary = {
        "p": prediction.p,
        "verdict": prediction.verdict,
        "created_at": prediction.created_at.isoformat(),
        "temporal_stats": alert.temporal_stats,
    }
    alert_summary = {"id": alert.pk, "level": alert.level, "snapshot_url": alert_snapshot_link(alert)}
    if level == Alert.Level.FAILURE and "warning_at" in stamped:
        # A jump from ok straight to failure reaches warning for the first time too: its event, as ever.
        _print_event_enqueue(EVENT_PRINT_WARNING, print_, prediction=summary, alert=alert_summary)
    _print_event_enqueue(EVENT_OF_LEVEL[level], print_, prediction=summary, alert=alert_summary)
    return alert


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


def _alert_record(
    *, print_: Print, level: str, prediction: Prediction, image_bytes: bytes, written: list[str]
) -> Alert:
    """Record the alert: its snapshot first when the owner's quota has room, then the row that names it.

    Past ``ALERT_STORAGE_QUOTA_BYTES`` the frame is not even decoded again. A snapshot that cannot be
    rendered or saved (a full disk, a storage outage) is logged at ERROR and left out: losing the
    picture never loses the alert, fails the predict or rolls back its count.
    """
    alert = Alert(
        print=print_,
        level=level,
        created_at=prediction.created_at,
        p=prediction.p,
        temporal_stats=TemporalStats.of(prediction).as_dict(),
        detections=prediction.detections,
    )
    room = settings.ALERT_STORAGE_QUOTA_BYTES - _alert_snapshot_bytes_of_owner(print_=print_)
    if room > 0:
        _alert_snapshot_attach(alert=alert, image_bytes=image_bytes, room=room, written=written)
    alert.save()
    return alert


def _alert_snapshot_bytes_of_owner(*, print_: Print) -> int:
    """Bytes of alert snapshots the print's owner has stored (one query).

    Predicts of the owner's other printers run under other locks, so two of them alerting at once
    may each pass the quota by one snapshot.
    """
    owner = Printer.objects.filter(pk=print_.printer_id).values("owner_id")[:1]
    stored = Alert.objects.filter(print__printer__owner_id=owner).aggregate(total=Sum("snapshot_bytes"))
    return stored["total"] or 0


def _alert_snapshot_attach(*, alert: Alert, image_bytes: bytes, room: int, written: list[str]) -> None:
    """Render the frame's snapshot and store it on ``alert`` if it fits in ``room`` bytes; never raises."""
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
    written.append(alert.snapshot.name)
    alert.snapshot_bytes = len(snapshot.jpeg)


def alert_files_delete(*, names: list[str]) -> None:
    """Delete these files from the storage; one that cannot be deleted is logged and left to the sweep."""
    storage = Alert._meta.get_field("snapshot").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # the sweep (alert_files_sweep) removes it later
            logger.exception("Could not delete the alert file %s", name)


@contextmanager
def _files_deleted_on_error() -> Iterator[list[str]]:
    """A list for the names of the files a block writes: if the block raises, they are deleted.

    Wraps a transaction that writes files before the rows naming them: when it rolls back (or its
    commit fails), the files go too. A process killed in between leaves files no row names, which
    ``alert_files_sweep`` deletes an hour later.
    """
    written: list[str] = []
    try:
        yield written
    except BaseException:
        alert_files_delete(names=written)
        raise


def alert_feedback_set(*, alert: Alert, outcome: str) -> Alert:
    """Record (or replace) the owner's verdict on an alert: ``failure`` or ``false_alarm``.

    A false alarm silences later alerts of its level in the alert's print (``print_escalate``);
    changing the answer to ``failure`` lifts that.
    """
    alert.feedback = outcome
    alert.feedback_at = timezone.now()
    alert.save(update_fields=["feedback", "feedback_at"])
    return alert


# A file younger than this may belong to a transaction still running; never swept.
ORPHAN_FILE_MIN_AGE = timedelta(hours=1)
_PRUNE_BATCH = 500


def alert_prune(*, now: datetime | None = None) -> int:
    """Delete alerts older than ``PREDICTION_RETENTION_DAYS`` with their files; returns how many.

    The rows go first, in batches, then their files: a crash in between leaves files no row names
    (the sweep's), never a row whose files are gone.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted = 0
    while batch := list(Alert.objects.filter(created_at__lt=cutoff).values_list("pk", "snapshot")[:_PRUNE_BATCH]):
        Alert.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
        alert_files_delete(names=[name for _, name in batch if name])
        deleted += len(batch)
    return deleted


def alert_files_sweep(*, now: datetime | None = None) -> int:
    """Delete files in the alerts folder that no alert names and that are over an hour old; returns how many.

    They are left by a process killed between writing an alert's files and committing its row, by a
    rollback of an enclosing transaction, by prints deleted with their printer, and by the tagged
    copies alerts kept before migration ``prints.0004`` (now drawn when served).
    """
    storage = Alert._meta.get_field("snapshot").storage
    try:
        _, files = storage.listdir(ALERT_FILES_FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = (now or timezone.now()) - ORPHAN_FILE_MIN_AGE
    deleted = 0
    for start in range(0, len(files), _PRUNE_BATCH):
        names = [f"{ALERT_FILES_FOLDER}/{file}" for file in files[start : start + _PRUNE_BATCH]]
        named = set(Alert.objects.filter(snapshot__in=names).values_list("snapshot", flat=True))
        orphans = [name for name in names if name not in named and _modified_before(storage, name, cutoff)]
        alert_files_delete(names=orphans)
        deleted += len(orphans)
    return deleted


def _modified_before(storage, name: str, cutoff: datetime) -> bool:
    """Whether the file was last written before ``cutoff``; False if it is gone already."""
    try:
        return storage.get_modified_time(name) < cutoff
    except FileNotFoundError:
        return False


def _print_event_enqueue(
    event: str, print_: Print, *, prediction: dict | None = None, alert: dict | None = None
) -> None:
    """Queue the event for the app that started the print (``webhooks``), in the caller's transaction."""

    def iso(value):
        return value.isoformat() if value else None

    data = {
        "printer_id": print_.printer_id,
        "print": {
            "id": print_.pk,
            "filename": print_.filename,
            "status": print_.status,
            "started_at": iso(print_.started_at),
            "ended_at": iso(print_.ended_at),
            "warning_at": iso(print_.warning_at),
            "failure_at": iso(print_.failure_at),
        },
    }
    if prediction is not None:
        data["prediction"] = prediction
    if alert is not None:
        data["alert"] = alert
    webhook_event_enqueue(event=event, application_id=print_.application_id, data=data)


@dataclass(frozen=True)
class PredictionResult:
    """What one predict returns: the image score, the statistics after it, the detections, the verdict."""

    p: float
    temporal_stats: TemporalStats
    detections: list[Detection]
    verdict: Verdict


def print_snapshot_predict(*, owner, printer_id: int, image_bytes: bytes) -> PredictionResult:
    """Score one snapshot of the owner's printer's current print and count it in the statistics.

    First one cheap query checks that the printer is the owner's and printing, so a caller can
    only make us decode images for its own printing printers; then the image is decoded and the
    model runs, outside any transaction, so a slow inference never holds a lock; then one
    transaction takes the printer's lock, checks the print again and records the prediction, so
    two workers never lose an update and a print that ended while the model ran is not counted.
    Raises ``Http404`` for a printer that is not the owner's or not printing (or whose print began
    after the snapshot arrived), ``InvalidImage`` for bad bytes and ``ModelUnavailable`` when the
    model cannot run; in each case nothing is counted. A frame that raises an alert is kept
    (``print_escalate``).
    """
    received_at = timezone.now()
    try:
        current_print_id, roi = printer_current_print_id_and_roi(printer_id=printer_id, owner=owner)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None
    if current_print_id is None:
        raise Http404(PRINTER_NOT_PRINTING)
    score = snapshot_score(image_bytes, roi=roi)
    with _files_deleted_on_error() as written:
        prediction = _prediction_record_for_current_print(
            owner=owner,
            printer_id=printer_id,
            score=score,
            received_at=received_at,
            image_bytes=image_bytes,
            written=written,
        )
    return PredictionResult(
        p=score.p,
        temporal_stats=TemporalStats.of(prediction),
        detections=score.detections,
        verdict=Verdict(prediction.verdict),
    )


@transaction.atomic
def _prediction_record_for_current_print(
    *, owner, printer_id: int, score: Score, received_at, image_bytes: bytes, written: list[str]
) -> Prediction:
    """Under the printer's lock: count the score in the print that was current when it arrived.

    An alert's files are written here, before its row; their names go to ``written``.
    """
    try:
        printer = printer_lock(printer_id=printer_id, owner=owner)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None
    current_print = printer.current_print
    if current_print is None:
        raise Http404(PRINTER_NOT_PRINTING)
    if current_print.started_at > received_at:
        # The snapshot's print ended (and another began) while the model ran: it is stale.
        raise Http404(PRINT_ENDED_DURING_PREDICT)
    previous_verdict = printer.stats.last_verdict
    prediction = prediction_record(
        stats=printer.stats, print_id=current_print.pk, score=score, sensitivity=printer.sensitivity
    )
    print_escalate(
        print_=current_print,
        prediction=prediction,
        previous_verdict=previous_verdict,
        image_bytes=image_bytes,
        written=written,
    )
    return prediction
