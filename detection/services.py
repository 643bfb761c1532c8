"""Failure detection on a snapshot: decode, run the model, update the printer's statistics."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from detection import temporal
from detection.image import decode_image
from detection.models import PrinterStats
from detection.postprocess import Detection, failure_score
from detection.runner import ModelUnavailable, get_detector
from detection.selectors import printer_stats_lock
from printers.models import Printer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionResult:
    """What one predict returns: the image score, the statistics after it, the detections."""

    p: float
    temporal_stats: temporal.TemporalStats
    detections: list[Detection]


def predict(*, printer: Printer, image_bytes: bytes) -> PredictionResult:
    """Score one snapshot of the printer's current print and count it in the statistics.

    The model runs before any transaction; only then is the statistics row locked and updated,
    so a slow inference never holds a lock and two workers never lose an update.
    Raises ``Http404`` when the printer is not printing, ``InvalidImage`` for bad bytes and
    ``ModelUnavailable`` when the model cannot run; in each case nothing is counted.
    """
    print_id = printer.current_print_id
    if print_id is None:
        raise Http404("The printer is not printing.")
    try:
        detector = get_detector()
    except ModelUnavailable:
        decode_image(image_bytes)  # a bad upload is still the caller's 400 while the model is down
        raise
    image = decode_image(image_bytes, target_size=detector.input_size)
    detections = detector.detect(image)
    p = failure_score(detections)

    with transaction.atomic():
        stats = printer_stats_lock(printer_id=printer.pk)
        if stats.printer.current_print_id != print_id:
            # The print ended (or another began) while the model ran: this snapshot is stale.
            raise Http404("The print this snapshot belongs to has ended.")
        new_stats = temporal.add_prediction(stats.temporal_stats(), p)
        stats.set_temporal_stats(new_stats)
        stats.last_p = p
        stats.last_predicted_at = timezone.now()
        stats.save(update_fields=[*PrinterStats.STATS_FIELDS, "last_p", "last_predicted_at"])
    return PredictionResult(p=p, temporal_stats=new_stats, detections=detections)
