"""Obico's verdict rule on hand-made statistics."""

import pytest

from detection.temporal import TemporalStats
from detection.verdict import Verdict, VerdictRule, is_failing, verdict_of

RULE = VerdictRule()


def stats(ewm, short=0.0, long=0.0, n=100):
    return TemporalStats(
        ewm_mean=ewm, rolling_mean_short=short, rolling_mean_long=long, prediction_num=n, prediction_num_lifetime=n
    )


@pytest.mark.parametrize(
    ("case", "sensitivity", "expected"),
    [
        (stats(0.9, n=29), 1.0, Verdict.OK),  # too early in the print, however high
        (stats(0.37), 1.0, Verdict.OK),  # below the low threshold
        (stats(0.79), 1.0, Verdict.FAILURE),  # 0.45 at 1.75 is above low and above 0 * 3.8
        (stats(0.79, short=0.5), 1.0, Verdict.WARNING),  # 0.45 < 0.5 * 3.8 at 1.75: only a warning
        (stats(1.4, short=0.5), 1.0, Verdict.FAILURE),  # 0.8 > 0.78 even at 1.75
        (stats(0.5, short=0.2), 1.0, Verdict.OK),  # 0.5 < 0.2 * 3.8: a slow drift, not a spike
        (stats(0.5, short=0.1), 1.0, Verdict.WARNING),  # 0.5 > 0.1 * 3.8
        (stats(0.9, long=0.6), 1.0, Verdict.OK),  # relative to the printer's normal level: 0.3
        (stats(0.3), 2.0, Verdict.WARNING),  # sensitivity doubles: 0.6 > 0
        (stats(0.79, short=0.5), 0.5, Verdict.OK),  # sensitivity halves: 0.395 < 0.5 * 3.8
    ],
)
def test_verdict_follows_obicos_rule(case, sensitivity, expected):
    assert verdict_of(case, sensitivity=sensitivity, rule=RULE) is expected


def test_failure_escalation_divides_the_adjusted_mean():
    # 0.7 / 1.75 = 0.4: above low, and above 0 * 3.8
    assert is_failing(stats(0.7), sensitivity=1.0, escalation=1.75, rule=RULE)
    # 0.6 / 1.75 = 0.343: below low
    assert not is_failing(stats(0.6), sensitivity=1.0, escalation=1.75, rule=RULE)
