"""An alert's one stored picture, its snapshot (the upload downscaled, without boxes), and the same
with the detections drawn, made each time it is served.

Pure Pillow (no Django). The snapshot is rendered only for a frame that raises an alert (every other
predict never decodes its upload a second time); the boxes are drawn only when someone asks for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from detection.image import ImageLimits, decode_image

# Our choice: a 1280 px webcam frame shows spaghetti clearly, and its JPEG is 100-300 KB.
MAX_SIDE = 1280
JPEG_QUALITY = 85
# A snapshot too large in bytes (the caller's bound, settings.ALERT_SNAPSHOT_MAX_BYTES) is stored at
# half the size, and again, down to this side: a noise frame's JPEG at 320 px is about 60 KB.
MIN_SIDE = 320
BOX_COLOUR = (255, 0, 0)
LABEL_TEXT_COLOUR = (255, 255, 255)


@dataclass(frozen=True)
class AlertSnapshot:
    """The snapshot's JPEG bytes, and the upright size of the uploaded frame the detections are in."""

    jpeg: bytes
    frame_width: int
    frame_height: int


def alert_snapshot_render(image_bytes: bytes, *, limits: ImageLimits, max_bytes: int) -> AlertSnapshot:
    """Decode an upload and shrink it to at most ``MAX_SIDE`` px on its longer side, as a JPEG.

    A JPEG over ``max_bytes`` (the caller's bound: this module reads no settings) is made again at
    half the size, down to ``MIN_SIDE`` (three encodes at most; at ``MIN_SIDE`` it is kept whatever
    its size). The bytes were checked against ``limits`` when they were scored; they are checked
    again, which costs nothing. A square target lets libjpeg decode a large frame at a reduced scale
    that still covers ``MAX_SIDE`` whichever way the frame is turned. The JPEG is written without the
    upload's metadata.
    """
    decoded = decode_image(image_bytes, target_size=(MAX_SIDE, MAX_SIDE), limits=limits)
    picture = decoded.pixels.copy()
    side = MAX_SIDE
    while True:
        picture.thumbnail((side, side), Image.Resampling.LANCZOS)
        jpeg = _jpeg(picture)
        if len(jpeg) <= max_bytes or side <= MIN_SIDE:
            return AlertSnapshot(jpeg=jpeg, frame_width=decoded.width, frame_height=decoded.height)
        side //= 2


class NotAnAlertSnapshot(ValueError):
    """Stored bytes that ``alert_snapshot_render`` did not write: not a JPEG, or larger than ``MAX_SIDE``."""


def alert_snapshot_tagged(snapshot: bytes, detections: Sequence, *, frame_size: tuple[int, int]) -> bytes:
    """The stored ``snapshot`` with the ``detections`` drawn on it, as a JPEG.

    ``detections`` are the spec's ``[confidence, [xc, yc, w, h]]`` in pixels of the uploaded frame,
    whose upright size is ``frame_size``; they are scaled to the snapshot. The work is bounded by
    the snapshot's size, checked from its header before any pixel is decoded.
    """
    with Image.open(io.BytesIO(snapshot)) as stored:
        if stored.format != "JPEG" or max(stored.size) > MAX_SIDE:
            raise NotAnAlertSnapshot(f"{stored.format} {stored.size} is not an alert snapshot")
        picture = stored.convert("RGB")
    width, height = frame_size
    draw_detections(picture, detections, scale=(picture.width / width, picture.height / height))
    return _jpeg(picture)


def draw_detections(picture: Image.Image, detections: Sequence, *, scale: tuple[float, float]) -> None:
    """Draw each detection's box and confidence on ``picture`` in place; boxes are scaled by ``scale`` (x, y)."""
    draw = ImageDraw.Draw(picture)
    line = max(2, round(max(picture.size) / 400))
    font = ImageFont.load_default(size=max(12, round(max(picture.size) / 60)))
    for confidence, (xc, yc, w, h) in detections:
        x1, y1 = (xc - w / 2) * scale[0], (yc - h / 2) * scale[1]
        x2, y2 = (xc + w / 2) * scale[0], (yc + h / 2) * scale[1]
        draw.rectangle((x1, y1, x2, y2), outline=BOX_COLOUR, width=line)
        label = f"{confidence:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        text_w, text_h = right - left, bottom - top
        # Above the box when there is room, else inside its top edge.
        y = y1 - text_h - 2 * line if y1 - text_h - 2 * line >= 0 else y1
        draw.rectangle((x1, y, x1 + text_w + 2 * line, y + text_h + 2 * line), fill=BOX_COLOUR)
        draw.text((x1 + line - left, y + line - top), label, fill=LABEL_TEXT_COLOUR, font=font)


def _jpeg(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
