"""Thresholds, NMS, pixel boxes and the image score on hand-made numbers."""

import numpy as np
import pytest

from detection.postprocess import Detection, failure_score, non_max_suppression, select_detections


def test_nms_keeps_the_best_of_overlapping_boxes_and_all_separate_ones():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    scores = np.array([0.6, 0.9, 0.3], dtype=np.float32)

    assert non_max_suppression(boxes, scores, 0.45).tolist() == [1, 2]


def test_nms_keeps_boxes_whose_overlap_is_at_the_threshold_or_below():
    # IoU of these two is 50 / 150 = 1/3.
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], dtype=np.float32)
    scores = np.array([0.9, 0.8], dtype=np.float32)

    assert non_max_suppression(boxes, scores, 0.34).tolist() == [0, 1]
    assert non_max_suppression(boxes, scores, 0.33).tolist() == [0]


def test_select_detections_thresholds_then_scales_to_pixels():
    boxes = np.array([[0.1, 0.2, 0.3, 0.6], [0.5, 0.5, 0.6, 0.6], [0.7, 0.1, 0.9, 0.3]], dtype=np.float32)
    confs = np.array([0.5, 0.08, 0.081], dtype=np.float32)

    detections = select_detections(boxes, confs, conf_threshold=0.08, iou_threshold=0.45, width=1000, height=500)

    assert [d.confidence for d in detections] == pytest.approx([0.5, 0.081])
    first = detections[0]
    assert (first.xc, first.yc, first.w, first.h) == pytest.approx((200.0, 200.0, 200.0, 200.0))


def test_select_detections_of_nothing_is_empty():
    empty = np.zeros((0, 4), dtype=np.float32)

    assert select_detections(empty, np.zeros(0), conf_threshold=0.08, iou_threshold=0.45, width=1, height=1) == []


@pytest.mark.parametrize(
    ("confidences", "p"),
    [([], 0.0), ([0.3], 0.3), ([0.3, 0.25], 0.55), ([0.7, 0.6], 1.0)],
)
def test_failure_score_is_the_capped_sum_of_confidences(confidences, p):
    detections = [Detection(c, 0, 0, 1, 1) for c in confidences]

    assert failure_score(detections) == pytest.approx(p)
