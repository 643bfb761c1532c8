"""Writes of prints: the one place a print starts, escalates and ends, and where its snapshots are scored."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from detection.models import Prediction
from detection.postprocess import Detection
from detection.services import Score, prediction_record, printer_stats_print_start, snapshot_score
from detection.temporal import STATS_FIELDS, TemporalStats
from detection.verdict import Verdict
from printers.models import Printer
from printers.selectors import PRINTER_NOT_FOUND, PRINTER_NOT_PRINTING, printer_current_print_id_and_roi
from printers.services import printer_lock
from prints.models import Print
from webhooks.services import webhook_event_enqueue

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


def print_escalate(*, print_: Print, prediction: Prediction) -> None:
    """Stamp the first time a print reaches warning and failure, and tell its app once each.

    Call under the printer's lock, in the transaction that records the prediction.
    """
    reached = []
    if prediction.verdict in (Verdict.WARNING, Verdict.FAILURE) and print_.warning_at is None:
        print_.warning_at = prediction.created_at
        reached.append(("warning_at", EVENT_PRINT_WARNING))
    if prediction.verdict == Verdict.FAILURE and print_.failure_at is None:
        print_.failure_at = prediction.created_at
        reached.append(("failure_at", EVENT_PRINT_FAILURE))
    if not reached:
        return
    print_.save(update_fields=[field for field, _ in reached])
    summary = {
        "p": prediction.p,
        "verdict": prediction.verdict,
        "created_at": prediction.created_at.isoformat(),
        "temporal_stats": {name: getattr(prediction, name) for name in STATS_FIELDS},
    }
    for _, event in reached:
        _print_event_enqueue(event, print_, prediction=summary)


def _print_event_enqueue(event: str, print_: Print, *, prediction: dict | None = None) -> None:
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
    model cannot run; in each case nothing is counted.
    """
    received_at = timezone.now()
    try:
        current_print_id, roi = printer_current_print_id_and_roi(printer_id=printer_id, owner=owner)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None
    if current_print_id is None:
        raise Http404(PRINTER_NOT_PRINTING)
    score = snapshot_score(image_bytes, roi=roi)
    prediction = _prediction_record_for_current_print(
        owner=owner, printer_id=printer_id, score=score, received_at=received_at
    )
    return PredictionResult(
        p=score.p,
        temporal_stats=TemporalStats(**{name: getattr(prediction, name) for name in STATS_FIELDS}),
        detections=score.detections,
        verdict=Verdict(prediction.verdict),
    )


@transaction.atomic
def _prediction_record_for_current_print(*, owner, printer_id: int, score: Score, received_at) -> Prediction:
    """Under the printer's lock: count the score in the print that was current when it arrived."""
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
    prediction = prediction_record(
        stats=printer.stats, print_id=current_print.pk, score=score, sensitivity=printer.sensitivity
    )
    print_escalate(print_=current_print, prediction=prediction)
    return prediction
