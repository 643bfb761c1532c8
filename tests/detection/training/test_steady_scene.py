"""Steady-scene replay of the service's verdict (detection/training/steady_scene.py)."""

import pytest

from detection.training.steady_scene import alert_shares, steady_scene_verdict
from detection.verdict import SEVERITY, Verdict, VerdictRule

RULE = VerdictRule()


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.0, Verdict.OK), (0.3, Verdict.OK), (0.7, Verdict.WARNING), (1.0, Verdict.FAILURE)],
)
def test_verdict_of_a_steady_scene(p, expected):
    assert steady_scene_verdict(p, RULE) is expected


def test_verdict_never_falls_as_the_score_rises():
    levels = [SEVERITY[steady_scene_verdict(p / 20, RULE)] for p in range(21)]
    assert levels == sorted(levels)
    assert levels[0] == 0
    assert levels[-1] == 2


def test_a_lower_sensitivity_needs_a_higher_score():
    assert steady_scene_verdict(0.7, RULE, sensitivity=0.5) is Verdict.OK


def test_shares_count_each_level():
    assert alert_shares([0.0, 0.7, 1.0, 1.0]) == {"warning_or_failure": 0.75, "failure": 0.5}
    assert alert_shares([]) == {"warning_or_failure": 0.0, "failure": 0.0}
