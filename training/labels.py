"""Whole-region labels: join spaghetti boxes that overlap or touch into one box per region.

Issue 15: ``spaghetti/train`` cuts many failed regions into several boxes (most of all the
``*_cropped`` family, 6.84 boxes an image), while ``val`` and the held-out labels mostly box a
whole region once. A model trained on the pieces learns to tile a mess and is then scored against
whole regions. ``merge_touching_boxes`` joins every group of boxes linked by a chain of overlaps or
touches (a gap of at most ``tolerance`` on both axes) into the group's bounding box, and repeats
until no two output boxes overlap or touch, since a bounding box can reach a box that none of its
members did.

Pure NumPy (no torch): unit-tested in ``tests/training/test_labels.py``.
"""

from __future__ import annotations

import numpy as np

# Gaps up to this fraction of the image's longer side count as touching: about 3 px of a 640 px
# photo, 2 px of the 400 px training cache. Label tools snap edges a pixel or two apart.
MERGE_TOLERANCE_FRACTION = 0.005


def _linked(boxes: np.ndarray, tolerance: float) -> np.ndarray:
    """``[K, K]`` bool: the two boxes overlap, or the gap between them is at most ``tolerance`` on both axes."""
    gap_x = np.maximum(boxes[:, None, 0], boxes[None, :, 0]) - np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    gap_y = np.maximum(boxes[:, None, 1], boxes[None, :, 1]) - np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    return (gap_x <= tolerance) & (gap_y <= tolerance)


def _components(linked: np.ndarray) -> list[list[int]]:
    """Connected components of a symmetric adjacency matrix (union-find with path halving)."""
    parent = list(range(len(linked)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for a, b in zip(*np.nonzero(np.triu(linked, k=1)), strict=True):
        root_a, root_b = find(int(a)), find(int(b))
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[int, list[int]] = {}
    for index in range(len(linked)):
        groups.setdefault(find(index), []).append(index)
    return [groups[root] for root in sorted(groups)]


def merge_touching_boxes(boxes: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Boxes ``[K, 4]`` (x1, y1, x2, y2) with every overlapping or touching group replaced by its bounding box.

    Two boxes are joined when they overlap or when the gap between them is at most ``tolerance``
    (same unit as the boxes) on both axes; groups are chains of such pairs. The result is stable:
    no two output boxes are joinable. Boxes that join nothing come back unchanged, in their order;
    a merged box takes the place of its first member. Empty in, empty out.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    while len(boxes) > 1:
        groups = _components(_linked(boxes.astype(np.float64), tolerance))
        if len(groups) == len(boxes):
            break
        boxes = np.array(
            [
                [
                    boxes[group, 0].min(),
                    boxes[group, 1].min(),
                    boxes[group, 2].max(),
                    boxes[group, 3].max(),
                ]
                for group in groups
            ],
            dtype=np.float32,
        )
    return boxes


def merge_tolerance(width: float, height: float) -> float:
    """The touching tolerance, in pixels, for an image of ``width`` x ``height``."""
    return MERGE_TOLERANCE_FRACTION * max(width, height)
