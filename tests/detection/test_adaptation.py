"""The printer's memory (detection/adaptation.py) on hand-made detections: what it learns, what it discounts."""

import pytest

from detection.adaptation import GRID, AdaptationRule, PrinterMemory, cell_of, discounted_score, learn, static_level
from detection.postprocess import Detection

RULE = AdaptationRule(rate_floor=0.02, learn_below=0.15, baseline_cap=0.3, forget_below=0.01)
WIDTH, HEIGHT = 1000, 500


def at(confidence, x, y):
    """A detection centred at (x, y) as shares of the frame."""
    return Detection(confidence, x * WIDTH, y * HEIGHT, 40.0, 40.0)


def learned(frames, memory=None):
    memory = memory or PrinterMemory()
    for detections in frames:
        score = discounted_score(memory, detections, WIDTH, HEIGHT)
        memory = learn(memory, detections, WIDTH, HEIGHT, score, RULE)
    return memory


@pytest.mark.parametrize(
    ("x", "y", "cell"),
    [
        (0.0, 0.0, 0),
        (0.999, 0.0, GRID - 1),
        (0.0, 0.999, (GRID - 1) * GRID),
        (0.52, 0.26, 5 * GRID + 10),
        (1.2, -1, 19),
    ],
)
def test_cell_of_a_centre(x, y, cell):
    assert cell_of(at(0.5, x, y), WIDTH, HEIGHT) == cell


def test_a_new_printer_discounts_nothing():
    assert discounted_score(PrinterMemory(), [at(0.4, 0.5, 0.5), at(0.3, 0.1, 0.1)], WIDTH, HEIGHT) == pytest.approx(
        0.7
    )


def test_what_sat_still_since_the_print_began_is_discounted_after_one_snapshot():
    memory = learned([[at(0.4, 0.9, 0.5)]])

    assert memory.static == {cell_of(at(0, 0.9, 0.5), WIDTH, HEIGHT): pytest.approx(0.4)}
    assert discounted_score(memory, [at(0.4, 0.9, 0.5)], WIDTH, HEIGHT) == 0.0


def test_a_neighbouring_cell_is_discounted_too_as_box_centres_jitter():
    memory = learned([[at(0.4, 0.9, 0.5)]])

    assert discounted_score(memory, [at(0.4, 0.9 + 1 / GRID, 0.5 - 1 / GRID)], WIDTH, HEIGHT) == 0.0
    assert discounted_score(memory, [at(0.4, 0.9 - 2 / GRID, 0.5)], WIDTH, HEIGHT) == pytest.approx(0.4)


def test_a_failure_on_a_static_spot_still_counts_what_it_adds():
    memory = learned([[at(0.3, 0.5, 0.5)]] * 20)

    assert discounted_score(memory, [at(0.9, 0.5, 0.5)], WIDTH, HEIGHT) == pytest.approx(0.6)


def test_the_memory_is_a_running_mean_at_first_then_learns_at_the_floor():
    spot = at(0, 0.5, 0.5)
    cell = cell_of(spot, WIDTH, HEIGHT)
    memory = learned([[at(0.6, 0.5, 0.5)], []])  # 0.6 once, then nothing: the mean of two is 0.3
    assert memory.static[cell] == pytest.approx(0.3)

    at_fifty = learned([[]] * 48, memory)  # still the running mean: 0.6 / 50
    assert at_fifty.static[cell] == pytest.approx(0.6 / 50)
    settled = learned([[]], at_fifty)  # 1/51 is under the floor: from here it learns at 1/50
    assert settled.static[cell] == pytest.approx(0.6 / 50 * (1 - RULE.rate_floor))
    assert settled.learned == 51


def test_levels_under_forget_below_are_dropped():
    memory = learned([[at(0.5, 0.5, 0.5)]] + [[]] * 60)

    assert memory.static == {}


def test_the_baseline_follows_clean_scores_up_to_its_cap():
    memory = learned([[at(0.2, 0.1 * i % 1, 0.3 * i % 1)] for i in range(40)])
    assert 0.0 < memory.baseline <= 0.2

    flooded = PrinterMemory(baseline=0.29)
    assert learn(flooded, [], WIDTH, HEIGHT, 1.0, RULE).baseline == pytest.approx(RULE.baseline_cap)


def test_static_level_is_the_highest_around_the_cell():
    memory = PrinterMemory(static={0: 0.1, 1: 0.5, GRID + 1: 0.2})

    assert static_level(memory, 0) == 0.5
    assert static_level(memory, 3 * GRID + 3) == 0.0


def test_memory_round_trips_through_json():
    memory = learned([[at(0.4, 0.9, 0.5), at(0.2, 0.1, 0.1)]] * 3)

    again = PrinterMemory.from_json(memory.as_json())

    assert again == memory
    assert PrinterMemory.from_json({}) == PrinterMemory()
    assert PrinterMemory.from_json(None) == PrinterMemory()
