"""The temporal statistics are plain math: table-driven, no database."""

import pytest

from detection.temporal import (
    EWM_ALPHA,
    ROLLING_WINDOW_LONG,
    ROLLING_WINDOW_SHORT,
    TemporalStats,
    add_prediction,
    start_print,
)


def run(ps, stats=None):
    stats = stats or TemporalStats()
    for p in ps:
        stats = add_prediction(stats, p)
    return stats


def ewm(ps):
    value = 0.0
    for p in ps:
        value = value + EWM_ALPHA * (p - value)
    return value


def test_alpha_is_the_spec_span_of_12():
    assert pytest.approx(2 / 13) == EWM_ALPHA


@pytest.mark.parametrize(
    ("ps", "ewm_mean", "rolling_mean"),
    [
        ([0.6], 0.6 * 2 / 13, 0.6),  # the first mean is p itself, not Obico's p/2
        ([0.2, 0.4, 0.6], ewm([0.2, 0.4, 0.6]), 0.4),
        ([1.0] * 5, ewm([1.0] * 5), 1.0),
        ([0.0, 0.0, 0.9], ewm([0.0, 0.0, 0.9]), 0.3),
        ([], 0.0, 0.0),
    ],
)
def test_statistics_within_the_window_are_exact_means(ps, ewm_mean, rolling_mean):
    stats = run(ps)

    assert stats.ewm_mean == pytest.approx(ewm_mean)
    assert stats.rolling_mean_short == pytest.approx(rolling_mean)
    assert stats.rolling_mean_long == pytest.approx(rolling_mean)
    assert stats.prediction_num == len(ps)
    assert stats.prediction_num_lifetime == len(ps)


def test_short_mean_becomes_a_moving_mean_once_its_window_fills():
    ps = [0.1] * ROLLING_WINDOW_SHORT
    full = run(ps)
    after = add_prediction(full, 0.72)

    assert full.rolling_mean_short == pytest.approx(0.1)
    assert after.rolling_mean_short == pytest.approx(0.1 + (0.72 - 0.1) / ROLLING_WINDOW_SHORT)
    # The long window is not full yet, so it is still the exact mean of all 311.
    assert after.rolling_mean_long == pytest.approx((0.1 * ROLLING_WINDOW_SHORT + 0.72) / (ROLLING_WINDOW_SHORT + 1))


def test_long_mean_divides_by_its_window_after_7200_predictions():
    stats = TemporalStats(rolling_mean_long=0.25, prediction_num_lifetime=ROLLING_WINDOW_LONG + 100)

    after = add_prediction(stats, 0.85)

    assert after.rolling_mean_long == pytest.approx(0.25 + 0.6 / ROLLING_WINDOW_LONG)
    assert after.prediction_num_lifetime == ROLLING_WINDOW_LONG + 101


def test_start_print_resets_the_per_print_numbers_and_keeps_the_lifetime_ones():
    stats = run([0.9, 0.8, 0.7])

    fresh = start_print(stats)

    assert fresh == TemporalStats(
        ewm_mean=0.0,
        rolling_mean_short=0.0,
        rolling_mean_long=stats.rolling_mean_long,
        prediction_num=0,
        prediction_num_lifetime=3,
    )
    after = add_prediction(fresh, 0.3)
    assert after.rolling_mean_short == pytest.approx(0.3)
    assert after.rolling_mean_long == pytest.approx((0.9 + 0.8 + 0.7 + 0.3) / 4)
    assert after.ewm_mean == pytest.approx(0.3 * 2 / 13)
