"""What a printer's camera usually shows: per-printer memory against false alarms. Pure math, no Django.

A camera watches one printer for hours, and most of what a detector fires on by mistake sits still:
a clip, a glowing silicone sock, a label, a cable. Two things are learned from the snapshots the
verdict judged ``ok`` (and frozen while it is above ok, so a failure never teaches its own baseline):

- **where the model fires on this printer's clean frames** (``static``): a 20 x 20 grid over the
  frame (the detector's own stride-16 grid at 320 x 320) holding, per cell, a moving average of the
  confidence of the detections centred there. A detection is *discounted* by the highest level learned
  around its centre (the cell and its 8 neighbours, as box centres jitter by a cell): something that
  has sat there at 0.4 since the print began adds nothing, while a failure that appears on it at 0.9
  still adds 0.5;
- **the printer's clean score** (``baseline``): a moving average of the discounted score, for what
  does not stay in one place.

Both learn at ``1 / n`` for the first snapshots of a printer's life (an exact running mean, so a new
printer adapts within its first print's warm-up) and then at ``rate_floor`` a snapshot, so they
follow the camera over hours. Only snapshots that look clean teach (``detection.judge``): after the
warm-up, none whose smoothed excess is near the warning threshold, so a failure is never absorbed. Both
persist across prints: the sock is there every time. The grid is stored sparse, cells under
``forget_below`` dropped, so a printer's row stays small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from detection.defaults import DEFAULTS
from detection.postprocess import Detection

GRID = 20  # cells per side: the detector's stride-16 grid at its 320 x 320 input


@dataclass(frozen=True)
class AdaptationRule:
    """How fast a printer's memory learns and how much it may discount (``ADAPTATION_*`` in ``detection.defaults``)."""

    rate_floor: float = DEFAULTS["ADAPTATION_RATE_FLOOR"]
    learn_below: float = DEFAULTS["ADAPTATION_LEARN_BELOW"]
    baseline_cap: float = DEFAULTS["ADAPTATION_BASELINE_CAP"]
    forget_below: float = DEFAULTS["ADAPTATION_FORGET_BELOW"]


@dataclass(frozen=True)
class PrinterMemory:
    """A printer's learned clean state: ``static`` cell -> level, ``baseline``, and snapshots learned."""

    static: Mapping[int, float] = field(default_factory=dict)
    baseline: float = 0.0
    learned: int = 0

    def as_json(self) -> dict:
        """The JSON stored on the printer's statistics row (keys are strings in JSON).

        Floats are kept whole (JSON round-trips them exactly), so the stored memory is exactly the
        one computed: the row after any order of snapshots equals their replay in that order.
        """
        return {
            "static": {str(cell): level for cell, level in sorted(self.static.items())},
            "baseline": self.baseline,
            "learned": self.learned,
        }

    @classmethod
    def from_json(cls, data: Mapping | None) -> PrinterMemory:
        """The memory stored by ``as_json``; empty for a new printer (None or {})."""
        if not data:
            return cls()
        return cls(
            static={int(cell): float(level) for cell, level in data.get("static", {}).items()},
            baseline=float(data.get("baseline", 0.0)),
            learned=int(data.get("learned", 0)),
        )


def cell_of(detection: Detection, width: int, height: int) -> int:
    """The grid cell of a detection's centre (row-major), for a frame of ``width`` x ``height`` pixels."""
    column = min(GRID - 1, max(0, int(detection.xc / width * GRID)))
    row = min(GRID - 1, max(0, int(detection.yc / height * GRID)))
    return row * GRID + column


def _around(cell: int) -> Iterable[int]:
    """The cell and its (up to 8) neighbours."""
    row, column = divmod(cell, GRID)
    for r in range(max(0, row - 1), min(GRID, row + 2)):
        for c in range(max(0, column - 1), min(GRID, column + 2)):
            yield r * GRID + c


def static_level(memory: PrinterMemory, cell: int) -> float:
    """The highest level learned at ``cell`` or next to it."""
    return max((memory.static.get(near, 0.0) for near in _around(cell)), default=0.0)


def discounted_score(memory: PrinterMemory, detections: Iterable[Detection], width: int, height: int) -> float:
    """The snapshot's score after discounting what this printer's camera always shows: in [0, 1].

    Each detection's confidence less the static level around its centre (not below 0), summed and
    capped at 1 like ``p`` (``postprocess.failure_score``).
    """
    total = 0.0
    for detection in detections:
        total += max(0.0, detection.confidence - static_level(memory, cell_of(detection, width, height)))
    return min(1.0, total)


def learn(
    memory: PrinterMemory,
    detections: Iterable[Detection],
    width: int,
    height: int,
    score: float,
    rule: AdaptationRule,
) -> PrinterMemory:
    """The memory after one more clean snapshot (call only when the verdict is ``ok``).

    Every cell moves towards the highest confidence of the detections centred in it this snapshot
    (0 where there are none), and the baseline towards the snapshot's discounted ``score``.
    """
    learned = memory.learned + 1
    rate = max(1 / learned, rule.rate_floor)
    seen: dict[int, float] = {}
    for detection in detections:
        cell = cell_of(detection, width, height)
        seen[cell] = max(seen.get(cell, 0.0), detection.confidence)
    static = {}
    for cell in memory.static.keys() | seen.keys():
        level = memory.static.get(cell, 0.0)
        level += rate * (seen.get(cell, 0.0) - level)
        if level >= rule.forget_below:
            static[cell] = level
    baseline = memory.baseline + rate * (score - memory.baseline)
    return replace(memory, static=static, baseline=min(baseline, rule.baseline_cap), learned=learned)
