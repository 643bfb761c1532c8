"""The training augmentations keep every box on the object it labels (no torch needed)."""

from pathlib import Path

import numpy as np
import pytest

from training.dataset import Augmenter, Sample

INPUT = (320, 320)


def whole_image_sample(colour: int) -> Sample:
    """A flat 400x400 image whose one box is the whole image."""
    pixels = np.full((400, 400, 3), colour, dtype=np.uint8)
    return Sample(pixels, np.array([[0.0, 0.0, 400.0, 400.0]], dtype=np.float32), Path(f"{colour}.jpg"))


@pytest.mark.parametrize("seed", range(20))
def test_a_mosaic_of_four_whole_image_boxes_tiles_the_canvas_exactly(seed):
    augment = Augmenter(INPUT, np.random.default_rng(seed))

    image, boxes = augment.mosaic([whole_image_sample(c) for c in (0, 80, 160, 240)])

    assert image.shape == (3, INPUT[1], INPUT[0])
    assert image.dtype == np.float32
    assert len(boxes) == 4
    assert (boxes >= 0).all()
    assert (boxes[:, [0, 2]] <= INPUT[0]).all()
    assert (boxes[:, [1, 3]] <= INPUT[1]).all()
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert areas.sum() == pytest.approx(INPUT[0] * INPUT[1])


@pytest.mark.parametrize("seed", range(20))
def test_each_mosaic_box_covers_pixels_of_its_own_image(seed):
    augment = Augmenter(INPUT, np.random.default_rng(seed))
    empty = Sample(np.zeros((400, 400, 3), dtype=np.uint8), np.zeros((0, 4), dtype=np.float32), Path("empty.jpg"))
    white = Sample(
        np.full((400, 400, 3), 255, dtype=np.uint8), np.array([[0, 0, 400, 400]], dtype=np.float32), Path("w.jpg")
    )

    image, boxes = augment.mosaic([white, empty, empty, empty])

    assert len(boxes) == 1  # the white tile is at least 96 px a side: its box is always kept
    for x1, y1, x2, y2 in boxes.round().astype(int):
        # Colour jitter scales brightness, but the white tile stays far brighter than the black ones.
        inside = image[:, y1 + 1 : y2 - 1, x1 + 1 : x2 - 1]
        assert inside.min() > 0.5


def dominant_channels(channel_shuffle: float) -> set[int]:
    red = Sample(np.zeros((400, 400, 3), dtype=np.uint8), np.zeros((0, 4), dtype=np.float32), Path("red.jpg"))
    red.pixels[..., 0] = 220
    augment = Augmenter(INPUT, np.random.default_rng(0), channel_shuffle=channel_shuffle)
    return {int(augment(red)[0].mean(axis=(1, 2)).argmax()) for _ in range(30)}


def test_channel_shuffle_turns_red_filament_into_other_colours():
    assert dominant_channels(0.0) == {0}
    assert dominant_channels(1.0) == {0, 1, 2}
