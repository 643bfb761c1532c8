"""Draw ``examples/snapshot.jpg``: a webcam-like frame of a clean print, made here so that it carries no licence.

A 1024x768 view from a low camera (the shape of the frames in the project's webcam dataset, whose
README names no licence, so none of them ships): a dark enclosure, the lit bed in perspective, a
grey part a few millimetres tall under the hotend, sensor noise, a vignette and the camera's clock.
Deterministic; ``python examples/make_snapshot.py`` writes it again.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent / "snapshot.jpg"
SIZE = (1024, 768)
QUALITY = 80  # a webcam's usual setting; keeps the file well under 100 KB


def scene() -> Image.Image:
    """The frame before noise: enclosure, bed, part, hotend and the overlay text."""
    width, height = SIZE
    picture = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(picture)
    for y in range(height):  # the enclosure, lit from above
        shade = int(70 - 40 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade, shade + 2, shade + 6))
    bed = [(120, 700), (904, 700), (780, 470), (244, 470)]
    draw.polygon(bed, fill=(38, 40, 44))
    for x in range(0, 11):  # the textured sheet's grid, in perspective
        bottom, top = 120 + x * 78.4, 244 + x * 53.6
        draw.line([(bottom, 700), (top, 470)], fill=(52, 54, 58), width=1)
    draw.rectangle([(110, 700), (914, 718)], fill=(20, 20, 22))  # the bed's front edge
    part = [(430, 610), (600, 610), (585, 560), (445, 560)]  # the first layers of a part
    draw.polygon(part, fill=(150, 150, 155))
    for y in range(562, 610, 3):  # layer lines
        draw.line([(440, y), (592, y)], fill=(128, 128, 134))
    draw.rectangle([(470, 300), (560, 420)], fill=(90, 92, 96))  # the hotend's shroud
    draw.polygon([(505, 420), (525, 420), (515, 452)], fill=(180, 150, 60))  # the brass nozzle
    draw.rectangle([(0, 280), (width, 300)], fill=(60, 62, 66))  # the gantry
    draw.text((16, 740), "2026-11-24 05:51:02  cam0", fill=(230, 230, 230))
    return picture.filter(ImageFilter.GaussianBlur(1.2))  # a cheap lens


def snapshot() -> Image.Image:
    """The scene with a vignette and the sensor's noise."""
    pixels = np.asarray(scene(), dtype=np.float32)
    height, width = pixels.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    radius = np.hypot((xs - width / 2) / width, (ys - height / 2) / height)
    pixels *= (1.0 - 0.6 * radius**2)[..., None]
    noise = np.random.default_rng(24).normal(0.0, 4.0, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


if __name__ == "__main__":
    snapshot().save(OUT, "JPEG", quality=QUALITY)
    print(f"{OUT}: {OUT.stat().st_size} bytes")
