"""What the service would tell a printer's owner if its camera saw one image frame after frame.

A detector's image score p only reaches the owner through the temporal statistics and Obico's
verdict rule (``detection.temporal``, ``detection.verdict``), which need the smoothed score to rise
well above the printer's long-term level, and a sudden rise for ``failure``. So two models with the
same AUROC can alert differently: one that scores a failure 0.7 raises a warning where one that
scores it 1.0 also escalates. This replays the service's own code on a steady scene: a printer with
a clean history starts a print, sends clean snapshots (p = 0), then the same scene's p in every
snapshot. Pure: no torch, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from detection.temporal import TemporalStats, add_prediction, start_print
from detection.verdict import SEVERITY, Verdict, VerdictRule, verdict_of

# Clean predictions the printer made before this print: a few prints' worth, so its long-term
# mean is that of clean frames.
CLEAN_HISTORY = 2000
# Clean snapshots of this print before the scene appears: past the rule's 30 safe ones.
CLEAN_LEAD_IN = 60
# Snapshots of the scene: about 7 minutes at one snapshot every 10 s.
SCENE_SNAPSHOTS = 40


@cache
def _before_the_scene() -> TemporalStats:
    """The statistics after the clean history and the print's clean lead-in."""
    stats = TemporalStats()
    for _ in range(CLEAN_HISTORY):
        stats = add_prediction(stats, 0.0)
    stats = start_print(stats)
    for _ in range(CLEAN_LEAD_IN):
        stats = add_prediction(stats, 0.0)
    return stats


def steady_scene_verdict(p: float, rule: VerdictRule, sensitivity: float = 1.0) -> Verdict:
    """The most severe verdict the print reaches while the camera sees a scene scoring ``p``."""
    stats = _before_the_scene()
    worst = Verdict.OK
    for _ in range(SCENE_SNAPSHOTS):
        stats = add_prediction(stats, p)
        verdict = verdict_of(stats, sensitivity=sensitivity, rule=rule)
        worst = max(worst, verdict, key=SEVERITY.__getitem__)
    return worst


def alert_shares(scores: Iterable[float], rule: VerdictRule | None = None) -> dict[str, float]:
    """Shares of images whose steady scene raises a warning or worse, and a failure."""
    rule = rule or VerdictRule()
    verdicts = [steady_scene_verdict(p, rule) for p in scores]
    if not verdicts:
        return {"warning_or_failure": 0.0, "failure": 0.0}
    return {
        "warning_or_failure": round(sum(v is not Verdict.OK for v in verdicts) / len(verdicts), 4),
        "failure": round(sum(v is Verdict.FAILURE for v in verdicts) / len(verdicts), 4),
    }
