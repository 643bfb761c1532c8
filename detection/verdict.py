"""The server's verdict on a print from its temporal statistics: pure math, no Django.

Obico's rule (server/backend/lib/prediction.py, ``is_failing``), applied twice: a print is
``failure`` when it fails with the failure escalation, ``warning`` when it fails without it.
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


@dataclass(frozen=True)
class VerdictRule:
    """Obico's constants. The defaults, with Obico's names for them, are the ``VERDICT_*`` keys of
    ``detection.defaults.DEFAULTS``; the service's rule, overrides included, is ``detection_settings.verdict_rule()``.
    """

    init_safe_prediction_num: int = DEFAULTS["VERDICT_INIT_SAFE_PREDICTION_NUM"]
    threshold_low: float = DEFAULTS["VERDICT_THRESHOLD_LOW"]
    threshold_high: float = DEFAULTS["VERDICT_THRESHOLD_HIGH"]
    rolling_mean_short_multiple: float = DEFAULTS["VERDICT_ROLLING_MEAN_SHORT_MULTIPLE"]
    warning_escalation: float = DEFAULTS["VERDICT_WARNING_ESCALATION"]
    failure_escalation: float = DEFAULTS["VERDICT_FAILURE_ESCALATION"]


def is_failing(stats: TemporalStats, *, sensitivity: float, escalation: float, rule: VerdictRule) -> bool:
    """Obico's ``is_failing``: the smoothed score rose well above the printer's long-term level."""
    if stats.prediction_num < rule.init_safe_prediction_num:
        return False
    adjusted = (stats.ewm_mean - stats.rolling_mean_long) * sensitivity / escalation
    if adjusted < rule.threshold_low:
        return False
    if adjusted > rule.threshold_high:
        return True
    return adjusted > (stats.rolling_mean_short - stats.rolling_mean_long) * rule.rolling_mean_short_multiple


def verdict_of(stats: TemporalStats, *, sensitivity: float, rule: VerdictRule) -> Verdict:
    """``ok``, ``warning`` or ``failure`` for the statistics after a prediction."""
    if is_failing(stats, sensitivity=sensitivity, escalation=rule.failure_escalation, rule=rule):
        return Verdict.FAILURE
    if is_failing(stats, sensitivity=sensitivity, escalation=rule.warning_escalation, rule=rule):
        return Verdict.WARNING
    return Verdict.OK
