"""Print sequences and what replaying them told the owner: pure, no Django.

A sequence is a folder of frames in name order, with an optional ``onset.txt`` naming the first
failing frame (a file name, or a 0-based index) and an optional ``meta.json`` (``kind``, ``print``,
``look``, as ``training/sequences.py`` writes them). A sequence without an onset is clean;
if it is shorter than ``min_snapshots``, each frame is repeated evenly until it is that long.

Each sequence is replayed on printers of three histories (``history_prints``):

- ``new``: a brand-new printer, the print its first;
- ``short``: a printer that has run one short clean print (``SHORT_HISTORY`` snapshots) of another
  print of the same camera;
- ``seasoned``: a printer that has run every other clean print of the same camera, each replayed to
  ``min_snapshots``: hours of real clean frames, never p = 0 by fiat.

An ``Outcome`` is one replay's alerts, and from them: ``false_alert`` (an alert before the onset, or
any alert in a clean print), ``delay`` (snapshots from the onset to the first alert, 1 being the
onset snapshot itself) or a miss. ``summarise`` counts them per camera and history.
``prints/alert_replay.py`` replays through the service (``manage.py evaluate_alerts``);
``training/tune_verdict.py`` replays recorded detections through ``detection.judge`` to
choose the verdict's constants.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from detection.verdict import SEVERITY

HISTORIES = ("new", "short", "seasoned")
SHORT_HISTORY = 10
WITHIN = 30  # issue 22's yardstick: alerted within 30 snapshots of the onset
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class Sequence:
    """One print's frames in order, with its onset (None: a clean print) and what ``meta.json`` says."""

    camera: str
    name: str
    frames: tuple[Path, ...]
    onset: int | None = None
    kind: str = "clean"
    print_name: str = ""  # the clean print it was built on, so a seasoned history can leave it out
    look: str = "real"

    def snapshots(self, min_snapshots: int) -> list[Path]:
        """The frames as sent: a clean sequence shorter than ``min_snapshots`` repeats each frame evenly."""
        if self.onset is not None or len(self.frames) >= min_snapshots:
            return list(self.frames)
        count = len(self.frames)
        return [self.frames[index * count // min_snapshots] for index in range(min_snapshots)]


def read_sequences(folder: Path, camera: str) -> list[Sequence]:
    """Every sequence under ``folder``: each subfolder holding frames (searched one level deep)."""
    sequences = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        frames = tuple(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        if not frames:
            continue
        meta = json.loads((path / "meta.json").read_text()) if (path / "meta.json").exists() else {}
        onset = None
        if (path / "onset.txt").exists():
            onset = _onset_index((path / "onset.txt").read_text().strip(), frames)
        sequences.append(
            Sequence(
                camera=camera,
                name=path.name,
                frames=frames,
                onset=onset,
                kind=meta.get("kind", "clean" if onset is None else "failure"),
                print_name=meta.get("print", path.name),
                look=meta.get("look", "real"),
            )
        )
    return sequences


def _onset_index(text: str, frames: tuple[Path, ...]) -> int:
    """The onset as an index into ``frames``: ``text`` is a frame's file name or a 0-based index."""
    names = [frame.name for frame in frames]
    if text in names:
        return names.index(text)
    if text.isdigit() and int(text) < len(frames):
        return int(text)
    raise ValueError(f"onset.txt names no frame of the sequence: {text!r}")


@dataclass
class Outcome:
    """What one replay of a sequence told the owner."""

    camera: str
    sequence: str
    history: str
    kind: str
    look: str
    onset: int | None
    snapshots: int
    alerts: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def of(cls, sequence: Sequence, *, history: str, snapshots: int, alerts: list[tuple[int, str]]) -> Outcome:
        """The outcome of replaying ``sequence`` (``snapshots`` of it) on a printer with ``history``."""
        return cls(
            camera=sequence.camera,
            sequence=sequence.name,
            history=history,
            kind=sequence.kind,
            look=sequence.look,
            onset=sequence.onset,
            snapshots=snapshots,
            alerts=alerts,
        )

    @property
    def false_alert(self) -> bool:
        cut = self.snapshots if self.onset is None else self.onset
        return any(index < cut for index, _ in self.alerts)

    @property
    def delay(self) -> int | None:
        """Snapshots from the onset to the first alert at or after it (1: the onset snapshot); None if none."""
        if self.onset is None:
            return None
        after = [index for index, _ in self.alerts if index >= self.onset]
        return after[0] - self.onset + 1 if after else None

    def as_dict(self) -> dict:
        return {
            "camera": self.camera,
            "sequence": self.sequence,
            "history": self.history,
            "kind": self.kind,
            "look": self.look,
            "onset": self.onset,
            "snapshots": self.snapshots,
            "alerts": self.alerts,
            "false_alert": self.false_alert,
            "delay": self.delay,
        }


def history_prints(history: str, sequence: Sequence, clean: list[Sequence], min_snapshots: int) -> list[list[Path]]:
    """The prints (each its frames in order) a printer of ``history`` ran before ``sequence``.

    Built from the camera's ``clean`` prints other than the one the sequence shows, so a printer
    never learns the very print it is judged on.
    """
    others = [other for other in clean if other.print_name != sequence.print_name]
    if history == "new" or not others:
        return []
    if history == "short":
        return [others[0].snapshots(min_snapshots)[:SHORT_HISTORY]]
    return [other.snapshots(min_snapshots) for other in others]


def summarise(outcomes: list[Outcome]) -> dict:
    """Per camera and history, and per camera overall: false alerts, alerts within ``WITHIN``, delays."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.camera, outcome.history), []).append(outcome)
        groups.setdefault((outcome.camera, "all"), []).append(outcome)
    return {f"{camera}/{history}": _summary(group) for (camera, history), group in sorted(groups.items())}


def _summary(outcomes: list[Outcome]) -> dict:
    clean = [o for o in outcomes if o.onset is None]
    failing = [o for o in outcomes if o.onset is not None]
    result: dict = {
        "clean_prints": len(clean),
        "clean_prints_falsely_alerted": sum(o.false_alert for o in clean),
        "clean_snapshots": sum(o.snapshots for o in clean),
    }
    if failing:
        result.update(_failing_summary(failing))
        kinds = sorted({o.kind for o in failing})
        result["by_kind"] = {kind: _failing_summary([o for o in failing if o.kind == kind]) for kind in kinds}
        looks = sorted({o.look for o in failing})
        result["by_look"] = {look: _failing_summary([o for o in failing if o.look == look]) for look in looks}
    return result


def _failing_summary(failing: list[Outcome]) -> dict:
    delays = [o.delay if o.delay is not None and not o.false_alert else float("inf") for o in failing]
    within = sum(delay <= WITHIN for delay in delays)
    median = statistics.median(delays)
    return {
        "failing": len(failing),
        "false_alert_before_onset": sum(o.false_alert for o in failing),
        f"alerted_within_{WITHIN}": within,
        f"share_within_{WITHIN}": round(within / len(failing), 4),
        "missed": sum(o.delay is None for o in failing),
        # A failure missed, or preceded by a false alert, counts as never alerted.
        "median_delay": median if median != float("inf") else None,
        "first_level_failure": sum(
            bool(o.alerts) and SEVERITY[o.alerts[0][1]] == SEVERITY["failure"] for o in failing if not o.false_alert
        ),
    }
