"""The alert's one stored picture (prints/alert_images.py, pure): bounded in bytes, boxes drawn on the way out."""

import io

import numpy as np
import pytest
from PIL import Image

from detection.image import ImageLimits
from prints.alert_images import NotAnAlertSnapshot, alert_snapshot_render, alert_snapshot_tagged

MAX_BYTES = 320 * 1024  # settings.ALERT_SNAPSHOT_MAX_BYTES's default; this module is pure, so it is passed in


def encoded(picture: Image.Image, image_format: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()


NOISE = encoded(
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (960, 1280, 3), dtype=np.uint8)), quality=60
)  # 580 KB: under the upload limit


def test_a_frame_of_noise_is_stored_smaller_until_its_jpeg_fits_max_bytes():
    assert len(NOISE) <= ImageLimits().max_image_bytes

    snapshot = alert_snapshot_render(NOISE, limits=ImageLimits(), max_bytes=MAX_BYTES)

    assert len(snapshot.jpeg) <= MAX_BYTES
    assert Image.open(io.BytesIO(snapshot.jpeg)).size == (640, 480)  # at 1280 px it was 850 KB
    assert (snapshot.frame_width, snapshot.frame_height) == (1280, 960)  # the detections' frame, still


@pytest.mark.parametrize(
    ("max_bytes", "side"),
    [
        (2 * 1024 * 1024, 1280),  # 850 KB fits: kept at full size
        (MAX_BYTES, 640),
        (1, 320),  # never smaller than MIN_SIDE, even when that does not fit
    ],
)
def test_the_byte_bound_is_the_callers(max_bytes, side):
    snapshot = alert_snapshot_render(NOISE, limits=ImageLimits(), max_bytes=max_bytes)

    assert max(Image.open(io.BytesIO(snapshot.jpeg)).size) == side


def test_an_ordinary_frame_keeps_1280_px():
    upload = encoded(Image.new("RGB", (2560, 1440), (90, 120, 60)))

    snapshot = alert_snapshot_render(upload, limits=ImageLimits(), max_bytes=MAX_BYTES)

    assert Image.open(io.BytesIO(snapshot.jpeg)).size == (1280, 720)


def test_the_boxes_are_scaled_from_the_uploaded_frame_to_the_stored_snapshot():
    stored = encoded(Image.new("RGB", (1280, 960), (255, 255, 255)))
    # The box (800, 600)-(1600, 1200) of a 2560x1920 frame is (400, 300)-(800, 600) of the snapshot.
    detections = [[0.8, [1200.0, 900.0, 800.0, 600.0]]]

    tagged = Image.open(io.BytesIO(alert_snapshot_tagged(stored, detections, frame_size=(2560, 1920))))

    assert (tagged.format, tagged.size) == ("JPEG", (1280, 960))
    for x, y in [(401, 450), (799, 450), (600, 599)]:
        red, green, blue = tagged.getpixel((x, y))
        assert red > 200
        assert max(green, blue) < 80
    assert min(tagged.getpixel((600, 450))) > 240  # inside the box: untouched
    assert min(tagged.getpixel((1000, 800))) > 240  # outside it too


@pytest.mark.parametrize(
    "stored",
    [
        encoded(Image.new("RGB", (64, 48)), "PNG"),
        encoded(Image.new("RGB", (2000, 100))),  # larger than any snapshot we write
    ],
)
def test_drawing_refuses_bytes_that_are_not_a_stored_snapshot_before_decoding_them(stored):
    with pytest.raises(NotAnAlertSnapshot):
        alert_snapshot_tagged(stored, [], frame_size=(64, 48))
