"""Alerts with the owners' feedback, written as a dataset ``training/dataset.py`` reads.

Layout (the data root's own, so the folders merge into ``shared/datasets``)::

    DIR/spaghetti/train/images/alert-<id>.jpg     confirmed failures: the untagged snapshot
    DIR/spaghetti/train/labels/alert-<id>.txt     their detections as YOLO lines of class 1 (spaghetti)
    DIR/clean-prints/images/alert-<id>.jpg        false alarms: negatives (no "(N)" in the name, so
                                                  dataset.clean_prints counts them in the training half)
    DIR/manifest.json                             alert id, print id, level, outcome and file names of each

``dataset.spaghetti_split(DIR, "train")`` and ``dataset.training_negatives(DIR)`` load them. This module
never imports the training code (the service never does); the test proves the loading.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prints.models import Alert

# training/dataset.py: SPAGHETTI_CLASS, and the folders spaghetti_split and clean_prints read.
SPAGHETTI_CLASS = 1
FAILURES_FOLDER = Path("spaghetti") / "train"
NEGATIVES_FOLDER = Path("clean-prints") / "images"
MANIFEST = "manifest.json"


@dataclass
class ExportResult:
    failures: int = 0
    false_alarms: int = 0
    skipped: list[dict] = field(default_factory=list)


def yolo_label_lines(detections: Sequence, *, width: int, height: int) -> list[str]:
    """``class xc yc w h`` lines, normalised to the frame and clipped to it, of the spec's detections."""
    lines = []
    for _, (xc, yc, w, h) in detections:
        x1, y1 = max(0.0, xc - w / 2), max(0.0, yc - h / 2)
        x2, y2 = min(float(width), xc + w / 2), min(float(height), yc + h / 2)
        if x2 <= x1 or y2 <= y1:
            continue
        values = ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)
        lines.append(f"{SPAGHETTI_CLASS} " + " ".join(f"{v:.6f}" for v in values))
    return lines


def alert_feedback_export(*, folder: Path) -> ExportResult:
    """Write every alert the owners answered into ``folder`` (see the module's docstring).

    An alert recorded without a snapshot (past its owner's storage quota) or whose file is gone, and
    a confirmed failure without a detection to label, are skipped and listed in the manifest with the
    reason: as an image without boxes a failure would teach the model that a failure looks clean.
    """
    result = ExportResult()
    entries = []
    answered = Alert.objects.exclude(feedback="").order_by("id")
    for alert in answered.iterator():
        stem = f"alert-{alert.pk}"
        entry = {"alert_id": alert.pk, "print_id": alert.print_id, "level": alert.level, "outcome": alert.feedback}
        if not alert.snapshot:
            result.skipped.append({**entry, "reason": "no snapshot was stored"})
            continue
        labels = yolo_label_lines(alert.detections, width=alert.frame_width, height=alert.frame_height)
        if alert.feedback == Alert.Feedback.FAILURE and not labels:
            result.skipped.append({**entry, "reason": "no detection to label"})
            continue
        try:
            with alert.snapshot.open("rb") as source:
                image = source.read()
        except FileNotFoundError:
            result.skipped.append({**entry, "reason": "snapshot file missing"})
            continue
        if alert.feedback == Alert.Feedback.FAILURE:
            image_name = FAILURES_FOLDER / "images" / f"{stem}.jpg"
            label_name = FAILURES_FOLDER / "labels" / f"{stem}.txt"
            _write(folder / label_name, "".join(f"{line}\n" for line in labels).encode())
            entry.update(image=str(image_name), label=str(label_name))
            result.failures += 1
        else:
            image_name = NEGATIVES_FOLDER / f"{stem}.jpg"
            entry.update(image=str(image_name), label=None)
            result.false_alarms += 1
        _write(folder / image_name, image)
        entries.append(entry)
    manifest = {"alerts": entries, "skipped": result.skipped}
    _write(folder / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return result


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
