"""Training data: the spaghetti photos with boxes, plus clean-print negatives, held in memory.

Every image is decoded once with the service's own ``decode_image`` and stretched to a cache size
a little larger than the model input (the runner stretches the whole image too, no letterbox),
so an epoch costs only crops, flips and colour jitter.

Splits of the negatives are fixed here so that training and the model card agree on what was
held out: clean-prints are split by file number (photos 1-57 train, 58-114 held out); each webcam
(``CAMERA_FOLDERS``) is held out whole by the folds of the ``cameras`` setting (``config.py``), and a camera that
trains keeps three of its prints for validation (``VALIDATION_PRINTS``), never split by frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from detection.image import decode_image
from training.labels import merge_tolerance, merge_touching_boxes

DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SPAGHETTI_CLASS = 1
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
CLEAN_PRINTS_TRAIN_MAX_NUMBER = 57
# The webcams we have, each a folder of prints (``images/PRINT/frame_*.jpg``): two printers, two cameras.
CAMERA_FOLDERS = {"p1": "webcam-clean", "p2": "webcam-clean-p2"}
CAMERAS = tuple(CAMERA_FOLDERS)
# Prints of each camera kept out of training when that camera trains: the calibration and the verdict's
# tuning (validation) use them. A camera that does not train is held out whole.
VALIDATION_PRINTS = {
    "p1": ("BlackWobbly", "WhiteBoat", "YellowEarly"),
    "p2": ("GreenCase", "P2RedVase", "RedSkullEarly"),
}
# A box cut by a crop is kept if this much of its area stays visible, or if what stays fills this much
# of the crop (a crop inside a huge box is still spaghetti); slivers are dropped as ambiguous.
MIN_VISIBLE_FRACTION = 0.4
MIN_CROP_FRACTION = 0.2
MIN_BOX_PIXELS = 6.0


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder``, recursively, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def read_yolo_boxes(
    label_path: Path, width: int, height: int, class_id: int = SPAGHETTI_CLASS, merge: bool = False
) -> np.ndarray:
    """Boxes of one class of a YOLO label file as ``[K, 4]`` (x1, y1, x2, y2) pixels of a ``width`` x ``height`` image.

    By default class 1 of ``spaghetti``; class 0 (printer gantry) is dropped: it is background like
    any unlabelled region. ``roboflow-3dprinting`` passes ``class_id=0`` (``fail``). With ``merge``,
    overlapping and touching boxes are joined into whole regions (``labels.merge_touching_boxes``).
    """
    boxes = []
    if label_path.exists():
        for line in label_path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 5 or int(parts[0]) != class_id:
                continue
            xc, yc, w, h = (float(v) for v in parts[1:])
            boxes.append(((xc - w / 2) * width, (yc - h / 2) * height, (xc + w / 2) * width, (yc + h / 2) * height))
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if merge:
        boxes = merge_touching_boxes(boxes, merge_tolerance(width, height))
    return boxes


def spaghetti_split(root: Path, split: str) -> list[tuple[Path, Path]]:
    """(image, label) pairs of ``spaghetti/{split}``."""
    folder = root / "spaghetti" / split
    return [(image, folder / "labels" / f"{image.stem}.txt") for image in list_images(folder / "images")]


def roboflow_split(root: Path, split: str) -> list[tuple[Path, Path]]:
    """(image, label) pairs of ``roboflow-3dprinting/{split}``; its one class, 0, is ``fail``."""
    folder = root / "roboflow-3dprinting" / split
    return [(image, folder / "labels" / f"{image.stem}.txt") for image in list_images(folder / "images")]


def clean_prints(root: Path, *, heldout: bool) -> list[Path]:
    """clean-prints photos of the training half (numbers 1-57) or the held-out half (58-114)."""

    def number(path: Path) -> int:
        match = re.search(r"\((\d+)\)", path.name)
        return int(match.group(1)) if match else 0

    images = list_images(root / "clean-prints" / "images")
    return [p for p in images if (number(p) > CLEAN_PRINTS_TRAIN_MAX_NUMBER) == heldout]


def camera_prints(root: Path, camera: str, split: str = "all") -> list[Path]:
    """A webcam's print folders: ``split`` "all", "train" (all but the validation prints) or "validation".

    None if the camera's folder is missing (a data root holding only some of the sets).
    """
    folder = root / CAMERA_FOLDERS[camera] / "images"
    prints = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if split == "train":
        return [p for p in prints if p.name not in VALIDATION_PRINTS[camera]]
    if split == "validation":
        return [p for p in prints if p.name in VALIDATION_PRINTS[camera]]
    return prints


def webcam_frames(root: Path, cameras: tuple[str, ...], split: str) -> list[Path]:
    """Every frame of the ``split`` prints of ``cameras``."""
    return [
        frame for camera in cameras for folder in camera_prints(root, camera, split) for frame in list_images(folder)
    ]


def training_negatives(root: Path, cameras: tuple[str, ...] = CAMERAS) -> list[Path]:
    """Every clean image that training on ``cameras`` sees (and that evaluation must therefore leave out)."""
    return clean_prints(root, heldout=False) + webcam_frames(root, cameras, "train")


@dataclass
class Sample:
    """One cached image: ``pixels`` uint8 ``[H, W, 3]`` at the cache size, ``boxes`` ``[K, 4]`` in those pixels."""

    pixels: np.ndarray
    boxes: np.ndarray
    path: Path
    # (W, H) of the image as decoded, before the stretch to the cache size; compositing needs its aspect.
    source_size: tuple[int, int] | None = None


def load_sample(
    image_path: Path,
    label_path: Path | None,
    cache_size: tuple[int, int],
    *,
    class_id: int = SPAGHETTI_CLASS,
    merge: bool = False,
) -> Sample:
    """Decode as the service does, stretch to ``cache_size`` (W, H) and scale the boxes with it.

    With ``merge``, touching boxes are joined in the image's own pixels (the tolerance is a
    fraction of its longer side), then scaled: the stretch would otherwise change what touches.
    """
    decoded = decode_image(image_path.read_bytes(), target_size=cache_size)
    pixels = decoded.pixels.resize(cache_size, Image.Resampling.BILINEAR)
    boxes = np.zeros((0, 4), dtype=np.float32)
    if label_path is not None and merge:
        boxes = read_yolo_boxes(label_path, decoded.width, decoded.height, class_id=class_id, merge=True)
        scale = np.array([cache_size[0] / decoded.width, cache_size[1] / decoded.height] * 2, dtype=np.float32)
        boxes = (boxes * scale).astype(np.float32).reshape(-1, 4)
    elif label_path is not None:  # the labels as given, read straight at the cache size as before
        boxes = read_yolo_boxes(label_path, cache_size[0], cache_size[1], class_id=class_id)
    return Sample(np.asarray(pixels, dtype=np.uint8), boxes, image_path, (decoded.width, decoded.height))


def load_full_size_sample(image_path: Path, label_path: Path, *, class_id: int) -> Sample:
    """Decode as the service does, at the image's own size, with its boxes merged: a failure region's source."""
    decoded = decode_image(image_path.read_bytes())
    size = (decoded.width, decoded.height)
    pixels = np.asarray(decoded.pixels.convert("RGB").resize(size), dtype=np.uint8)
    boxes = read_yolo_boxes(label_path, *size, class_id=class_id, merge=True)
    return Sample(pixels, boxes, image_path, size)


class Augmenter:
    """Random crop with aspect jitter, horizontal flip and colour jitter, output at the model size.

    Half of the crops are the whole image, exactly what the runner feeds the model; the aspect
    jitter (up to 4:3 either way) covers webcam frames that the runner squashes into the input.
    """

    def __init__(self, input_size: tuple[int, int], rng: np.random.Generator, channel_shuffle: float = 0.0) -> None:
        self.input_size = input_size
        self.rng = rng
        # Share of samples whose RGB channels are permuted: filament comes in every colour.
        self.channel_shuffle = channel_shuffle

    def __call__(self, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        height, width = sample.pixels.shape[:2]
        if rng.random() < 0.5:
            x0, y0, crop_w, crop_h = 0.0, 0.0, float(width), float(height)
        else:
            scale = rng.uniform(0.55, 1.0)
            aspect = np.exp(rng.uniform(np.log(0.75), np.log(4 / 3)))
            crop_w = min(width, width * scale * np.sqrt(aspect))
            crop_h = min(height, height * scale / np.sqrt(aspect))
            x0 = rng.uniform(0, width - crop_w)
            y0 = rng.uniform(0, height - crop_h)
        out_w, out_h = self.input_size
        image = Image.fromarray(sample.pixels).resize(
            (out_w, out_h), Image.Resampling.BILINEAR, box=(x0, y0, x0 + crop_w, y0 + crop_h)
        )
        boxes = crop_boxes(sample.boxes, x0, y0, crop_w, crop_h, out_w / crop_w, out_h / crop_h)
        return self._finish(np.asarray(image, dtype=np.float32) / 255.0, boxes.reshape(-1, 4))

    def mosaic(self, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
        """Four samples tiled around a random centre, each a random zoom and crop of its image.

        Mosaic (as in YOLOv4) shows every object at more scales and in more contexts than a
        single crop, which is what a small training set overfits without; it also makes small
        spaghetti, which val has more of than train.
        """
        rng = self.rng
        out_w, out_h = self.input_size
        centre_x = round(rng.uniform(0.3, 0.7) * out_w)
        centre_y = round(rng.uniform(0.3, 0.7) * out_h)
        tiles = ((0, 0, centre_x, centre_y), (centre_x, 0, out_w, centre_y), (0, centre_y, centre_x, out_h))
        tiles += ((centre_x, centre_y, out_w, out_h),)
        canvas = Image.new("RGB", (out_w, out_h))
        all_boxes = []
        for sample, (left, top, right, bottom) in zip(samples, tiles, strict=True):
            tile_w, tile_h = right - left, bottom - top
            src_h, src_w = sample.pixels.shape[:2]
            # Zoom 0.5-1.2x of the model's view of the whole image, never so far out that the tile overruns it.
            zoom = max(rng.uniform(0.5, 1.2) * out_w / src_w, tile_w / src_w, tile_h / src_h)
            crop_w, crop_h = tile_w / zoom, tile_h / zoom
            x0, y0 = rng.uniform(0, max(0.0, src_w - crop_w)), rng.uniform(0, max(0.0, src_h - crop_h))
            tile = Image.fromarray(sample.pixels).resize(
                (tile_w, tile_h), Image.Resampling.BILINEAR, box=(x0, y0, x0 + crop_w, y0 + crop_h)
            )
            canvas.paste(tile, (left, top))
            boxes = crop_boxes(sample.boxes, x0, y0, crop_w, crop_h, zoom, zoom)
            # Clipped to the tile: the crop's float arithmetic can leave a box a hair outside it.
            offset = np.array([left, top, left, top], dtype=np.float32)
            all_boxes.append(np.clip(boxes + offset, offset, [right, bottom, right, bottom]))
        return self._finish(np.asarray(canvas, dtype=np.float32) / 255.0, np.concatenate(all_boxes))

    def _finish(self, array: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Random horizontal flip and colour jitter; CHW float32 image and ``[K, 4]`` boxes."""
        out_w = array.shape[1]
        if self.rng.random() < 0.5:
            array = array[:, ::-1]
            boxes = np.stack([out_w - boxes[:, 2], boxes[:, 1], out_w - boxes[:, 0], boxes[:, 3]], axis=1)
        array = self._colour_jitter(array)
        # Drawn only when enabled, so that runs without it consume the generator exactly as before.
        if self.channel_shuffle and self.rng.random() < self.channel_shuffle:
            array = array[:, :, self.rng.permutation(3)]
        return np.ascontiguousarray(array.transpose(2, 0, 1)), boxes.astype(np.float32).reshape(-1, 4)

    def _colour_jitter(self, array: np.ndarray) -> np.ndarray:
        """Brightness, contrast and saturation jitter of +-25 %, as webcams differ in exposure and white balance."""
        rng = self.rng
        array = array * rng.uniform(0.75, 1.25)
        mean = array.mean()
        array = (array - mean) * rng.uniform(0.75, 1.25) + mean
        grey = array.mean(axis=2, keepdims=True)
        array = (array - grey) * rng.uniform(0.75, 1.25) + grey
        return np.clip(array, 0.0, 1.0)


def crop_boxes(
    boxes: np.ndarray, x0: float, y0: float, crop_w: float, crop_h: float, scale_x: float, scale_y: float
) -> np.ndarray:
    """Boxes after cropping to ``(x0, y0, crop_w, crop_h)`` and scaling; mostly cut-off boxes are dropped."""
    if not len(boxes):
        return boxes
    clipped = np.stack(
        [
            np.clip(boxes[:, 0], x0, x0 + crop_w),
            np.clip(boxes[:, 1], y0, y0 + crop_h),
            np.clip(boxes[:, 2], x0, x0 + crop_w),
            np.clip(boxes[:, 3], y0, y0 + crop_h),
        ],
        axis=1,
    )
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    out = (clipped - [x0, y0, x0, y0]) * [scale_x, scale_y, scale_x, scale_y]
    keep = (
        ((visible >= MIN_VISIBLE_FRACTION * np.maximum(area, 1e-6)) | (visible >= MIN_CROP_FRACTION * crop_w * crop_h))
        & (out[:, 2] - out[:, 0] >= MIN_BOX_PIXELS)
        & (out[:, 3] - out[:, 1] >= MIN_BOX_PIXELS)
    )
    return out[keep]
