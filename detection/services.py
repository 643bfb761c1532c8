"""Failure detection on a snapshot: decode, run the model, update the printer's statistics."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from detection import sql, temporal
from detection.image import ImageLimits, decode_image
from detection.models import Prediction, PrinterStats
from detection.postprocess import Detection, failure_score
from detection.runner import ModelUnavailable, get_detector
from detection.selectors import printer_current_print_id, printer_stats_lock
from detection.verdict import Verdict, VerdictRule, verdict_of
from printers.models import Printer
from printers.selectors import PRINTER_NOT_FOUND, PRINTER_NOT_PRINTING
from webhooks.services import EVENT_PRINT_FAILURE, EVENT_PRINT_WARNING, webhook_event_enqueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionResult:
    """What one predict returns: the image score, the statistics after it, the detections, the verdict."""

    p: float
    temporal_stats: temporal.TemporalStats
    detections: list[Detection]
    verdict: Verdict


def detections_as_lists(detections: list[Detection]) -> list:
    """The spec's ``[confidence, [xc, yc, w, h]]`` pairs."""
    return [[d.confidence, [d.xc, d.yc, d.w, d.h]] for d in detections]


def image_limits() -> ImageLimits:
    """What an upload may cost to decode, from ``settings.DETECTION`` (README, "Security")."""
    config = settings.DETECTION
    return ImageLimits(
        max_pixels=config["MAX_PIXELS"],
        max_full_decode_pixels=config["MAX_FULL_DECODE_PIXELS"],
        max_aspect_ratio=config["MAX_ASPECT_RATIO"],
        max_jpeg_scans=config["MAX_JPEG_SCANS"],
        max_bytes=config["MAX_IMAGE_BYTES"],
        max_webp_bytes=config["MAX_WEBP_BYTES"],
    )


def predict(*, owner, printer_id: int, image_bytes: bytes) -> PredictionResult:
    """Score one snapshot of the owner's printer's current print and count it in the statistics.

    First one cheap query checks that the printer is the owner's and printing, so a caller can
    only make us decode images for its own printing printers; then the image is checked from its
    header against the limits and decoded, and the model runs, outside any transaction; then one
    transaction locks the statistics row (matching only the owner's printer), reads the printer
    again and updates the row, so a slow inference never holds a lock, two workers never lose an
    update, and a print that ended while the model ran is not counted.
    Raises ``Http404`` for a printer that is not the owner's or not printing (or whose print began
    after the snapshot arrived), ``InvalidImage`` for bad bytes and ``ModelUnavailable`` when the
    model cannot run; in each case nothing is counted.
    """
    received_at = timezone.now()
    try:
        current_print_id = printer_current_print_id(printer_id=printer_id, owner=owner)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None
    if current_print_id is None:
        raise Http404(PRINTER_NOT_PRINTING)
    limits = image_limits()
    try:
        detector = get_detector()
    except ModelUnavailable:
        decode_image(image_bytes, limits=limits)  # a bad upload is still the caller's 400 while the model is down
        raise
    image = decode_image(image_bytes, target_size=detector.input_size, limits=limits)
    detections = detector.detect(image)
    p = failure_score(detections)

    with transaction.atomic():
        try:
            stats = printer_stats_lock(printer_id=printer_id, owner=owner)
        except PrinterStats.DoesNotExist:
            raise Http404(PRINTER_NOT_FOUND) from None
        current_print = stats.printer.current_print
        if current_print is None:
            raise Http404(PRINTER_NOT_PRINTING)
        if current_print.started_at > received_at:
            # The snapshot's print ended (and another began) while the model ran: it is stale.
            raise Http404("The print this snapshot belongs to has ended.")
        now = timezone.now()
        new_stats = temporal.add_prediction(stats.temporal_stats(), p)
        verdict = verdict_of(new_stats, sensitivity=stats.printer.sensitivity, rule=VerdictRule(**settings.VERDICT))
        stats.set_temporal_stats(new_stats)
        stats.last_p, stats.last_predicted_at, stats.last_verdict = p, now, verdict
        # The two writes every predict makes, as stats.save(update_fields=...) and
        # Prediction.objects.create(...) would make them, without the ORM's per-call compiling.
        sql.update_fields(stats, [*PrinterStats.STATS_FIELDS, "last_p", "last_predicted_at", "last_verdict"])
        prediction = Prediction(
            print=current_print,
            created_at=now,
            p=p,
            verdict=verdict,
            detections=detections_as_lists(detections),
            **{field: getattr(new_stats, field) for field in PrinterStats.STATS_FIELDS},
        )
        sql.insert(prediction)
        _record_escalation(current_print, verdict, prediction)
    return PredictionResult(p=p, temporal_stats=new_stats, detections=detections, verdict=verdict)


def _record_escalation(current_print, verdict: Verdict, prediction: Prediction) -> None:
    """Stamp the first time a print reaches warning and failure, and tell its app once each."""
    reached = []
    if verdict in (Verdict.WARNING, Verdict.FAILURE) and current_print.warning_at is None:
        current_print.warning_at = prediction.created_at
        reached.append(("warning_at", EVENT_PRINT_WARNING))
    if verdict is Verdict.FAILURE and current_print.failure_at is None:
        current_print.failure_at = prediction.created_at
        reached.append(("failure_at", EVENT_PRINT_FAILURE))
    if not reached:
        return
    current_print.save(update_fields=[field for field, _ in reached])
    summary = {
        "p": prediction.p,
        "verdict": prediction.verdict,
        "created_at": prediction.created_at.isoformat(),
        "temporal_stats": {field: getattr(prediction, field) for field in PrinterStats.STATS_FIELDS},
    }
    for _, event in reached:
        webhook_event_enqueue(event=event, print_=current_print, prediction=summary)


def prediction_prune(*, now=None) -> int:
    """Delete predictions older than the retention setting; returns how many were deleted.

    Only the timeline goes: each print keeps its count and its warning and failure times.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted, _ = Prediction.objects.filter(created_at__lt=cutoff).delete()
    return deleted
