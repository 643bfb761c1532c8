"""Failure detection on a snapshot, and the writes of the statistics and the history it feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from detection import judge
from detection.adaptation import PrinterMemory
from detection.conf import detection_settings
from detection.image import decode_image
from detection.models import Prediction, PrinterStats
from detection.postprocess import Detection, failure_score
from detection.region import Region, decode_size, detect_in_region
from detection.runner import ModelUnavailable, get_detector
from detection.temporal import STATS_FIELDS, TemporalStats


@dataclass(frozen=True)
class Score:
    """The model's reading of one snapshot: its detections, the image score ``p`` they sum to, and the
    frame's size (the frame the detections are in)."""

    p: float
    detections: list[Detection]
    width: int
    height: int


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
    return Score(p=failure_score(detections), detections=detections, width=image.width, height=image.height)


def printer_stats_create(*, printer) -> PrinterStats:
    """The printer's zeroed statistics row, made with the printer."""
    return PrinterStats.objects.create(printer=printer)


def printer_stats_print_start(*, stats: PrinterStats) -> None:
    """Restart the per-print statistics for a new print; call under the printer's lock.

    The printer's memory carries over: its camera sees the same scene every print.
    """
    _state_save(stats, judge.print_started(_state_of(stats)), ["last_verdict", "score_ewm"])


def prediction_record(*, stats: PrinterStats, print_id: int, score: Score, sensitivity: float) -> Prediction:
    """Count a scored snapshot in the statistics, judge it, and add it to the print's history.

    ``detection.judge.judge_snapshot`` does the math: the spec's ``temporal_stats`` follow ``p``;
    the verdict follows the configured rule (``VERDICT_RULE``), by default the score after the
    printer's memory discounted what its camera always shows, against its clean baseline; a
    snapshot judged ok teaches the memory. Call under the printer's lock, inside the transaction:
    the row is read, updated and written back once, so two workers never lose an update.
    """
    now = timezone.now()
    judgement = judge.judge_snapshot(
        _state_of(stats),
        p=score.p,
        detections=score.detections,
        width=score.width,
        height=score.height,
        sensitivity=sensitivity,
        rules=detection_settings.rules(),
    )
    stats.last_p, stats.last_predicted_at = score.p, now
    _state_save(stats, judgement.state, ["last_p", "last_predicted_at", "last_verdict", "score_ewm", "memory"])
    return Prediction.objects.create(
        print_id=print_id,
        created_at=now,
        p=score.p,
        score=judgement.score,
        verdict=judgement.verdict,
        detections=detections_as_lists(score.detections),
        **judgement.state.stats.as_dict(),
    )


def _state_of(stats: PrinterStats) -> judge.PrinterState:
    """The printer's state as the pure judging code reads it."""
    return judge.PrinterState(
        stats=TemporalStats.of(stats),
        memory=PrinterMemory.from_json(stats.memory),
        score_ewm=stats.score_ewm,
        last_verdict=stats.last_verdict,
    )


def _state_save(stats: PrinterStats, state: judge.PrinterState, fields: list[str]) -> None:
    """Write ``state`` onto the row and save the statistics and ``fields``."""
    stats.set_temporal_stats(state.stats)
    stats.memory, stats.score_ewm, stats.last_verdict = state.memory.as_json(), state.score_ewm, state.last_verdict
    stats.save(update_fields=[*STATS_FIELDS, *fields])


def prediction_prune(*, now: datetime | None = None) -> int:
    """Delete predictions older than the retention setting; returns how many were deleted.

    Only the timeline goes: each print keeps its count and its warning and failure times.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted, _ = Prediction.objects.filter(created_at__lt=cutoff).delete()
    return deleted
