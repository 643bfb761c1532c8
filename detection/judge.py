"""One snapshot's effect on a printer: the spec's statistics, the verdict, and what the printer learns.

Pure (no Django): ``detection.services.prediction_record`` applies it to the printer's statistics row
under the printer's lock, and the training tools replay it on recorded detections, so both run the
same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from detection import temporal
from detection.adaptation import AdaptationRule, PrinterMemory, discounted_score, learn
from detection.postprocess import Detection
from detection.temporal import TemporalStats
from detection.verdict import AdaptiveRule, ObicoRule, Verdict, adaptive_verdict, obico_verdict, smoothed_score


@dataclass(frozen=True)
class Rules:
    """Which verdict rule decides (``name``: "adaptive" or "obico") and every rule's constants."""

    name: str = "adaptive"
    adaptive: AdaptiveRule = field(default_factory=AdaptiveRule)
    obico: ObicoRule = field(default_factory=ObicoRule)
    adaptation: AdaptationRule = field(default_factory=AdaptationRule)


@dataclass(frozen=True)
class PrinterState:
    """What a printer carries from one snapshot to the next (its statistics row)."""

    stats: TemporalStats = field(default_factory=TemporalStats)
    memory: PrinterMemory = field(default_factory=PrinterMemory)
    score_ewm: float = 0.0
    last_verdict: str = ""  # "" before the current print's first snapshot


@dataclass(frozen=True)
class Judgement:
    """A snapshot's outcome: the printer's new state, the verdict, and the discounted score."""

    state: PrinterState
    verdict: Verdict
    score: float


def print_started(state: PrinterState) -> PrinterState:
    """The state at a new print: per-print numbers restart, the printer's memory carries over."""
    return replace(state, stats=temporal.start_print(state.stats), score_ewm=0.0, last_verdict="")


def judge_snapshot(
    state: PrinterState,
    *,
    p: float,
    detections: Sequence[Detection],
    width: int,
    height: int,
    sensitivity: float,
    rules: Rules,
) -> Judgement:
    """Count a snapshot (image score ``p``, its detections in a ``width`` x ``height`` frame) and judge it.

    The spec's statistics follow ``p``. The discounted score is ``p`` less what this printer's camera
    always shows (``adaptation.discounted_score``); its print-long EWM, against the printer's clean
    baseline, makes the adaptive verdict; Obico's rule reads the spec's statistics instead.

    A snapshot teaches the memory only if it looks clean: the verdict is ok and the smoothed excess
    is under ``rules.adaptation.learn_below`` (at any sensitivity), or the print is still in its
    warm-up (when a new printer must learn its scene). So a failure that is rising towards a warning
    is never learned as this printer's normal, however new the printer.
    """
    stats = temporal.add_prediction(state.stats, p)
    score = discounted_score(state.memory, detections, width, height)
    score_ewm = smoothed_score(state.score_ewm, score, rules.adaptive)
    if rules.name == "obico":
        verdict = obico_verdict(stats, sensitivity=sensitivity, rule=rules.obico)
    else:
        verdict = adaptive_verdict(
            score_ewm=score_ewm,
            baseline=state.memory.baseline,
            prediction_num=stats.prediction_num,
            previous=state.last_verdict,
            sensitivity=sensitivity,
            rule=rules.adaptive,
        )
    memory = state.memory
    # Whatever the sensitivity: a keen owner's or a dull one's printer must not learn a failure as normal.
    looks_clean = score_ewm - memory.baseline < rules.adaptation.learn_below
    warming_up = stats.prediction_num < rules.adaptive.warmup
    if verdict == Verdict.OK and (warming_up or looks_clean):
        memory = learn(memory, detections, width, height, score, rules.adaptation)
    new_state = PrinterState(stats=stats, memory=memory, score_ewm=score_ewm, last_verdict=verdict)
    return Judgement(state=new_state, verdict=verdict, score=score)
