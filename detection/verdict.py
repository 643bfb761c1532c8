"""The server's verdict on a print from its scores: pure math, no Django.

Two rules, chosen by the ``VERDICT_RULE`` setting:

- ``adaptive`` (the default since issue 22): the snapshot's score after the printer's memory has
  discounted what its camera always shows (``detection.adaptation``), smoothed over the print
  (``score_ewm``), against the printer's clean baseline, which is frozen while the verdict is above
  ok, so it never climbs with the failure it should report. A level is held until the smoothed
  excess falls well below its threshold (hysteresis), so a failure that flickers raises one alert.
- ``obico``: Obico's rule (server/backend/lib/prediction.py, ``is_failing``), applied twice on the
  spec's ``temporal_stats``: ``failure`` when it fails with the failure escalation, ``warning``
  without it. Its baseline, ``rolling_mean_long``, rises with the failure on a printer with little
  history.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from detection.defaults import DEFAULTS
from detection.temporal import TemporalStats


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"


# How severe each verdict is: an alert is a rise in severity.
SEVERITY = {Verdict.OK: 0, Verdict.WARNING: 1, Verdict.FAILURE: 2}

RULES = ("adaptive", "obico")


@dataclass(frozen=True)
class AdaptiveRule:
    """Our rule's constants: the ``ADAPTIVE_*`` keys of ``detection.defaults.DEFAULTS``, with their sources there."""

    warmup: int = DEFAULTS["ADAPTIVE_WARMUP"]
    span: int = DEFAULTS["ADAPTIVE_SPAN"]
    warning: float = DEFAULTS["ADAPTIVE_WARNING"]
    failure: float = DEFAULTS["ADAPTIVE_FAILURE"]
    release: float = DEFAULTS["ADAPTIVE_RELEASE"]


def smoothed_score(score_ewm: float, score: float, rule: AdaptiveRule) -> float:
    """The print's exponentially weighted mean of the (discounted) score after one more snapshot."""
    return score_ewm + 2 / (rule.span + 1) * (score - score_ewm)


def threshold_at(threshold: float, sensitivity: float) -> float:
    """A threshold on the excess, in [0, 1], at a printer's ``sensitivity``: ``threshold ** sensitivity``.

    Sensitivity 2 squares it (a warning at 0.5 comes at 0.25, as doubling the excess would), 0.5 takes
    its square root (0.71). Dividing by the sensitivity instead asked 1.0 of the excess at 0.5, which
    a print with any clean baseline never reaches: measured, a printer at 0.5 never alerted. Here a
    score that stays near 1 reaches every level at every sensitivity.
    """
    return threshold**sensitivity


def adaptive_verdict(
    *,
    score_ewm: float,
    baseline: float,
    prediction_num: int,
    previous: str,
    sensitivity: float,
    rule: AdaptiveRule,
) -> Verdict:
    """``ok``, ``warning`` or ``failure`` from the smoothed score's excess over the printer's clean baseline.

    ``excess = score_ewm - baseline``: ``failure`` at the failure threshold or more, ``warning`` at the
    warning threshold, each at the printer's sensitivity (``threshold_at``). A level the print is
    already at (``previous``) is held while the excess stays above ``rule.release`` times its
    threshold. Nothing is raised before the print's ``rule.warmup``-th snapshot, while the printer's
    memory first learns the scene.
    """
    if prediction_num < rule.warmup:
        return Verdict.OK
    excess = score_ewm - baseline
    warning, failure = threshold_at(rule.warning, sensitivity), threshold_at(rule.failure, sensitivity)
    held = SEVERITY.get(previous, 0)
    if excess >= failure or (held >= SEVERITY[Verdict.FAILURE] and excess >= failure * rule.release):
        return Verdict.FAILURE
    if excess >= warning or (held >= SEVERITY[Verdict.WARNING] and excess >= warning * rule.release):
        return Verdict.WARNING
    return Verdict.OK


@dataclass(frozen=True)
class ObicoRule:
    """Obico's constants. The defaults, with Obico's names for them, are the ``VERDICT_*`` keys of
    ``detection.defaults.DEFAULTS``; the service's rule, overrides included, is ``detection_settings.obico_rule()``.
    """

    init_safe_prediction_num: int = DEFAULTS["VERDICT_INIT_SAFE_PREDICTION_NUM"]
    threshold_low: float = DEFAULTS["VERDICT_THRESHOLD_LOW"]
    threshold_high: float = DEFAULTS["VERDICT_THRESHOLD_HIGH"]
    rolling_mean_short_multiple: float = DEFAULTS["VERDICT_ROLLING_MEAN_SHORT_MULTIPLE"]
    warning_escalation: float = DEFAULTS["VERDICT_WARNING_ESCALATION"]
    failure_escalation: float = DEFAULTS["VERDICT_FAILURE_ESCALATION"]


def is_failing(stats: TemporalStats, *, sensitivity: float, escalation: float, rule: ObicoRule) -> bool:
    """Obico's ``is_failing``: the smoothed score rose well above the printer's long-term level."""
    if stats.prediction_num < rule.init_safe_prediction_num:
        return False
    adjusted = (stats.ewm_mean - stats.rolling_mean_long) * sensitivity / escalation
    if adjusted < rule.threshold_low:
        return False
    if adjusted > rule.threshold_high:
        return True
    return adjusted > (stats.rolling_mean_short - stats.rolling_mean_long) * rule.rolling_mean_short_multiple


def obico_verdict(stats: TemporalStats, *, sensitivity: float, rule: ObicoRule) -> Verdict:
    """Obico's ``ok``, ``warning`` or ``failure`` for the spec's statistics after a prediction."""
    if is_failing(stats, sensitivity=sensitivity, escalation=rule.failure_escalation, rule=rule):
        return Verdict.FAILURE
    if is_failing(stats, sensitivity=sensitivity, escalation=rule.warning_escalation, rule=rule):
        return Verdict.WARNING
    return Verdict.OK
