"""The two pictures an alert keeps: its snapshot downscaled, and the same with the detections drawn.

Pure Pillow (no Django), called only for a frame that raises an alert: every other predict never
decodes its upload a second time.
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
BOX_COLOUR = (255, 0, 0)
LABEL_TEXT_COLOUR = (255, 255, 255)


@dataclass(frozen=True)
class AlertImages:
    """The JPEG bytes of both pictures, and the upright size of the uploaded frame the detections are in."""

    snapshot: bytes
    tagged: bytes
    frame_width: int
    frame_height: int


def alert_images_render(image_bytes: bytes, detections: Sequence, *, limits: ImageLimits) -> AlertImages:
    """Decode an upload, shrink it to at most ``MAX_SIDE`` px on its longer side and draw the detections.

    ``detections`` are the spec's ``[confidence, [xc, yc, w, h]]`` in pixels of the upload. The bytes
    were checked against ``limits`` when they were scored; they are checked again, which costs nothing.
    A square target lets libjpeg decode a large frame at a reduced scale that still covers ``MAX_SIDE``
    whichever way the frame is turned. Both JPEGs are written without the upload's metadata.
    """
    decoded = decode_image(image_bytes, target_size=(MAX_SIDE, MAX_SIDE), limits=limits)
    picture = decoded.pixels.copy()
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    tagged = picture.copy()
    draw_detections(tagged, detections, scale=(picture.width / decoded.width, picture.height / decoded.height))
    return AlertImages(
        snapshot=_jpeg(picture), tagged=_jpeg(tagged), frame_width=decoded.width, frame_height=decoded.height
    )


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
