"""Compositing geometry (training/composite.py): crops, scaling, placement, the pasted box, blending."""

from pathlib import Path

import numpy as np
import pytest

from training import composite
from training.composite import (
    Region,
    blend,
    feather_mask,
    margin_crop,
    match_lighting,
    paste_region,
    pasted_box,
    patch_scale,
    place_patch,
)
from training.dataset import Sample


@pytest.mark.parametrize(
    ("box", "size", "expected"),
    [
        pytest.param((100, 100, 200, 150), (400, 400), (85, 92, 215, 158), id="15 % of each side"),
        pytest.param((0, 0, 100, 100), (400, 400), (0, 0, 115, 115), id="clipped at the top left"),
        pytest.param((350, 300, 400, 400), (400, 400), (342, 285, 400, 400), id="clipped at the bottom right"),
    ],
)
def test_margin_crop(box, size, expected):
    assert margin_crop(np.array(box, dtype=np.float32), *size) == expected


@pytest.mark.parametrize(
    ("box", "region_aspect", "frame_aspect", "long_side", "expected"),
    [
        pytest.param((0, 0, 100, 50), 1.0, 1.0, 40, (0.4, 0.4), id="square pixels: wide box to 40 px wide"),
        pytest.param((0, 0, 50, 100), 1.0, 1.0, 40, (0.4, 0.4), id="square pixels: tall box to 40 px tall"),
        # A frame stretched 4:3 -> 1:1 has pixels 4/3 as wide as tall: a real square spans 3/4 as many columns.
        pytest.param((0, 0, 100, 100), 1.0, 4 / 3, 40, (0.3, 0.4), id="square region on a squashed frame"),
        # A region whose pixels are twice as wide as tall is really 200 x 100: its width becomes 40.
        pytest.param((0, 0, 100, 100), 2.0, 1.0, 40, (0.4, 0.2), id="stretched region"),
    ],
)
def test_patch_scale_keeps_the_real_aspect_ratio(box, region_aspect, frame_aspect, long_side, expected):
    assert patch_scale(box, region_aspect, frame_aspect, long_side) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("zone", ["bed", "nozzle"])
def test_place_patch_keeps_the_patch_inside_the_frame_and_in_its_zone(seed, zone):
    rng = np.random.default_rng(seed)
    frame_w, frame_h = 400, 300
    patch_w, patch_h = int(rng.integers(4, 120)), int(rng.integers(4, 90))

    left, top = place_patch(frame_w, frame_h, patch_w, patch_h, rng, zone)

    assert 0 <= left <= frame_w - patch_w
    assert 0 <= top <= frame_h - patch_h
    centre_x, centre_y, bottom = left + patch_w / 2, top + patch_h / 2, top + patch_h
    if zone == "bed":
        # The bottom edge sits on the bed band (72-95 % of the height), 1 px of rounding allowed.
        assert 0.72 * frame_h - 1 <= bottom <= 0.95 * frame_h + 1
        assert 0.10 * frame_w - 1 <= centre_x <= 0.90 * frame_w + 1 or left in (0, frame_w - patch_w)
    else:
        assert 0.30 * frame_h - 1 <= centre_y <= 0.70 * frame_h + 1
        assert 0.20 * frame_w - 1 <= centre_x <= 0.80 * frame_w + 1


def test_place_patch_refuses_a_patch_larger_than_the_frame():
    with pytest.raises(ValueError, match="larger"):
        place_patch(100, 100, 101, 10, np.random.default_rng(0), "bed")


def test_pasted_box_is_the_region_box_scaled_and_moved():
    box = pasted_box(50, 20, (10, 5, 30, 25), (0.5, 2.0))

    np.testing.assert_allclose(box, [55, 30, 65, 70])


def test_feather_mask_is_opaque_over_the_box_and_fades_to_the_edge():
    alpha = feather_mask(40, 20, (10, 5, 30, 15))

    assert alpha.shape == (20, 40)
    assert alpha[5:15, 10:30].min() == pytest.approx(1.0)
    assert alpha[10, 0] < 0.1
    assert alpha[0, 20] < 0.15
    assert (np.diff(alpha[10, :10]) > 0).all()  # rising across the left margin
    assert ((alpha >= 0) & (alpha <= 1)).all()


def test_feather_mask_ramps_at_least_two_pixels_where_the_box_meets_the_edge():
    alpha = feather_mask(20, 20, (0, 0, 20, 20))

    assert alpha[10, 0] == pytest.approx(0.25)  # pixel centre 0.5 of a 2 px ramp
    assert alpha[10, 10] == 1.0


def test_match_lighting_moves_each_channel_to_the_reference_statistics():
    rng = np.random.default_rng(0)
    patch = rng.uniform(100, 200, size=(30, 30, 3)).astype(np.float32)
    reference = rng.uniform(0, 60, size=(50, 50, 3)).astype(np.float32)

    matched = match_lighting(patch, reference, strength=1.0)
    half = match_lighting(patch, reference, strength=0.5)

    np.testing.assert_allclose(matched.mean(axis=(0, 1)), reference.mean(axis=(0, 1)), rtol=1e-4)
    np.testing.assert_allclose(matched.std(axis=(0, 1)), reference.std(axis=(0, 1)), rtol=1e-3)
    np.testing.assert_allclose(half, (patch + matched) / 2, rtol=1e-5)


def test_match_lighting_clips_the_contrast_gain():
    patch = np.tile(np.array([[[10.0, 10.0, 10.0]], [[20.0, 20.0, 20.0]]], dtype=np.float32), (1, 2, 1))
    flat_patch_std = patch.std(axis=(0, 1))
    reference = np.random.default_rng(1).uniform(0, 255, size=(20, 20, 3)).astype(np.float32)

    matched = match_lighting(patch, reference, strength=1.0, max_gain=2.0)

    np.testing.assert_allclose(matched.std(axis=(0, 1)), 2 * flat_patch_std, rtol=1e-4)


def test_blend_with_an_opaque_mask_copies_the_patch_and_leaves_the_rest():
    frame = np.zeros((10, 10, 3), dtype=np.uint8)
    patch = np.full((2, 3, 3), 200.0, dtype=np.float32)

    out = blend(frame, patch, np.ones((2, 3), dtype=np.float32), left=4, top=5)

    assert (out[5:7, 4:7] == 200).all()
    assert out.sum() == 200 * 2 * 3 * 3
    assert frame.sum() == 0  # the input is not changed


@pytest.mark.parametrize("seed", range(20))
def test_paste_region_labels_the_pasted_failure_at_a_small_size(seed):
    # A black frame and a white square in a black margin: the label must sit on the white pixels.
    # Lighting is matched to the black frame, which darkens the square but keeps it the brightest.
    frame = np.zeros((300, 400, 3), dtype=np.uint8)
    region_pixels = np.zeros((130, 130, 3), dtype=np.uint8)
    region_pixels[15:115, 15:115] = 255
    region = Region(region_pixels, (15.0, 15.0, 115.0, 115.0))
    rng = np.random.default_rng(seed)

    out, box = paste_region(frame, 1.0, region, rng)

    long_side = max(box[2] - box[0], box[3] - box[1])
    lo, hi = composite.SIZE_RANGE
    assert lo * 400 - 2 <= long_side <= hi * 400 + 2
    assert 0 <= box[0] < box[2] <= 400
    assert 0 <= box[1] < box[3] <= 300
    x1, y1, x2, y2 = np.round(box).astype(int)
    assert out[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1].min() > 30  # the failure is where the box says
    outside = out.astype(float).sum() - out[y1 - 3 : y2 + 3, x1 - 3 : x2 + 3].astype(float).sum()
    assert outside == 0  # nothing pasted beyond the box and its thin margin


def sample(colour, boxes, size=(100, 100), source_size=None):
    pixels = np.full((size[1], size[0], 3), colour, dtype=np.uint8)
    return Sample(pixels, np.array(boxes, dtype=np.float32).reshape(-1, 4), Path(f"{colour}.jpg"), source_size)


def test_regions_skip_boxes_too_small_to_shrink_and_keep_the_pixel_aspect():
    photo = sample(200, [[10, 10, 60, 60], [70, 70, 75, 90]], source_size=(200, 100))

    regions = composite.regions_from_samples([photo])

    assert len(regions) == 1
    assert regions[0].pixel_aspect == pytest.approx(2.0)
    x1, y1, x2, y2 = regions[0].box
    assert (x2 - x1, y2 - y1) == (50, 50)


def test_composite_samples_are_seeded_and_carry_one_or_two_boxes():
    frames = [sample(0, [], size=(400, 400), source_size=(1024, 768))]
    regions = composite.regions_from_samples([sample(255, [[20, 20, 80, 80]])])

    first = composite.composite_samples(frames, regions, 12, [0, 3, 1])
    again = composite.composite_samples(frames, regions, 12, [0, 3, 1])

    assert len(first) == 12
    assert {len(s.boxes) for s in first} <= {1, 2}
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.pixels, b.pixels)
        np.testing.assert_array_equal(a.boxes, b.boxes)
    assert frames[0].pixels.max() == 0  # frames are not painted on


def test_no_composites_without_frames_or_regions():
    assert composite.composite_samples([], [], 10, 0) == []
