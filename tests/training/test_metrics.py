"""The evaluator's metric math on hand-made cases whose answers are worked out in the comments."""

import math

import numpy as np
import pytest

from training.metrics import (
    auroc,
    average_precision,
    box_iou,
    false_alarm_rate,
    match_detections,
    precision_recall,
    recall_at_false_alarm_rate,
    wrong_box_kinds,
)


def test_box_iou_of_half_overlapping_squares_is_one_third():
    # Intersection 5x10 = 50, union 100 + 100 - 50 = 150.
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30]]))

    assert iou.shape == (1, 2)
    assert iou[0, 0] == pytest.approx(1 / 3)
    assert iou[0, 1] == 0.0


def test_box_iou_of_a_degenerate_box_is_zero():
    assert box_iou(np.array([[5, 5, 5, 5]]), np.array([[5, 5, 5, 5]]))[0, 0] == 0.0


def test_a_duplicate_detection_of_one_object_is_a_false_positive():
    gt = np.array([[0, 0, 10, 10]])
    preds = np.array([[0, 0, 10, 9], [0, 0, 10, 10]])

    # The higher-scored prediction takes the object even though the other overlaps it more.
    assert match_detections(preds, np.array([0.9, 0.5]), gt).tolist() == [True, False]


def test_a_detection_below_the_iou_threshold_is_a_false_positive():
    # IoU 1/3 < 0.5.
    assert match_detections(np.array([[5, 0, 15, 10]]), np.array([0.9]), np.array([[0, 0, 10, 10]])).tolist() == [False]


def test_a_detection_falls_back_to_the_next_unmatched_object():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 20]])
    # The first prediction takes gt 0. The second fits gt 0 best (IoU 0.9) but gt 0 is taken and
    # gt 1 is too loose (IoU 90/200 = 0.45 < 0.5): a false positive. The third fits gt 1 (IoU 0.9).
    preds = np.array([[0, 0, 10, 10], [0, 0, 10, 9], [0, 0, 10, 18]])

    assert match_detections(preds, np.array([0.9, 0.8, 0.7]), gt).tolist() == [True, False, True]


def test_detections_with_no_ground_truth_are_all_false_positives():
    assert match_detections(np.array([[0, 0, 1, 1]]), np.array([0.5]), np.zeros((0, 4))).tolist() == [False]


def test_each_wrong_box_is_put_down_to_one_kind():
    gt = np.array([[0, 0, 100, 100], [200, 0, 210, 10], [220, 0, 230, 10], [0, 300, 20, 320]])
    preds = np.array(
        [
            [0, 0, 100, 100],  # true positive: gt 0
            [0, 0, 100, 95],  # IoU 0.95 with gt 0, already taken: duplicate
            [10, 10, 40, 40],  # inside gt 0, IoU 0.09: part of a labelled box
            [200, 0, 230, 10],  # holds all of gt 1 and gt 2: spans several boxes
            [10, 305, 40, 325],  # IoU 150/850 = 0.18 with gt 3, a quarter of it inside: misplaced
            [500, 500, 510, 510],  # touches nothing: background
        ]
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])

    assert wrong_box_kinds(preds, scores, gt) == {
        "part_of_a_labelled_box": 1,
        "spans_several_boxes": 1,
        "duplicate": 1,
        "misplaced": 1,
        "background": 1,
    }


def test_every_box_in_an_image_without_labels_is_background():
    assert wrong_box_kinds(np.array([[0, 0, 5, 5], [1, 1, 3, 3]]), np.array([0.5, 0.4]), np.zeros((0, 4))) == {
        "part_of_a_labelled_box": 0,
        "spans_several_boxes": 0,
        "duplicate": 0,
        "misplaced": 0,
        "background": 2,
    }


def test_ap_of_a_perfect_ranking_is_one():
    assert average_precision([0.9, 0.8, 0.3], [True, True, True], num_gt=3) == pytest.approx(1.0)


def test_ap_of_perfect_detections_that_miss_half_the_objects_is_one_half():
    assert average_precision([0.9, 0.8], [True, True], num_gt=4) == pytest.approx(0.5)


def test_ap_of_two_objects_and_three_detections_with_the_false_one_second():
    # Ranked: TP, FP, TP. Recall 0.5 at precision 1, then recall 1 at precision 2/3:
    # AP = 0.5 * 1 + 0.5 * 2/3 = 5/6.
    assert average_precision([0.9, 0.8, 0.7], [True, False, True], num_gt=2) == pytest.approx(5 / 6)


def test_ap_of_two_objects_and_three_detections_with_the_false_one_first():
    # Ranked: FP, TP, TP. Precision 1/2 at recall 0.5 but 2/3 at recall 1, which interpolation
    # carries back: AP = 0.5 * 2/3 + 0.5 * 2/3 = 2/3.
    assert average_precision([0.9, 0.8, 0.7], [False, True, True], num_gt=2) == pytest.approx(2 / 3)


def test_ap_does_not_depend_on_the_order_detections_are_listed_in():
    assert average_precision([0.7, 0.9, 0.8], [True, True, False], num_gt=2) == pytest.approx(5 / 6)


def test_ap_without_detections_is_zero_and_without_objects_undefined():
    assert average_precision([], [], num_gt=2) == 0.0
    assert math.isnan(average_precision([0.5], [False], num_gt=0))


def test_precision_and_recall_of_a_fixed_set_of_detections():
    assert precision_recall([True, False, True, True], num_gt=5) == pytest.approx((0.75, 0.6))
    assert precision_recall([], num_gt=2) == (1.0, 0.0)


def test_auroc_of_separable_scores_is_one_and_of_reversed_scores_zero():
    assert auroc([0.9, 0.8], [0.1, 0.2, 0.3]) == 1.0
    assert auroc([0.1, 0.2], [0.8, 0.9]) == 0.0


def test_auroc_counts_ties_as_one_half():
    assert auroc([0.0, 0.0], [0.0, 0.0, 0.0]) == 0.5
    # Pairs: 0.5 vs 0.5 ties (1/2), 0.5 > 0.2 (1): (0.5 + 1) / 2.
    assert auroc([0.5], [0.5, 0.2]) == pytest.approx(0.75)


def test_auroc_of_interleaved_scores():
    # 0.8 beats both negatives, 0.4 beats only 0.1: 3 of 4 pairs.
    assert auroc([0.8, 0.4], [0.5, 0.1]) == pytest.approx(0.75)


def test_recall_at_five_percent_false_alarms_allows_one_negative_in_twenty():
    negatives = [0.0] * 19 + [0.9]
    positives = [0.95, 0.5, 0.0]

    point = recall_at_false_alarm_rate(positives, negatives, 0.05)

    # Threshold 0.0 alarms on all 20 negatives; 0.5 only on the 0.9 one (1/20 = 5 %).
    assert point.threshold == 0.5
    assert point.recall == pytest.approx(2 / 3)
    assert point.false_alarm_rate == pytest.approx(0.05)


def test_recall_at_false_alarm_rate_is_zero_when_negatives_score_highest():
    point = recall_at_false_alarm_rate([1.0], [1.0, 1.0, 1.0], 0.05)

    assert point.threshold == math.inf
    assert point.recall == 0.0


def test_false_alarm_rate_counts_scores_at_or_above_the_threshold():
    assert false_alarm_rate([0.0, 0.5, 0.7, 0.2], 0.5) == 0.5
