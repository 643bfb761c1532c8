"""Failure detection on a snapshot, and the writes of the statistics and the history it feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from detection import temporal
from detection.conf import detection_settings
from detection.image import decode_image
from detection.models import Prediction, PrinterStats
from detection.postprocess import Detection, failure_score
from detection.region import Region, decode_size, detect_in_region
from detection.runner import ModelUnavailable, get_detector
from detection.temporal import STATS_FIELDS
from detection.verdict import verdict_of


@dataclass(frozen=True)
class Score:
    """The model's reading of one snapshot: its detections and the image score ``p`` they sum to."""

    p: float
    detections: list[Detection]


def detections_as_lists(detections: list[Detection]) -> list:
    """The spec's ``[confidence, [xc, yc, w, h]]`` pairs."""
    return [[d.confidence, [d.xc, d.yc, d.w, d.h]] for d in detections]


def snapshot_score(image_bytes: bytes, *, roi: Region | None = None) -> Score:
    """Check the upload from its header against the limits, decode it and run the model.

    With a region of interest (``roi``) the model sees only that part of the frame: the frame is
    decoded large enough for the crop to cover the model input (``region.decode_size``), cut to the
    region, and the detections are mapped back to the frame's pixels (``region.detect_in_region``).
    Without one, the whole frame is resized to the model input.
    Runs outside any transaction: it holds no lock while the model works. Raises ``InvalidImage``
    for bad bytes and ``ModelUnavailable`` when the model cannot run; a bad upload is the caller's
    400 even while the model is down.
    """
    limits = detection_settings.image_limits()
    try:
        detector = get_detector()
    except ModelUnavailable:
        decode_image(image_bytes, limits=limits)
        raise
    if roi is None:
        image = decode_image(image_bytes, target_size=detector.input_size, limits=limits)
        detections = detector.detect(image)
    else:
        image = decode_image(image_bytes, target_size=decode_size(roi, detector.input_size), limits=limits)
        detections = detect_in_region(detector.detect, image, roi)
    return Score(p=failure_score(detections), detections=detections)


def printer_stats_create(*, printer) -> PrinterStats:
    """The printer's zeroed statistics row, made with the printer."""
    return PrinterStats.objects.create(printer=printer)


def printer_stats_print_start(*, stats: PrinterStats) -> None:
    """Restart the per-print statistics for a new print; call under the printer's lock."""
    stats.set_temporal_stats(temporal.start_print(stats.temporal_stats()))
    stats.last_verdict = ""
    stats.save(update_fields=[*STATS_FIELDS, "last_verdict"])


def prediction_record(*, stats: PrinterStats, print_id: int, score: Score, sensitivity: float) -> Prediction:
    """Count a scored snapshot in the statistics, judge it, and add it to the print's history.

    Call under the printer's lock, inside the transaction: the row is read, updated and written
    back, so two workers never lose an update.
    """
    now = timezone.now()
    new_stats = temporal.add_prediction(stats.temporal_stats(), score.p)
    verdict = verdict_of(new_stats, sensitivity=sensitivity, rule=detection_settings.verdict_rule())
    stats.set_temporal_stats(new_stats)
    stats.last_p, stats.last_predicted_at, stats.last_verdict = score.p, now, verdict
    stats.save(update_fields=[*STATS_FIELDS, "last_p", "last_predicted_at", "last_verdict"])
    return Prediction.objects.create(
        print_id=print_id,
        created_at=now,
        p=score.p,
        verdict=verdict,
        detections=detections_as_lists(score.detections),
        **new_stats.as_dict(),
    )


def prediction_prune(*, now: datetime | None = None) -> int:
    """Delete predictions older than the retention setting; returns how many were deleted.

    Only the timeline goes: each print keeps its count and its warning and failure times.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted, _ = Prediction.objects.filter(created_at__lt=cutoff).delete()
    return deleted
