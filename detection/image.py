"""Decoding of uploaded snapshots into RGB pixels the detector can read.

Pure Pillow: no Django here, so the training evaluator decodes exactly as the service does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# The spec asks for JPEG; PNG and WebP are what webcams and apps also send. Everything else
# (GIF, SVG, TIFF, ...) is refused rather than guessed at.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})

# Refuse decompression bombs from the header alone, before any pixel is decoded:
# 50 megapixels is far beyond any webcam (4K is 8.3 MP).
MAX_PIXELS = 50_000_000


class InvalidImage(ValueError):
    """The upload is not an image we can decode; the message is safe to show the caller."""


@dataclass(frozen=True)
class DecodedImage:
    """An upload ready for the detector.

    ``pixels`` may be smaller than the upload (JPEG draft decoding) but has its aspect ratio;
    ``width`` and ``height`` are the upload's own size after EXIF orientation, the frame in
    which detections are reported.
    """

    pixels: Image.Image
    width: int
    height: int


def decode_image(data: bytes, *, target_size: tuple[int, int] | None = None) -> DecodedImage:
    """Decode JPEG, PNG or WebP bytes into an upright RGB image.

    ``target_size`` (W, H) lets libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is much
    larger than the model input, which is most of the cost of a webcam frame.
    """
    if not data:
        raise InvalidImage("The image file is empty.")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise InvalidImage("The image is too large.") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidImage("The file is not a JPEG, PNG or WebP image.") from exc
    if image.format not in ACCEPTED_FORMATS:
        raise InvalidImage(f"{image.format} images are not accepted; send a JPEG, PNG or WebP image.")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InvalidImage(f"The image is too large ({width}x{height} pixels).")

    # EXIF orientation must be read before draft(), which drops nothing but is clearer first.
    orientation = image.getexif().get(0x0112, 1)
    upright_size = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    try:
        if target_size is not None and image.format == "JPEG":
            # draft() picks the largest 1/n scale that stays at least as big as the request.
            draft_size = target_size if upright_size == (width, height) else target_size[::-1]
            image.draft("RGB", draft_size)
        image = ImageOps.exif_transpose(image)
        if image.mode != "RGB":
            image = _to_rgb(image)
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        # Truncated or corrupt data surfaces only when pixels are decoded.
        raise InvalidImage("The image data is corrupt or truncated.") from exc
    return DecodedImage(pixels=image, width=upright_size[0], height=upright_size[1])


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode to RGB; transparent pixels become white instead of black noise."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
