"""The verdict rules on hand-made numbers: ours (adaptive) and Obico's."""

import pytest

from detection.temporal import TemporalStats
from detection.verdict import (
    AdaptiveRule,
    ObicoRule,
    Verdict,
    adaptive_verdict,
    is_failing,
    obico_verdict,
    smoothed_score,
    threshold_at,
)

RULE = ObicoRule()


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
    assert obico_verdict(case, sensitivity=sensitivity, rule=RULE) is expected


def test_failure_escalation_divides_the_adjusted_mean():
    # 0.7 / 1.75 = 0.4: above low, and above 0 * 3.8
    assert is_failing(stats(0.7), sensitivity=1.0, escalation=1.75, rule=RULE)
    # 0.6 / 1.75 = 0.343: below low
    assert not is_failing(stats(0.6), sensitivity=1.0, escalation=1.75, rule=RULE)


ADAPTIVE = AdaptiveRule(warmup=10, span=6, warning=0.3, failure=0.6, release=0.5)


def judge(score_ewm, *, baseline=0.0, n=20, previous="ok", sensitivity=1.0):
    return adaptive_verdict(
        score_ewm=score_ewm,
        baseline=baseline,
        prediction_num=n,
        previous=previous,
        sensitivity=sensitivity,
        rule=ADAPTIVE,
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"score_ewm": 0.9, "n": 9}, Verdict.OK, id="before the warm-up ends, however high"),
        pytest.param({"score_ewm": 0.29}, Verdict.OK, id="under the warning threshold"),
        pytest.param({"score_ewm": 0.3}, Verdict.WARNING, id="at the warning threshold"),
        pytest.param({"score_ewm": 0.6}, Verdict.FAILURE, id="at the failure threshold"),
        pytest.param({"score_ewm": 0.45, "baseline": 0.2}, Verdict.OK, id="measured from the clean baseline"),
        pytest.param({"score_ewm": 0.09, "sensitivity": 2.0}, Verdict.WARNING, id="sensitivity 2 squares it"),
        pytest.param({"score_ewm": 0.5, "sensitivity": 0.5}, Verdict.OK, id="sensitivity 0.5 takes its root: 0.55"),
        pytest.param({"score_ewm": 0.8, "sensitivity": 0.5}, Verdict.FAILURE, id="where a steady 0.8 still fails"),
        pytest.param({"score_ewm": 0.2, "previous": "warning"}, Verdict.WARNING, id="a warning is held above half"),
        pytest.param({"score_ewm": 0.14, "previous": "warning"}, Verdict.OK, id="and released under half"),
        pytest.param({"score_ewm": 0.35, "previous": "failure"}, Verdict.FAILURE, id="a failure is held above half"),
        pytest.param({"score_ewm": 0.29, "previous": "failure"}, Verdict.WARNING, id="then falls to warning"),
        pytest.param({"score_ewm": 0.2, "previous": ""}, Verdict.OK, id="no previous verdict holds nothing"),
    ],
)
def test_adaptive_verdict(kwargs, expected):
    assert judge(**kwargs) is expected


@pytest.mark.parametrize(("sensitivity", "expected"), [(0.5, 0.5**0.5), (1.0, 0.5), (2.0, 0.25)])
def test_a_threshold_at_a_sensitivity_stays_within_reach(sensitivity, expected):
    assert threshold_at(0.5, sensitivity) == pytest.approx(expected)
    assert 0 < threshold_at(0.8, sensitivity) < 1


@pytest.mark.parametrize(
    ("previous", "score", "expected"),
    [(0.0, 1.0, 2 / 7), (0.5, 0.5, 0.5), (1.0, 0.0, 5 / 7)],
)
def test_smoothed_score_is_an_ewm_of_span_6(previous, score, expected):
    assert smoothed_score(previous, score, ADAPTIVE) == pytest.approx(expected)
