"""Replay print sequences through the service, snapshot by snapshot, and count what owners would be told.

The yardstick of issue 22: an owner never sees ``p``, they get an alert or silence. So a model and a
verdict rule are judged by the alerts the service itself records: each sequence (``detection.replay``)
is a print started with ``print_start``, its frames sent in order through ``print_snapshot_predict``
(decoding, the detector, the statistics, the verdict, ``print_escalate``'s alert records) and ended
with ``print_finish``, on a printer whose history is real clean prints of the same camera
(``detection.replay.history_prints``). ``manage.py evaluate_alerts`` is the command; it runs in a
database and a media folder of its own, created and destroyed around the run, so it never touches
real data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from detection.conf import detection_settings
from detection.replay import Outcome, Sequence, history_prints
from printers.services import printer_create
from prints.models import Alert
from prints.services import predict
from prints.services.lifecycle import print_finish, print_start


class Replayer:
    """Runs prints on printers of one owner through the service's own print lifecycle."""

    def __init__(self, owner, *, min_snapshots: int, sensitivity: float = 1.0) -> None:
        self.owner = owner
        self.min_snapshots = min_snapshots
        self.sensitivity = sensitivity
        self._printers = 0
        self._histories: dict[tuple, dict] = {}

    def new_printer(self):
        self._printers += 1
        return printer_create(owner=self.owner, name=f"replay {self._printers}", sensitivity=self.sensitivity)

    def run_print(self, printer, frames: list[Path]) -> list[tuple[int, str]]:
        """Start a print, send ``frames`` in order, finish it; the alerts recorded, as (snapshot, level)."""
        printer = print_start(printer=printer, filename="replay.gcode")
        print_id = printer.current_print_id
        for frame in frames:
            predict.print_snapshot_predict(owner=self.owner, printer_id=printer.pk, image_bytes=_read(frame))
        print_finish(printer=printer, status="finished")
        alerts = Alert.objects.filter(print_id=print_id).order_by("created_at", "id")
        # An alert keeps its prediction's statistics; prediction_num counts the print's snapshots from 1.
        return [(alert.temporal_stats["prediction_num"] - 1, alert.level) for alert in alerts]

    def printer_with_history(self, history: str, sequence: Sequence, clean: list[Sequence]):
        """A new printer whose statistics are those of one that ran ``history``'s prints before ``sequence``.

        Each history is run once, on a printer of its own, and its statistics row copied to every
        printer that needs it: a sequence never sees another sequence's snapshots.
        """
        prints = history_prints(history, sequence, clean, self.min_snapshots)
        printer = self.new_printer()
        if not prints:
            return printer
        key = (sequence.camera, history, tuple(tuple(frames) for frames in prints))
        if key not in self._histories:
            ran = self.new_printer()
            for frames in prints:
                self.run_print(ran, frames)
            ran.stats.refresh_from_db()
            self._histories[key] = _stats_fields(ran.stats)
        type(printer.stats).objects.filter(pk=printer.stats.pk).update(**self._histories[key])
        return printer

    def replay(self, sequence: Sequence, history: str, clean: list[Sequence]) -> Outcome:
        printer = self.printer_with_history(history, sequence, clean)
        frames = sequence.snapshots(self.min_snapshots)
        return Outcome.of(sequence, history=history, snapshots=len(frames), alerts=self.run_print(printer, frames))


def _stats_fields(stats) -> dict:
    """Every column of a statistics row but its printer: what a printer's history leaves behind."""
    return {
        f.attname: getattr(stats, f.attname) for f in type(stats)._meta.concrete_fields if f.attname != "printer_id"
    }


_bytes_cache: dict[Path, bytes] = {}


def _read(path: Path) -> bytes:
    if path not in _bytes_cache:
        _bytes_cache[path] = path.read_bytes()
    return _bytes_cache[path]


@contextmanager
def scores_cached() -> Iterator[None]:
    """Score each distinct image once: a repeated frame gets the model's same answer without running it again.

    The model is deterministic, so this changes no result; it is what makes replaying hours of
    repeated clean frames affordable.
    """
    original: Callable = predict.snapshot_score
    cache: dict = {}

    def cached(image_bytes: bytes, *, roi=None):
        key = (hashlib.sha1(image_bytes).digest(), roi, str(detection_settings.MODEL_PATH))  # noqa: S324 - a cache key
        if key not in cache:
            cache[key] = original(image_bytes, roi=roi)
        return cache[key]

    predict.snapshot_score = cached
    try:
        yield
    finally:
        predict.snapshot_score = original
