"""One snapshot of a print: checked, scored, counted in the print's statistics, escalated."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from detection.postprocess import Detection
from detection.region import Region
from detection.runner import ModelUnavailable
from detection.services import prediction_record, snapshot_score
from detection.temporal import TemporalStats
from detection.verdict import Verdict
from obico_api.errors import ErrorCode, ServiceError
from printers.models import Printer
from printers.selectors import PRINTER_NOT_FOUND, PRINTER_NOT_PRINTING, printer_current_print_id_and_roi
from printers.services import printer_lock
from prints.services.alerts import print_escalate
from prints.services.files import files_deleted_on_error

logger = logging.getLogger(__name__)

PRINT_ENDED_DURING_PREDICT = "The print this snapshot belongs to has ended."
# The spec's 503 sentence when the detector cannot be loaded or run (why is logged, never sent).
MODEL_UNAVAILABLE = "Failed to perform failure detection."


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
    after the snapshot arrived), ``InvalidImage`` for bad bytes and ``ServiceError``
    (``model_unavailable``, its reason logged) when the model cannot run; in each case nothing is
    counted. A frame that raises an alert is kept (``print_escalate``); its file is deleted if the
    transaction then fails.
    """
    received_at = timezone.now()
    roi = _printing_printer_roi(owner=owner, printer_id=printer_id)
    try:
        score = snapshot_score(image_bytes, roi=roi)
    except ModelUnavailable as exc:
        logger.error("Failure detection failed for printer %s: %s", printer_id, exc)
        raise ServiceError(MODEL_UNAVAILABLE, code=ErrorCode.MODEL_UNAVAILABLE) from exc
    with files_deleted_on_error() as written, transaction.atomic():
        printer = _printing_printer_lock(owner=owner, printer_id=printer_id, received_at=received_at)
        previous_verdict = printer.stats.last_verdict
        prediction = prediction_record(
            stats=printer.stats, print_id=printer.current_print_id, score=score, sensitivity=printer.sensitivity
        )
        alert = print_escalate(
            print_=printer.current_print,
            prediction=prediction,
            previous_verdict=previous_verdict,
            image_bytes=image_bytes,
        )
        if alert is not None and alert.snapshot:
            written.append(alert.snapshot.name)
    return PredictionResult(
        p=score.p,
        temporal_stats=TemporalStats.of(prediction),
        detections=score.detections,
        verdict=Verdict(prediction.verdict),
    )


def _printing_printer_roi(*, owner, printer_id: int) -> Region | None:
    """The region of interest of the owner's printer; ``Http404`` unless it is the owner's and printing.

    One indexed query, no lock: the check before any decoding.
    """
    try:
        current_print_id, roi = printer_current_print_id_and_roi(printer_id=printer_id, owner=owner)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None
    if current_print_id is None:
        raise Http404(PRINTER_NOT_PRINTING)
    return roi


def _printing_printer_lock(*, owner, printer_id: int, received_at: datetime) -> Printer:
    """Take the printer's lock; ``Http404`` unless it still prints the print that was current at ``received_at``."""
    try:
        printer = printer_lock(printer_id=printer_id, owner=owner)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None
    if printer.current_print is None:
        raise Http404(PRINTER_NOT_PRINTING)
    if printer.current_print.started_at > received_at:
        # The snapshot's print ended (and another began) while the model ran: it is stale.
        raise Http404(PRINT_ENDED_DURING_PREDICT)
    return printer
