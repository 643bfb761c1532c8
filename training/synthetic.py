"""Procedurally generated plain negatives: printer-like scenes with solid shapes and no filament.

The photo datasets never show a flat, hard-edged scene (a plain wall, a bed, a solid printed block),
and the epoch-22 model fired on exactly that: p = 1.0 on a dark background with a grey bed and an
orange block. Printed parts really are solid blocks on beds, so these scenes teach that solid
objects and hard edges are not spaghetti. Each scene is a random draw of

- a background: a flat colour, a linear gradient, or a wall/floor split at a random height;
- usually a bed: a perspective quadrilateral (trapezoid) or a horizontal band, sometimes with a
  lighter front edge and a few straight, regular grid lines;
- 0-4 solid objects in random colours: rectangles (optionally with a lighter top face, i.e. a box
  seen from above the front), convex polygons, ellipses and cylinders (a rectangle with elliptic
  top and bottom), some with a smooth shading gradient;
- 0-3 straight bars or rods (gantry, rails, frame), from thick to 2 px;
- then mild noise, sometimes a slight blur, and a JPEG round trip at a random quality, decoded by
  the service's ``decode_image`` like every other training image.

There are no thin wiggly strands, loops or clusters of curves: those are what spaghetti looks like.
Scenes are negatives (no boxes). Everything is drawn from one ``numpy`` generator, so a seed fixes the
set; the trainer draws a fresh set every epoch from ``(seed, epoch)``.

Run as a module to score a model on a few fixed plain scenes and on fresh generated ones:

    python -m training.synthetic --model models/spaghetti-effnetlite0.onnx
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from detection.image import decode_image
from training.dataset import Sample

# Sizes of the drawn scene before the JPEG round trip: webcams (4:3, 16:9) and square photos.
SCENE_SIZES = ((640, 480), (800, 600), (1024, 768), (1280, 720), (640, 640), (960, 540), (1600, 1200))


def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    """A random colour: half the time a grey, otherwise any hue, both between ``low`` and ``high``."""
    if rng.random() < 0.4:
        value = int(rng.integers(low, high))
        tint = rng.integers(-8, 9, size=3)
        return tuple(int(np.clip(value + t, 0, 255)) for t in tint)
    return tuple(int(v) for v in rng.integers(low, high, size=3))


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in colour)


def _gradient(size: tuple[int, int], start, end, angle: float) -> Image.Image:
    """A linear gradient from ``start`` to ``end`` along ``angle`` (radians)."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs / max(1, width - 1) * np.cos(angle) + ys / max(1, height - 1) * np.sin(angle)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    start, end = np.asarray(start, np.float32), np.asarray(end, np.float32)
    pixels = start + t[..., None] * (end - start)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def _background(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    width, height = size
    kind = rng.random()
    base = _colour(rng)
    if kind < 0.35:
        return Image.new("RGB", size, base)
    if kind < 0.7:
        return _gradient(size, base, _shade(_colour(rng), 1.0), rng.uniform(0, 2 * np.pi))
    # A wall above and a floor / enclosure bottom below, each flat or gently graded.
    image = Image.new("RGB", size, base)
    split = int(height * rng.uniform(0.3, 0.8))
    floor = _gradient((width, height - split), _colour(rng), _colour(rng), np.pi / 2 + rng.uniform(-0.3, 0.3))
    image.paste(floor, (0, split))
    return image


def _bed(rng: np.random.Generator, draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> tuple[float, float]:
    """Draw a bed; returns the vertical range (top, bottom) where objects may stand."""
    width, height = size
    colour = _colour(rng)
    top = height * rng.uniform(0.35, 0.8)
    bottom = min(height * 1.05, top + height * rng.uniform(0.15, 0.5))
    if rng.random() < 0.6:
        # A perspective quadrilateral: narrower at the back than at the front.
        centre = width * rng.uniform(0.35, 0.65)
        back = width * rng.uniform(0.3, 0.8) / 2
        front = back * rng.uniform(1.0, 1.5)
        skew = width * rng.uniform(-0.05, 0.05)
        corners = [
            (centre - back + skew, top),
            (centre + back + skew, top),
            (centre + front, bottom),
            (centre - front, bottom),
        ]
        draw.polygon(corners, fill=colour)
        if rng.random() < 0.5:  # a lighter or darker front edge, as a lit bed plate has
            edge = bottom - height * rng.uniform(0.01, 0.03)
            draw.polygon(
                [(centre - front, edge), (centre + front, edge), (centre + front, bottom), (centre - front, bottom)],
                fill=_shade(colour, rng.uniform(0.6, 1.4)),
            )
        left, right = centre - back, centre + back
    else:
        draw.rectangle([0, top, width, bottom], fill=colour)
        left, right = 0.0, float(width)
    if rng.random() < 0.25:  # a few straight, evenly spaced grid lines printed on the bed
        lines = int(rng.integers(2, 7))
        line_colour = _shade(colour, rng.uniform(0.7, 1.3))
        for index in range(1, lines + 1):
            x = left + (right - left) * index / (lines + 1)
            draw.line([(x, top), (x, bottom)], fill=line_colour, width=int(rng.integers(1, 3)))
    return top, bottom


def _solid(rng: np.random.Generator, image: Image.Image, floor: tuple[float, float]) -> None:
    """One solid object standing on the floor range (or anywhere, if it floats)."""
    width, height = image.size
    draw = ImageDraw.Draw(image)
    obj_w = width * rng.uniform(0.04, 0.45)
    obj_h = height * rng.uniform(0.05, 0.6)
    x0 = rng.uniform(-0.05 * width, width - 0.5 * obj_w)
    base = rng.uniform(*floor) if rng.random() < 0.75 else rng.uniform(obj_h, height * 1.1)
    y0 = base - obj_h
    box = [x0, y0, x0 + obj_w, base]
    colour = _colour(rng)
    kind = rng.random()
    if kind < 0.35:
        if rng.random() < 0.4:  # shaded like a lit block: a gradient across its face
            face = _gradient(
                (max(1, int(obj_w)), max(1, int(obj_h))),
                colour,
                _shade(colour, rng.uniform(0.5, 1.5)),
                rng.uniform(0, 2 * np.pi),
            )
            image.paste(face, (int(x0), int(y0)))
        else:
            draw.rectangle(box, fill=colour)
        if rng.random() < 0.5:  # a top face in another shade
            depth = obj_h * rng.uniform(0.03, 0.2)
            draw.rectangle([x0, y0 - depth, x0 + obj_w, y0 + depth * 0.2], fill=_shade(colour, rng.uniform(0.6, 1.4)))
    elif kind < 0.6:
        corners = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=corners))
        cx, cy = x0 + obj_w / 2, y0 + obj_h / 2
        points = [(cx + obj_w / 2 * np.cos(a), cy + obj_h / 2 * np.sin(a)) for a in angles]
        draw.polygon(points, fill=colour)
    elif kind < 0.8:
        draw.ellipse(box, fill=colour)
    else:  # a cylinder: body with an elliptic bottom, and a top ellipse in a lighter shade
        cap = min(obj_h * 0.4, obj_w * rng.uniform(0.1, 0.4))
        draw.rectangle([x0, y0 + cap / 2, x0 + obj_w, base - cap / 2], fill=colour)
        draw.ellipse([x0, base - cap, x0 + obj_w, base], fill=colour)
        draw.ellipse([x0, y0, x0 + obj_w, y0 + cap], fill=_shade(colour, rng.uniform(0.7, 1.4)))


def _bar(rng: np.random.Generator, draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    """A straight bar or rod: gantry, rail, frame edge. Straight, so nothing like a strand."""
    width, height = size
    colour = _colour(rng)
    thickness = int(rng.choice([rng.integers(2, 6), rng.integers(6, 40)]))
    if rng.random() < 0.5:  # horizontal gantry or rail
        y = rng.uniform(0, height)
        tilt = height * rng.uniform(-0.03, 0.03)
        draw.line([(0, y), (width, y + tilt)], fill=colour, width=thickness)
    else:  # vertical or slanted rod or frame post
        x = rng.uniform(0, width)
        lean = width * rng.uniform(-0.15, 0.15)
        draw.line([(x, 0), (x + lean, height)], fill=colour, width=thickness)


def make_scene(rng: np.random.Generator) -> Image.Image:
    """One random plain scene at a random camera size, before any JPEG round trip."""
    size = SCENE_SIZES[int(rng.integers(len(SCENE_SIZES)))]
    image = _background(rng, size)
    draw = ImageDraw.Draw(image)
    floor = _bed(rng, draw, size) if rng.random() < 0.8 else (size[1] * 0.4, size[1] * 1.0)
    for _ in range(int(rng.integers(0, 5))):
        _solid(rng, image, floor)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.choice([0, 0, 1, 2, 3]))):
        _bar(rng, draw, size)
    if rng.random() < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
    if rng.random() < 0.7:
        pixels = np.asarray(image, dtype=np.float32)
        pixels += rng.normal(0, rng.uniform(1.0, 6.0), size=pixels.shape).astype(np.float32)
        image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    return image


def to_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def synthetic_negatives(count: int, cache_size: tuple[int, int], seed) -> list[Sample]:
    """``count`` scenes as training samples (no boxes) at ``cache_size``, decoded as the service decodes.

    ``seed`` is anything ``numpy.random.default_rng`` accepts, e.g. ``[run_seed, epoch]``.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        data = to_jpeg(make_scene(rng), quality=int(rng.integers(50, 96)))
        decoded = decode_image(data, target_size=cache_size)
        pixels = decoded.pixels.resize(cache_size, Image.Resampling.BILINEAR)
        path = Path(f"synthetic/{index:04d}.jpg")
        samples.append(Sample(np.asarray(pixels, dtype=np.uint8), np.zeros((0, 4), dtype=np.float32), path))
    return samples


def probe_scenes() -> dict[str, Image.Image]:
    """Fixed plain scenes (1024x768) the epoch-22 model alarmed on, plus two trivial ones, for measurement only."""
    scenes = {}
    image = Image.new("RGB", (1024, 768), (40, 42, 48))
    draw = ImageDraw.Draw(image)
    draw.polygon([(120, 560), (904, 560), (1000, 740), (24, 740)], fill=(70, 70, 78))
    draw.rectangle([430, 360, 600, 600], fill=(210, 90, 40))
    scenes["dark background, grey trapezoid bed, orange block"] = image
    image = Image.new("RGB", (1024, 768), (40, 42, 48))
    ImageDraw.Draw(image).rectangle([430, 360, 600, 600], fill=(210, 90, 40))
    scenes["dark background, orange block"] = image
    image = Image.new("RGB", (1024, 768), (200, 200, 205))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 500, 1024, 768], fill=(60, 60, 60))
    draw.rectangle([450, 380, 580, 520], fill=(30, 120, 200))
    scenes["light wall, dark bed band, blue block"] = image
    image = Image.new("RGB", (1024, 768), (230, 230, 230))
    ImageDraw.Draw(image).ellipse([400, 300, 620, 520], fill=(20, 160, 60))
    scenes["white background, green disc"] = image
    scenes["uniform grey"] = Image.new("RGB", (1024, 768), (128, 128, 128))
    scenes["horizontal gradient"] = Image.linear_gradient("L").rotate(90).resize((1024, 768)).convert("RGB")
    return scenes


def main(argv: list[str] | None = None) -> None:
    from detection.postprocess import failure_score
    from detection.runner import Detector

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--count", type=int, default=200, help="fresh generated scenes to score")
    parser.add_argument("--seed", type=int, default=12345, help="not a training seed (those are [seed, epoch])")
    parser.add_argument("--save", type=Path, help="also write the probes and the first 24 scenes as JPEGs here")
    args = parser.parse_args(argv)

    detector = Detector(args.model, threads=2)

    def score(image: Image.Image, quality: int = 90) -> float:
        decoded = decode_image(to_jpeg(image, quality), target_size=detector.input_size)
        return round(failure_score(detector.detect(decoded)), 3)

    probes = {name: score(image) for name, image in probe_scenes().items()}
    rng = np.random.default_rng(args.seed)
    scores = []
    for index in range(args.count):
        image = make_scene(rng)
        scores.append(score(image, int(rng.integers(50, 96))))
        if args.save and index < 24:
            args.save.mkdir(parents=True, exist_ok=True)
            image.save(args.save / f"scene{index:02d}.jpg", quality=90)
    if args.save:
        for index, image in enumerate(probe_scenes().values()):
            image.save(args.save / f"probe{index}.jpg", quality=90)
    scores = np.asarray(scores)
    report = {
        "model": str(args.model),
        "probes": probes,
        "generated": {
            "seed": args.seed,
            "scenes": args.count,
            "median_p": round(float(np.median(scores)), 3),
            "share_p>=0.2": round(float((scores >= 0.2).mean()), 3),
            "share_p>=0.5": round(float((scores >= 0.5).mean()), 3),
            "max_p": round(float(scores.max()), 3),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
