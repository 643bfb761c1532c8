"""One snapshot's effect on a printer (detection/judge.py): statistics, verdict, what the printer learns."""

import itertools

import pytest

from detection.adaptation import AdaptationRule, PrinterMemory
from detection.judge import PrinterState, Rules, judge_snapshot, print_started
from detection.postprocess import Detection, failure_score
from detection.verdict import AdaptiveRule, Verdict

RULES = Rules(
    adaptive=AdaptiveRule(warmup=10, span=6, warning=0.3, failure=0.6, release=0.5),
    adaptation=AdaptationRule(rate_floor=0.02, learn_below=0.15, baseline_cap=0.3, forget_below=0.01),
)
WIDTH, HEIGHT = 640, 480


def at(confidence, x, y):
    return Detection(confidence, x * WIDTH, y * HEIGHT, 30.0, 30.0)


def run(state, frames, rules=RULES, sensitivity=1.0):
    """Start a print and send ``frames`` (lists of detections); the verdicts and the state after."""
    state = print_started(state)
    verdicts = []
    for detections in frames:
        judgement = judge_snapshot(
            state,
            p=failure_score(detections),
            detections=detections,
            width=WIDTH,
            height=HEIGHT,
            sensitivity=sensitivity,
            rules=rules,
        )
        state = judgement.state
        verdicts.append(judgement.verdict)
    return verdicts, state


SPAGHETTI = [at(0.7, 0.5, 0.7)]
SOCK = [at(0.45, 0.2, 0.4)]


def first_alert(verdicts):
    return next((i for i, v in enumerate(verdicts) if v is not Verdict.OK), None)


def test_a_new_printer_alerts_on_spaghetti_after_ten_clean_snapshots():
    # Issue 22: with Obico's rule the baseline climbs with the failure and this print stays ok.
    verdicts, _ = run(PrinterState(), [[]] * 10 + [SPAGHETTI] * 30)

    assert first_alert(verdicts) == 10 + 1  # warned on the second spaghetti snapshot
    assert Verdict.FAILURE in verdicts


def test_obicos_rule_on_the_same_print_stays_ok():
    verdicts, _ = run(PrinterState(), [[]] * 10 + [SPAGHETTI] * 30, rules=Rules(name="obico"))

    assert set(verdicts) == {Verdict.OK}


def test_what_the_camera_always_shows_never_alerts_and_a_failure_still_does():
    verdicts, state = run(PrinterState(), [SOCK] * 200)
    assert set(verdicts) == {Verdict.OK}

    verdicts, _ = run(state, [SOCK] * 40 + [SOCK + SPAGHETTI] * 20)
    assert first_alert(verdicts) == 41


def test_the_memory_carries_over_prints_and_the_print_numbers_restart():
    _, state = run(PrinterState(), [SOCK] * 50)

    started = print_started(state)

    assert started.memory == state.memory
    assert (started.stats.prediction_num, started.score_ewm, started.last_verdict) == (0, 0.0, "")
    assert started.stats.prediction_num_lifetime == 50


def test_a_rising_failure_teaches_the_memory_nothing():
    verdicts, state = run(PrinterState(), [[]] * 20 + [SPAGHETTI] * 10)

    assert Verdict.FAILURE in verdicts
    assert (state.memory.learned, state.memory.static, state.memory.baseline) == (20, {}, 0.0)


def test_during_the_warm_up_a_new_printer_learns_whatever_it_sees():
    _, state = run(PrinterState(), [SPAGHETTI] * 5)

    assert state.memory.learned == 5
    assert state.memory.static


def test_a_warning_is_held_while_the_failure_flickers():
    # Spaghetti seen in two snapshots of three: one alert, not one per return.
    verdicts, _ = run(PrinterState(), [[]] * 15 + [SPAGHETTI, SPAGHETTI, []] * 10)
    rises = sum(1 for before, after in itertools.pairwise(verdicts) if after is not Verdict.OK and before is Verdict.OK)

    assert rises == 1


def test_sensitivity_moves_the_alert_and_no_setting_silences_it():
    weak = [at(0.45, 0.5, 0.7)]
    clear = [at(0.95, 0.5, 0.7)]

    normal, _ = run(PrinterState(), [[]] * 10 + [weak] * 20)
    keen, _ = run(PrinterState(), [[]] * 10 + [weak] * 20, sensitivity=2.0)
    dull_on_weak, _ = run(PrinterState(), [[]] * 10 + [weak] * 20, sensitivity=0.5)
    dull_on_clear, _ = run(PrinterState(), [[]] * 10 + [clear] * 20, sensitivity=0.5)

    assert first_alert(normal) is not None
    assert first_alert(keen) < first_alert(normal)
    assert first_alert(dull_on_weak) is None
    assert Verdict.FAILURE in dull_on_clear  # the least sensitive printer still reports a clear failure


def test_the_spec_statistics_follow_p_whatever_the_memory():
    state = PrinterState(memory=PrinterMemory(static={0: 0.9}))

    _, after = run(state, [[at(0.5, 0.01, 0.01)]] * 3)

    assert after.stats.ewm_mean > 0
    assert after.stats.rolling_mean_short == pytest.approx(0.5)
