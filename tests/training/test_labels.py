"""Whole-region label merging (training/labels.py): pure NumPy, table-driven."""

import numpy as np
import pytest

from training.labels import merge_tolerance, merge_touching_boxes


def as_set(boxes):
    return sorted(tuple(float(v) for v in box) for box in np.asarray(boxes).reshape(-1, 4))


@pytest.mark.parametrize(
    ("boxes", "tolerance", "expected"),
    [
        pytest.param([], 0.0, [], id="empty"),
        pytest.param([[0, 0, 10, 10]], 0.0, [[0, 0, 10, 10]], id="one box"),
        pytest.param([[0, 0, 10, 10], [5, 5, 15, 15]], 0.0, [[0, 0, 15, 15]], id="overlapping pair"),
        pytest.param([[0, 0, 10, 10], [10, 0, 20, 10]], 0.0, [[0, 0, 20, 10]], id="edges touching"),
        pytest.param([[0, 0, 10, 10], [10, 10, 20, 20]], 0.0, [[0, 0, 20, 20]], id="corners touching"),
        pytest.param(
            [[0, 0, 10, 10], [12, 0, 20, 10]], 0.0, [[0, 0, 10, 10], [12, 0, 20, 10]], id="2 px gap kept apart"
        ),
        pytest.param([[0, 0, 10, 10], [12, 0, 20, 10]], 2.0, [[0, 0, 20, 10]], id="2 px gap within tolerance"),
        pytest.param(
            # Close on x but far apart on y: not touching.
            [[0, 0, 10, 10], [11, 50, 20, 60]],
            2.0,
            [[0, 0, 10, 10], [11, 50, 20, 60]],
            id="gap on one axis only",
        ),
        pytest.param([[0, 0, 10, 10], [8, 0, 20, 10], [18, 0, 30, 10]], 0.0, [[0, 0, 30, 10]], id="chain of three"),
        pytest.param([[0, 0, 100, 100], [40, 40, 60, 60]], 0.0, [[0, 0, 100, 100]], id="box inside box"),
        pytest.param(
            # A and B merge into (0, 0, 30, 30), which then overlaps C although neither A nor B did.
            [[0, 0, 10, 30], [5, 0, 30, 10], [20, 20, 40, 40]],
            0.0,
            [[0, 0, 40, 40]],
            id="merged bounding box reaches a third box",
        ),
        pytest.param(
            [[0, 0, 10, 10], [5, 5, 15, 15], [50, 50, 60, 60], [58, 58, 70, 70], [100, 0, 110, 10]],
            0.0,
            [[0, 0, 15, 15], [50, 50, 70, 70], [100, 0, 110, 10]],
            id="three groups",
        ),
    ],
)
def test_merge_touching_boxes(boxes, tolerance, expected):
    merged = merge_touching_boxes(np.array(boxes, dtype=np.float32).reshape(-1, 4), tolerance)

    assert merged.dtype == np.float32
    assert merged.shape == (len(expected), 4)
    assert as_set(merged) == as_set(expected)


def test_boxes_that_join_nothing_come_back_unchanged_and_in_order():
    boxes = np.array([[50, 50, 60, 60], [0, 0, 10, 10], [100, 0, 110, 10]], dtype=np.float32)

    np.testing.assert_array_equal(merge_touching_boxes(boxes), boxes)


@pytest.mark.parametrize("seed", range(10))
def test_merging_is_stable_and_covers_every_input_box(seed):
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, 400, size=(30, 2))
    sizes = rng.uniform(5, 60, size=(30, 2))
    boxes = np.concatenate([corners, corners + sizes], axis=1).astype(np.float32)

    merged = merge_touching_boxes(boxes, 2.0)

    np.testing.assert_array_equal(merge_touching_boxes(merged, 2.0), merged)  # nothing left to join
    for box in boxes:  # each input box lies inside exactly one output box
        inside = (
            (merged[:, 0] <= box[0]) & (merged[:, 1] <= box[1]) & (merged[:, 2] >= box[2]) & (merged[:, 3] >= box[3])
        )
        assert inside.sum() == 1


def test_the_tolerance_is_half_a_percent_of_the_longer_side():
    assert merge_tolerance(640, 480) == pytest.approx(3.2)
    assert merge_tolerance(400, 1000) == pytest.approx(5.0)
