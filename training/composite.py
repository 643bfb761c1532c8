"""Small, early failures as a webcam sees them: real failure regions pasted onto clean in-printer frames.

Issue 15: the detector is blind to small failures in webcam frames (a blob on the nozzle, strings on
the bed, often under 5 % of the frame), and almost no training positive looks like one. This module
cuts real failure regions out of labelled photos (``spaghetti`` boxes, ``roboflow-3dprinting``
``fail`` boxes), shrinks them to 4-16 % of the frame's width and pastes them onto clean frames of
``webcam-clean``:

- **Crop**: the labelled box plus a margin of 15 % of its side on each side (clipped to the photo),
  so that the feathered edge falls on the margin and the whole labelled region stays opaque.
- **Size**: the patch keeps the region's real aspect ratio (photos and frames are both stretched
  to a square cache, so each carries a pixel aspect); its longer side is drawn log-uniformly.
- **Placement** (``place_patch``): the camera of ``webcam-clean`` sits at bed height, and the bed's
  front edge runs across the lower fifth to third of every frame. "bed": the patch's bottom edge
  lies at 72-95 % of the frame's height and its centre at 10-90 % of the width (strings and
  detached parts on the bed); "nozzle": the centre lies at 30-70 % of the height and 20-80 % of
  the width, where the hot end and the top of the print are in these frames (a blob on the nozzle).
  There are no nozzle annotations: these zones are read off the ten sequences by eye.
- **Lighting** (``match_lighting``): each channel's mean and standard deviation are moved towards
  those of the frame under and around the patch (the standard-deviation gain clipped to 0.5-2), by
  a strength drawn from 0.5-1: a full match would recolour a red tangle to the bed's grey.
- **Blending** (``feather_mask``): an alpha mask that is 1 over the labelled box and falls linearly
  to 0 across the margin (at least 2 px), so no hard rectangle edge gives the paste away.
- **Label**: the labelled box's place in the frame (``pasted_box``), as class 1.

Training draws composites afresh each epoch on the training sequences (``composite_samples``); the
held-out set (``build_heldout_set``, the CLI below) is built once, seeded, only from the held-out
sequences and from regions of the ``val`` splits, so neither its backgrounds nor its failures were
trained on:

    python -m training.composite --out /tmp/v2/composite-val

The geometry is pure and tested (``tests/training/test_composite.py``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from training import dataset

MARGIN_FRACTION = 0.15
MIN_FEATHER_PX = 2.0
SIZE_RANGE = (0.04, 0.16)  # longer side of the pasted labelled box, as a fraction of the frame's width
NOZZLE_SHARE = 0.3
BED_BOTTOM_RANGE = (0.72, 0.95)
BED_CENTRE_X_RANGE = (0.10, 0.90)
NOZZLE_CENTRE_Y_RANGE = (0.30, 0.70)
NOZZLE_CENTRE_X_RANGE = (0.20, 0.80)
MAX_STD_GAIN = 2.0
MATCH_STRENGTH_RANGE = (0.5, 1.0)
# Regions smaller than this (cache pixels, either side) are too blurred to shrink further.
MIN_REGION_PX = 12.0
HELDOUT_SEED = 20261204
HELDOUT_PER_FRAME = 2


@dataclass(frozen=True)
class Region:
    """A failure cut from a photo: ``pixels`` uint8 ``[h, w, 3]`` with ``box`` (x1, y1, x2, y2) of the failure inside.

    ``pixel_aspect`` is the real width of one pixel over its real height (photos stretched to a
    square cache have pixels that are not square).
    """

    pixels: np.ndarray
    box: tuple[float, float, float, float]
    pixel_aspect: float = 1.0
    source: str = ""


def margin_crop(box: np.ndarray, image_w: int, image_h: int, margin: float = MARGIN_FRACTION) -> tuple[int, ...]:
    """Integer crop (x0, y0, x1, y1) of ``box``, grown by ``margin`` of its width/height per side, inside the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    grow_x, grow_y = margin * (x2 - x1), margin * (y2 - y1)
    return (
        max(0, int(np.floor(x1 - grow_x))),
        max(0, int(np.floor(y1 - grow_y))),
        min(image_w, int(np.ceil(x2 + grow_x))),
        min(image_h, int(np.ceil(y2 + grow_y))),
    )


def patch_scale(
    region_box: tuple[float, float, float, float], region_aspect: float, frame_aspect: float, long_side: float
) -> tuple[float, float]:
    """Scale factors (x, y) from region pixels to frame pixels.

    The labelled box's longer real side becomes ``long_side`` frame pixels (measured along whichever
    frame axis it lies on), and its real aspect ratio is kept: region pixels of real width
    ``region_aspect`` land on frame pixels of real width ``frame_aspect``.
    """
    box_w = (region_box[2] - region_box[0]) * region_aspect / frame_aspect  # in frame-x pixels at scale 1
    box_h = region_box[3] - region_box[1]
    scale = long_side / max(box_w, box_h)
    return scale * region_aspect / frame_aspect, scale


def place_patch(
    frame_w: int, frame_h: int, patch_w: int, patch_h: int, rng: np.random.Generator, zone: str
) -> tuple[int, int]:
    """Top-left corner of a ``patch_w`` x ``patch_h`` patch in ``zone`` ("bed" or "nozzle"), inside the frame."""
    if patch_w > frame_w or patch_h > frame_h:
        raise ValueError("the patch is larger than the frame")
    if zone == "bed":
        centre_x = rng.uniform(*BED_CENTRE_X_RANGE) * frame_w
        top = rng.uniform(*BED_BOTTOM_RANGE) * frame_h - patch_h
    elif zone == "nozzle":
        centre_x = rng.uniform(*NOZZLE_CENTRE_X_RANGE) * frame_w
        top = rng.uniform(*NOZZLE_CENTRE_Y_RANGE) * frame_h - patch_h / 2
    else:
        raise ValueError(f"unknown zone {zone!r}")
    left = round(np.clip(centre_x - patch_w / 2, 0, frame_w - patch_w))
    top = round(np.clip(top, 0, frame_h - patch_h))
    return left, top


def pasted_box(
    left: int, top: int, region_box: tuple[float, float, float, float], scale: tuple[float, float]
) -> np.ndarray:
    """Where the labelled box of a region lands in the frame: ``[4]`` float32 (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = region_box
    sx, sy = scale
    return np.array([left + x1 * sx, top + y1 * sy, left + x2 * sx, top + y2 * sy], dtype=np.float32)


def feather_mask(
    patch_w: int, patch_h: int, inner_box: tuple[float, float, float, float], min_feather: float = MIN_FEATHER_PX
) -> np.ndarray:
    """Alpha ``[patch_h, patch_w]`` float32: 1 over ``inner_box``, falling linearly to 0 at the patch edge.

    Each side ramps over its own margin (the distance from the box to the patch edge), at least
    ``min_feather`` pixels, the ramp then reaching a little inside the box.
    """
    x1, y1, x2, y2 = inner_box
    xs = np.arange(patch_w, dtype=np.float32) + 0.5
    ys = np.arange(patch_h, dtype=np.float32) + 0.5

    def ramp(coords: np.ndarray, low: float, high: float, size: int) -> np.ndarray:
        left = max(low, min_feather)
        right = max(size - high, min_feather)
        return np.clip(np.minimum(coords / left, (size - coords) / right), 0.0, 1.0)

    return np.minimum(ramp(xs, x1, x2, patch_w)[None, :], ramp(ys, y1, y2, patch_h)[:, None]).astype(np.float32)


def match_lighting(
    patch: np.ndarray, reference: np.ndarray, strength: float = 1.0, max_gain: float = MAX_STD_GAIN
) -> np.ndarray:
    """``patch`` (float ``[h, w, 3]``), each channel's mean and std moved ``strength`` of the way to ``reference``'s."""
    patch = patch.astype(np.float32)
    mean_p, std_p = patch.mean(axis=(0, 1)), patch.std(axis=(0, 1))
    mean_r, std_r = reference.reshape(-1, 3).mean(axis=0), reference.reshape(-1, 3).std(axis=0)
    gain = np.clip(std_r / np.maximum(std_p, 1e-3), 1 / max_gain, max_gain)
    matched = (patch - mean_p) * gain + mean_r
    return (1 - strength) * patch + strength * matched


def blend(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, left: int, top: int) -> np.ndarray:
    """A copy of ``frame`` (uint8) with ``patch`` alpha-blended at (left, top)."""
    out = frame.astype(np.float32)
    h, w = alpha.shape
    window = out[top : top + h, left : left + w]
    window[:] = alpha[..., None] * patch + (1 - alpha[..., None]) * window
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def paste_region(
    frame: np.ndarray, frame_aspect: float, region: Region, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Paste one region at a random size, zone and lighting strength: (new frame uint8, its box ``[4]``)."""
    frame_h, frame_w = frame.shape[:2]
    long_side = float(np.exp(rng.uniform(np.log(SIZE_RANGE[0]), np.log(SIZE_RANGE[1])))) * frame_w
    zone = "nozzle" if rng.random() < NOZZLE_SHARE else "bed"
    strength = rng.uniform(*MATCH_STRENGTH_RANGE)
    patch_w, patch_h = patch_size(frame, frame_aspect, region, long_side)
    left, top = place_patch(frame_w, frame_h, patch_w, patch_h, rng, zone)
    return paste_region_at(frame, region, (patch_w, patch_h), (left, top), strength)


def patch_size(frame: np.ndarray, frame_aspect: float, region: Region, long_side: float) -> tuple[int, int]:
    """The patch's size in frame pixels when the region's labelled box spans ``long_side`` pixels."""
    frame_h, frame_w = frame.shape[:2]
    region_h, region_w = region.pixels.shape[:2]
    scale = patch_scale(region.box, region.pixel_aspect, frame_aspect, long_side)
    return int(np.clip(round(region_w * scale[0]), 2, frame_w)), int(np.clip(round(region_h * scale[1]), 2, frame_h))


def paste_region_at(
    frame: np.ndarray, region: Region, size: tuple[int, int], corner: tuple[int, int], strength: float
) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``region`` resized to ``size`` with its top-left at ``corner``, lighting matched by ``strength``.

    Returns (new frame uint8, where the labelled box landed ``[4]``).
    """
    frame_h, frame_w = frame.shape[:2]
    patch_w, patch_h = size
    left, top = corner
    region_h, region_w = region.pixels.shape[:2]
    # The rounded patch size sets the scale actually used, so the box matches the pixels.
    scale = (patch_w / region_w, patch_h / region_h)
    patch = np.asarray(
        Image.fromarray(region.pixels).resize((patch_w, patch_h), Image.Resampling.BILINEAR), dtype=np.float32
    )
    # The reference is the frame under the patch and as much again around it.
    pad_x, pad_y = patch_w // 2, patch_h // 2
    reference = frame[
        max(0, top - pad_y) : min(frame_h, top + patch_h + pad_y),
        max(0, left - pad_x) : min(frame_w, left + patch_w + pad_x),
    ].astype(np.float32)
    patch = match_lighting(patch, reference, strength)
    box = pasted_box(left, top, region.box, scale)
    alpha = feather_mask(patch_w, patch_h, tuple(pasted_box(0, 0, region.box, scale)))
    return blend(frame, patch, alpha, left, top), box


def sample_pixel_aspect(sample: dataset.Sample) -> float:
    """Real width over real height of one cached pixel of ``sample`` (1.0 when its source size is unknown)."""
    if sample.source_size is None:
        return 1.0
    cache_h, cache_w = sample.pixels.shape[:2]
    return (sample.source_size[0] / cache_w) / (sample.source_size[1] / cache_h)


def regions_from_samples(samples: list[dataset.Sample], margin: float = MARGIN_FRACTION) -> list[Region]:
    """Every labelled box of ``samples`` at least ``MIN_REGION_PX`` a side, cut with its margin."""
    regions = []
    for sample in samples:
        height, width = sample.pixels.shape[:2]
        aspect = sample_pixel_aspect(sample)
        for box in sample.boxes:
            if min(box[2] - box[0], box[3] - box[1]) < MIN_REGION_PX:
                continue
            x0, y0, x1, y1 = margin_crop(box, width, height, margin)
            inner = (float(box[0] - x0), float(box[1] - y0), float(box[2] - x0), float(box[3] - y0))
            regions.append(Region(sample.pixels[y0:y1, x0:x1].copy(), inner, aspect, str(sample.path)))
    return regions


def composite_samples(
    frames: list[dataset.Sample], regions: list[Region], count: int, seed: int | list[int]
) -> list[dataset.Sample]:
    """``count`` composites drawn from ``seed``: a random frame with one region pasted (two in a third of them)."""
    if not count or not frames or not regions:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        frame_sample = frames[int(rng.integers(len(frames)))]
        pixels, boxes = frame_sample.pixels, []
        for _ in range(2 if rng.random() < 1 / 3 else 1):
            pixels, box = paste_region(
                pixels, sample_pixel_aspect(frame_sample), regions[int(rng.integers(len(regions)))], rng
            )
            boxes.append(box)
        out.append(
            dataset.Sample(pixels, np.stack(boxes).astype(np.float32), frame_sample.path, frame_sample.source_size)
        )
    return out


def build_heldout_set(root: Path, out: Path, seed: int = HELDOUT_SEED, per_frame: int = HELDOUT_PER_FRAME) -> dict:
    """Write the held-out composite set to ``out/images`` + ``out/labels`` (class 1) at the frames' full size.

    Backgrounds: the validation prints of ``webcam-clean`` only. Failures: merged boxes of
    ``spaghetti/val`` and ``roboflow-3dprinting/val`` only. One region per image. Returns a summary.
    """
    from detection.image import decode_image

    sources = [
        dataset.load_full_size_sample(i, lbl, class_id=dataset.SPAGHETTI_CLASS)
        for i, lbl in dataset.spaghetti_split(root, "val")
    ]
    sources += [dataset.load_full_size_sample(i, lbl, class_id=0) for i, lbl in dataset.roboflow_split(root, "val")]
    regions = regions_from_samples(sources)
    frames = dataset.webcam_frames(root, ("p1",), "validation")
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    manifest = []
    for frame_path in frames:
        decoded = decode_image(frame_path.read_bytes())
        frame = np.asarray(decoded.pixels.convert("RGB"), dtype=np.uint8)
        height, width = frame.shape[:2]
        for index in range(per_frame):
            region = regions[int(rng.integers(len(regions)))]
            pixels, box = paste_region(frame, 1.0, region, rng)
            name = f"{frame_path.parent.name}__{frame_path.stem}__{index}"
            Image.fromarray(pixels).save(out / "images" / f"{name}.jpg", quality=90)
            xc, yc = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
            bw, bh = (box[2] - box[0]) / width, (box[3] - box[1]) / height
            (out / "labels" / f"{name}.txt").write_text(f"1 {xc:.6f} {yc:.6f} {bw:.6f} {bh:.6f}\n")
            manifest.append({"image": name, "region_from": region.source, "box_px": [round(float(v), 1) for v in box]})
    sides = np.array([max(m["box_px"][2] - m["box_px"][0], m["box_px"][3] - m["box_px"][1]) for m in manifest])
    summary = {
        "images": len(manifest),
        "frames": len(frames),
        "regions_available": len(regions),
        "seed": seed,
        "box_long_side_px": {"min": float(sides.min()), "median": float(np.median(sides)), "max": float(sides.max())},
    }
    (out / "manifest.json").write_text(json.dumps({"summary": summary, "images": manifest}, indent=1))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=dataset.DEFAULT_DATA_ROOT)
    parser.add_argument("--out", type=Path, required=True, help="folder to write images/ and labels/ into")
    parser.add_argument("--seed", type=int, default=HELDOUT_SEED)
    parser.add_argument("--per-frame", type=int, default=HELDOUT_PER_FRAME)
    args = parser.parse_args(argv)
    print(json.dumps(build_heldout_set(args.data_root, args.out, args.seed, args.per_frame), indent=2))


if __name__ == "__main__":
    main()
