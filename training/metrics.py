"""Detection and image-level metrics: pure NumPy, no torch, no Django, so they are unit-tested alone.

Boxes are ``[N, 4]`` arrays of (x1, y1, x2, y2) in any one unit (IoU does not depend on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detection.postprocess import Detection


def detections_to_xyxy(detections: Sequence[Detection]) -> np.ndarray:
    """The service's detections (xc, yc, w, h) as ``[N, 4]`` (x1, y1, x2, y2)."""
    rows = [[d.xc - d.w / 2, d.yc - d.h / 2, d.xc + d.w / 2, d.yc + d.h / 2] for d in detections]
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU ``[len(a), len(b)]``; degenerate boxes have IoU 0 with everything."""
    inter, area_a, area_b = _intersections_and_areas(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _intersections_and_areas(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise intersection areas ``[len(a), len(b)]``, and the areas of ``a`` and of ``b``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter_w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    inter_h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    return inter_w * inter_h, area_a, area_b


def match_detections(
    pred_boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray, iou_threshold: float = 0.5
) -> np.ndarray:
    """True-positive flags of one image's predictions, in the order given.

    Predictions are matched greedily from the highest score down, each to the unmatched ground
    truth it overlaps most with IoU >= ``iou_threshold`` (COCO's rule); a prediction left without
    one is a false positive, so duplicates of a found object count against precision.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    tp = np.zeros(len(scores), dtype=bool)
    if not len(scores) or not len(np.asarray(gt_boxes).reshape(-1, 4)):
        return tp
    iou = box_iou(pred_boxes, gt_boxes)
    taken = np.zeros(iou.shape[1], dtype=bool)
    for index in np.argsort(-scores, kind="stable"):
        candidates = np.where(taken, -1.0, iou[index])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            taken[best] = True
            tp[index] = True
    return tp


WRONG_BOX_KINDS = ("part_of_a_labelled_box", "spans_several_boxes", "duplicate", "misplaced", "background")


def wrong_box_kinds(
    pred_boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray, iou_threshold: float = 0.5
) -> dict[str, int]:
    """Why each prediction that ``match_detections`` does not count as a true positive is wrong.

    - ``spans_several_boxes``: it holds at least half of each of two or more labelled boxes;
    - ``part_of_a_labelled_box``: at least half of it lies inside one labelled box that it covers
      too little of to match (a piece of a region that was labelled as one);
    - ``duplicate``: it matches a labelled box that a higher-scored prediction already took;
    - ``misplaced``: it overlaps a labelled box with IoU from 0.1 up to the threshold;
    - ``background``: it overlaps no labelled box by IoU 0.1 or more.
    """
    kinds = dict.fromkeys(WRONG_BOX_KINDS, 0)
    tp = match_detections(pred_boxes, scores, gt_boxes, iou_threshold)
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    if not len(gt_boxes):
        kinds["background"] = int((~tp).sum())
        return kinds
    iou = box_iou(pred_boxes, gt_boxes)
    inter, pred_area, gt_area = _intersections_and_areas(pred_boxes, gt_boxes)
    share_of_gt = np.divide(inter, gt_area[None, :], out=np.zeros_like(inter), where=gt_area[None, :] > 0)
    share_of_pred = np.divide(inter, pred_area[:, None], out=np.zeros_like(inter), where=pred_area[:, None] > 0)
    for index in np.flatnonzero(~tp):
        if (share_of_gt[index] >= 0.5).sum() >= 2:
            kinds["spans_several_boxes"] += 1
        elif iou[index].max() >= iou_threshold:
            kinds["duplicate"] += 1
        elif (share_of_pred[index] >= 0.5).any():
            kinds["part_of_a_labelled_box"] += 1
        elif iou[index].max() >= 0.1:
            kinds["misplaced"] += 1
        else:
            kinds["background"] += 1
    return kinds


def average_precision(scores: Sequence[float], tp: Sequence[bool], num_gt: int) -> float:
    """All-point interpolated AP (VOC 2010+) from pooled detections of a whole set.

    ``scores`` and ``tp`` list every detection of every image; ``num_gt`` counts every
    ground-truth box. Precision is made monotone from the right and integrated over each recall step.
    """
    if num_gt == 0:
        return float("nan")
    scores = np.asarray(scores, dtype=np.float64)
    tp = np.asarray(tp, dtype=bool)
    if not len(scores):
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp_cum = np.cumsum(tp[order])
    fp_cum = np.cumsum(~tp[order])
    recall = tp_cum / num_gt
    precision = tp_cum / (tp_cum + fp_cum)
    recall = np.concatenate([[0.0], recall, [recall[-1]]])
    precision = np.concatenate([[1.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.where(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def precision_recall(tp: Sequence[bool], num_gt: int) -> tuple[float, float]:
    """Precision and recall of a fixed set of detections (e.g. those above the service threshold).

    Precision with no detections is 1 (nothing claimed, nothing wrong); recall with no ground truth is nan.
    """
    tp = np.asarray(tp, dtype=bool)
    precision = float(tp.mean()) if len(tp) else 1.0
    recall = float(tp.sum() / num_gt) if num_gt else float("nan")
    return precision, recall


def auroc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic: P(pos > neg) + P(pos == neg) / 2."""
    pos = np.asarray(positive_scores, dtype=np.float64).reshape(-1, 1)
    neg = np.asarray(negative_scores, dtype=np.float64).reshape(1, -1)
    if not pos.size or not neg.size:
        return float("nan")
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


@dataclass(frozen=True)
class OperatingPoint:
    """An image-score threshold: an image alarms when its score is >= ``threshold``."""

    threshold: float
    recall: float
    false_alarm_rate: float


def recall_at_false_alarm_rate(
    positive_scores: Sequence[float], negative_scores: Sequence[float], max_false_alarm_rate: float = 0.05
) -> OperatingPoint:
    """The lowest threshold (among the observed scores, or +inf) whose false-alarm rate is within the limit.

    The lowest such threshold gives the highest recall. If even the top negative score is shared by
    too many negatives, the threshold is +inf and recall is 0.
    """
    pos = np.asarray(positive_scores, dtype=np.float64)
    neg = np.asarray(negative_scores, dtype=np.float64)
    for threshold in np.unique(np.concatenate([pos, neg])):
        false_alarm_rate = float((neg >= threshold).mean()) if neg.size else 0.0
        if false_alarm_rate <= max_false_alarm_rate:
            recall = float((pos >= threshold).mean()) if pos.size else float("nan")
            return OperatingPoint(float(threshold), recall, false_alarm_rate)
    return OperatingPoint(float("inf"), 0.0, 0.0)


def false_alarm_rate(negative_scores: Sequence[float], threshold: float) -> float:
    """Fraction of negative images whose score is >= ``threshold``."""
    neg = np.asarray(negative_scores, dtype=np.float64)
    return float((neg >= threshold).mean()) if neg.size else float("nan")
