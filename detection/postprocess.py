"""Pure post-processing of the detector's raw outputs: thresholding, NMS, pixel boxes, the score.

No Django and no onnxruntime here: plain NumPy, so it is tested with hand-made numbers and shared
with the training evaluator.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np


class Detection(NamedTuple):
    """One detected failure region, in pixels of the uploaded image (the spec's `[conf, [xc, yc, w, h]]`)."""

    confidence: float
    xc: float
    yc: float
    w: float
    h: float


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS: indices of the boxes kept, best score first.

    ``boxes`` is ``[N, 4]`` as (x1, y1, x2, y2). A box is dropped when its IoU with a box already
    kept is above ``iou_threshold``.
    """
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        inter_w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        inter_h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        inter = inter_w * inter_h
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def select_detections(
    boxes: np.ndarray,
    confs: np.ndarray,
    *,
    conf_threshold: float,
    iou_threshold: float,
    width: int,
    height: int,
) -> list[Detection]:
    """Turn raw model outputs into the detections the API reports.

    ``boxes`` ``[N, 4]`` are (x1, y1, x2, y2) normalised to [0, 1]; ``confs`` ``[N]``. Boxes with
    confidence above the threshold survive NMS and are scaled to ``width`` x ``height`` pixels
    (x by the width, y by the height), best first.
    """
    mask = confs > conf_threshold
    boxes, confs = boxes[mask], confs[mask]
    if not confs.size:
        return []
    keep = non_max_suppression(boxes, confs, iou_threshold)
    detections = []
    for i in keep:
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        detections.append(
            Detection(
                confidence=float(confs[i]),
                xc=(x1 + x2) / 2 * width,
                yc=(y1 + y2) / 2 * height,
                w=(x2 - x1) * width,
                h=(y2 - y1) * height,
            )
        )
    return detections


def failure_score(detections: Iterable[Detection]) -> float:
    """The image score p: the sum of the detections' confidences, capped at 1.

    Obico sums without the cap; the spec promises p in [0, 1], so we clip.
    """
    return min(1.0, float(sum(d.confidence for d in detections)))
