"""TTFNet-style targets and losses for the centre-ness heatmap and the box distances.

Each box puts an elliptical gaussian on the stride-16 heatmap, shaped like the box, peaking at 1 on
the cell that holds its centre; a penalty-reduced focal loss (CenterNet) learns it. Cells under the
gaussian also learn the box itself through a GIoU loss weighted by the gaussian, so cells near the
centre count most. Where boxes overlap, the smaller box owns the cells, as small failures are the
ones a large neighbour would otherwise swallow.

With ``box_region="box"`` (the shipped recipe) every cell whose centre lies inside a box regresses it
(FCOS-style), weighted at least ``BOX_REGION_MIN``. It was meant to make a peak that fires on one
tangle inside a large labelled region predict the whole region; measured, it did not (such pieces
are still most of the wrong boxes), but the model trained with it scores clean images lower
(``docs/experiments/detectors-run3-to-v2.md``, run 8).
"""

from __future__ import annotations

import numpy as np
import torch

from training.model import STRIDE, cell_centres, decode_boxes

# TTFNet's alpha: the gaussian's standard deviation is 0.54/6 of the box side.
GAUSSIAN_ALPHA = 0.54
MIN_SIGMA_CELLS = 0.3
# Cells whose gaussian value is below this do not regress the box.
BOX_REGION_MIN = 0.1
BOX_LOSS_WEIGHT = 5.0
BOX_REGIONS = ("gaussian", "box")


def make_targets(
    boxes: np.ndarray, grid_h: int, grid_w: int, box_region: str = "gaussian"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets for one image from its boxes ``[K, 4]`` in input pixels.

    Returns the heatmap ``[grid_h, grid_w]``, the box each cell regresses ``[4, grid_h, grid_w]``
    and the per-cell box-loss weight ``[grid_h, grid_w]`` (0 where no box).
    """
    heat = np.zeros((grid_h, grid_w), dtype=np.float32)
    box_target = np.zeros((4, grid_h, grid_w), dtype=np.float32)
    box_weight = np.zeros((grid_h, grid_w), dtype=np.float32)
    if not len(boxes):
        return heat, box_target, box_weight
    ys, xs = np.mgrid[0:grid_h, 0:grid_w].astype(np.float32)
    if box_region == "box":
        centres_x, centres_y = (centres.numpy() for centres in cell_centres(grid_h, grid_w))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for index in np.argsort(-areas):  # largest first, so smaller boxes overwrite shared cells
        x1, y1, x2, y2 = boxes[index]
        centre_x = min(int((x1 + x2) / 2 / STRIDE), grid_w - 1)
        centre_y = min(int((y1 + y2) / 2 / STRIDE), grid_h - 1)
        sigma_x = max(GAUSSIAN_ALPHA * (x2 - x1) / STRIDE / 6, MIN_SIGMA_CELLS)
        sigma_y = max(GAUSSIAN_ALPHA * (y2 - y1) / STRIDE / 6, MIN_SIGMA_CELLS)
        gaussian = np.exp(-((xs - centre_x) ** 2 / (2 * sigma_x**2) + (ys - centre_y) ** 2 / (2 * sigma_y**2)))
        heat = np.maximum(heat, gaussian)
        region = gaussian >= BOX_REGION_MIN
        if box_region == "box":
            inside = (centres_x > x1) & (centres_x < x2) & (centres_y > y1) & (centres_y < y2)
            region = region | inside
            gaussian = np.maximum(gaussian, BOX_REGION_MIN)
        # Large boxes spread their loss over more cells; log(area) keeps them from being drowned
        # out while the normalisation by the gaussian's sum keeps them from dominating.
        weight = gaussian * region / gaussian[region].sum() * np.log(max(areas[index], 2.0))
        box_target[:, region] = boxes[index][:, None]
        box_weight[region] = weight[region]
    return heat, box_target, box_weight


def focal_loss(heat_logits: torch.Tensor, heat_target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, summed and divided by the number of peaks (at least 1)."""
    prob = torch.sigmoid(heat_logits).clamp(1e-4, 1 - 1e-4)
    positive = heat_target.eq(1.0).float()
    negative_weight = torch.pow(1 - heat_target, 4)
    positive_loss = torch.log(prob) * torch.pow(1 - prob, 2) * positive
    negative_loss = torch.log(1 - prob) * torch.pow(prob, 2) * negative_weight * (1 - positive)
    return -(positive_loss.sum() + negative_loss.sum()) / positive.sum().clamp(min=1.0)


def giou_loss(log_distances: torch.Tensor, box_target: torch.Tensor, box_weight: torch.Tensor) -> torch.Tensor:
    """Weighted 1 - GIoU between decoded boxes and the targets, over the cells that carry a box."""
    mask = box_weight > 0
    if not mask.any():
        return log_distances.sum() * 0.0
    pred = decode_boxes(log_distances).permute(0, 2, 3, 1)[mask]
    target = box_target.permute(0, 2, 3, 1)[mask]
    weight = box_weight[mask]
    inter_w = (torch.min(pred[:, 2], target[:, 2]) - torch.max(pred[:, 0], target[:, 0])).clamp(min=0)
    inter_h = (torch.min(pred[:, 3], target[:, 3]) - torch.max(pred[:, 1], target[:, 1])).clamp(min=0)
    inter = inter_w * inter_h
    area_pred = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_target = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    union = area_pred + area_target - inter
    enclose = (torch.max(pred[:, 2], target[:, 2]) - torch.min(pred[:, 0], target[:, 0])) * (
        torch.max(pred[:, 3], target[:, 3]) - torch.min(pred[:, 1], target[:, 1])
    )
    giou = inter / union - (enclose - union) / enclose
    return ((1 - giou) * weight).sum() / weight.sum()


def detection_loss(
    heat_logits: torch.Tensor, log_distances: torch.Tensor, targets: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two loss terms for a batch: (heatmap focal loss, weighted box GIoU loss)."""
    heat_target, box_target, box_weight = targets
    return focal_loss(heat_logits[:, 0], heat_target), BOX_LOSS_WEIGHT * giou_loss(
        log_distances, box_target, box_weight
    )
