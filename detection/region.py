"""A printer's region of interest: its validation, and the geometry of scoring a frame through it.

Pure (no Django), so the API's validation, the service's predict and the training evaluator share
one definition. A region is given as fractions of the uploaded frame (after EXIF orientation, the
frame detections are reported in): ``0 <= x1 < x2 <= 1`` and ``0 <= y1 < y2 <= 1``. The model sees
only the region, resized to its input, so a small print bed gets more of the model's pixels; its
detections are mapped back to the frame's pixels and always lie inside the region.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from detection.image import DecodedImage
from detection.postprocess import Detection

KEYS = ("x1", "y1", "x2", "y2")

# Our own floor: 5 % of a 640x480 webcam frame is 15,360 pixels (124x124), about a seventh of the
# shipped model's 320x320 input, so a smaller region would feed the model mostly upscaling blur; a
# print bed seen by a webcam covers far more. It also bounds the decode target (``decode_size``)
# to 20 times the model input's pixels.
MIN_AREA = 0.05


class InvalidRegion(ValueError):
    """The value is not a region we accept; the message is safe to show the caller."""


class Region(NamedTuple):
    """A validated region, as fractions of the frame's width (x) and height (y)."""

    x1: float
    y1: float
    x2: float
    y2: float

    def as_dict(self) -> dict[str, float]:
        """The JSON object the API takes and stores: ``{"x1", "y1", "x2", "y2"}``."""
        return dict(zip(KEYS, self, strict=True))


class Crop(NamedTuple):
    """The pixels the model saw, as fractions of the frame (whole pixels of the decoded image)."""

    left: float
    top: float
    right: float
    bottom: float


def parse_region(value: object) -> Region | None:
    """Check a region given as JSON: ``None`` (the whole frame) or an object with exactly x1, y1, x2, y2.

    Each must be a number (not a boolean) in [0, 1], with ``x1 < x2`` and ``y1 < y2``, covering at
    least ``MIN_AREA`` of the frame. Raises ``InvalidRegion`` naming the first rule broken.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRegion("Must be an object with the numbers x1, y1, x2 and y2, or null.")
    missing = [key for key in KEYS if key not in value]
    if missing:
        raise InvalidRegion(f"Missing {', '.join(missing)}: a region needs x1, y1, x2 and y2.")
    if len(value) != len(KEYS):
        raise InvalidRegion("Only x1, y1, x2 and y2 are allowed in a region.")
    for key in KEYS:
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidRegion(f"{key} must be a number.")
        if not 0 <= number <= 1:  # also refuses NaN
            raise InvalidRegion(f"{key} must be between 0 and 1.")
    region = Region(*(float(value[key]) for key in KEYS))
    if region.x2 <= region.x1:
        raise InvalidRegion("x2 must be greater than x1.")
    if region.y2 <= region.y1:
        raise InvalidRegion("y2 must be greater than y1.")
    # The tolerance accepts a region of exactly 5 % whose product floats round down (0.2 x 0.25).
    if (region.x2 - region.x1) * (region.y2 - region.y1) < MIN_AREA - 1e-9:
        raise InvalidRegion(f"The region must cover at least {MIN_AREA:.0%} of the frame.")
    return region


def decode_size(region: Region, input_size: tuple[int, int]) -> tuple[int, int]:
    """The ``target_size`` to decode a frame at so that the region alone still covers ``input_size``.

    ``decode_image`` decodes a JPEG at the smallest 1/n scale, and reduces other images by the
    largest integer factor, that keeps the frame at least as large as its target; with the target
    grown by 1/(x2 - x1) and 1/(y2 - y1), the crop is then at least the model input (to within the
    rounding to whole pixels), so the model still gets as many real pixels as it has inputs.
    """
    width, height = input_size
    # The small tolerance keeps float noise (96 / 0.3 = 320.00000000000006) from adding a pixel.
    return (
        math.ceil(width / (region.x2 - region.x1) - 1e-9),
        math.ceil(height / (region.y2 - region.y1) - 1e-9),
    )


def crop_to_region(image: DecodedImage, region: Region) -> tuple[DecodedImage, Crop]:
    """Cut the decoded pixels to the region, and say where the cut lies in the frame.

    The cut is on the whole pixels nearest the region's edges (at least one pixel each way). The
    returned image has width and height 1, so a detector reports its boxes as fractions of the
    crop, which ``detections_to_frame`` maps back to the frame.
    """
    pixels = image.pixels
    width, height = pixels.size
    left, right = _pixel_span(region.x1, region.x2, width)
    top, bottom = _pixel_span(region.y1, region.y2, height)
    cropped = DecodedImage(pixels=pixels.crop((left, top, right, bottom)), width=1, height=1)
    return cropped, Crop(left / width, top / height, right / width, bottom / height)


def _pixel_span(start: float, end: float, size: int) -> tuple[int, int]:
    """The whole pixels nearest ``[start, end)`` of a side of ``size`` pixels: at least one."""
    first = min(round(start * size), size - 1)
    return first, max(round(end * size), first + 1)


def detections_to_frame(
    detections: list[Detection], crop: Crop, region: Region, *, width: int, height: int
) -> list[Detection]:
    """Detections given as fractions of the crop, in pixels of the ``width`` x ``height`` frame.

    Each box is clipped to the crop and the region (the model may draw past its input's edges), so
    every detection lies inside the region; confidences, and so the score p, are unchanged.
    """
    left, right = max(crop.left, region.x1), min(crop.right, region.x2)
    top, bottom = max(crop.top, region.y1), min(crop.bottom, region.y2)
    crop_w, crop_h = crop.right - crop.left, crop.bottom - crop.top
    mapped = []
    for d in detections:
        x1 = min(max(crop.left + (d.xc - d.w / 2) * crop_w, left), right)
        x2 = min(max(crop.left + (d.xc + d.w / 2) * crop_w, left), right)
        y1 = min(max(crop.top + (d.yc - d.h / 2) * crop_h, top), bottom)
        y2 = min(max(crop.top + (d.yc + d.h / 2) * crop_h, top), bottom)
        mapped.append(
            Detection(
                confidence=d.confidence,
                xc=(x1 + x2) / 2 * width,
                yc=(y1 + y2) / 2 * height,
                w=(x2 - x1) * width,
                h=(y2 - y1) * height,
            )
        )
    return mapped


def detect_in_region(
    detect: Callable[[DecodedImage], list[Detection]], image: DecodedImage, region: Region
) -> list[Detection]:
    """Run ``detect`` (a ``Detector``'s) on the image cut to the region: detections in the frame's pixels.

    The image should be decoded at ``decode_size(region, detector.input_size)``. The service's
    predict and the training evaluator both score a region through here.
    """
    cropped, crop = crop_to_region(image, region)
    return detections_to_frame(detect(cropped), crop, region, width=image.width, height=image.height)
