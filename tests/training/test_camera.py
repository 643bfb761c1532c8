"""What a camera does to a scene (training/camera.py): geometry, boxes through it, sensor, sizes."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training import camera
from training.camera import CameraLook


def scene_with_box(size=(400, 300), box=(150, 100, 250, 180)):
    image = Image.new("RGB", size, (0, 0, 0))
    ImageDraw.Draw(image).rectangle(box, fill=(255, 255, 255))
    return image, np.array([box], dtype=np.float32)


def white_extent(image):
    ys, xs = np.nonzero(np.asarray(image.convert("L")) > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float32)


def test_the_identity_look_maps_every_pixel_to_itself():
    look = CameraLook.identity()
    xs, ys = np.meshgrid(np.arange(0, 400, 50.0), np.arange(0, 300, 50.0))

    src_x, src_y = look.source_points(xs, ys, (400, 300))

    np.testing.assert_allclose(src_x, xs)
    np.testing.assert_allclose(src_y, ys)
    assert camera.apply_geometry(scene_with_box()[0], look).size == (400, 300)


@pytest.mark.parametrize(
    "look",
    [
        pytest.param(CameraLook(size=(800, 600)), id="a larger sensor"),
        pytest.param(CameraLook(size=(320, 180)), id="16:9 from 4:3: a centre crop"),
        pytest.param(CameraLook(angle_deg=5.0), id="rolled"),
        pytest.param(CameraLook(zoom=1.2, shift=(0.5, -0.5)), id="zoomed off centre"),
        pytest.param(CameraLook(distortion=-0.12), id="barrel lens"),
        pytest.param(CameraLook(size=(640, 480), angle_deg=-4, zoom=1.1, distortion=0.04), id="all at once"),
    ],
)
def test_boxes_go_through_the_same_map_as_the_pixels(look):
    scene, boxes = scene_with_box()

    shot = camera.apply_geometry(scene, look)
    (moved,) = camera.transform_boxes(boxes, look, scene.size)

    # Within a few output pixels of where the white box really landed.
    np.testing.assert_allclose(moved, white_extent(shot), atol=4 * max(1, shot.width / 400))


def test_a_box_that_leaves_the_frame_is_dropped():
    look = CameraLook(zoom=2.0)  # shows the middle half of the scene only
    boxes = np.array([[0, 0, 40, 40]], dtype=np.float32)

    assert camera.transform_boxes(boxes, look, (400, 300)).shape == (0, 4)


def test_a_neutral_sensor_changes_nothing():
    scene, _ = scene_with_box()

    out = camera.apply_sensor(scene, CameraLook(), np.random.default_rng(0))

    np.testing.assert_array_equal(np.asarray(out), np.asarray(scene))


def test_greyscale_cameras_send_grey_frames():
    scene = Image.new("RGB", (64, 48), (200, 40, 10))

    out = np.asarray(camera.apply_sensor(scene, CameraLook(greyscale=True, noise=3.0), np.random.default_rng(0)))

    assert (out[..., 0] == out[..., 1]).all()
    assert (out[..., 1] == out[..., 2]).all()


def test_white_balance_and_exposure_scale_the_channels():
    scene = Image.new("RGB", (8, 8), (100, 100, 100))

    out = np.asarray(
        camera.apply_sensor(scene, CameraLook(gains=(1.2, 1.0, 0.8), exposure=1.5), np.random.default_rng(0))
    )

    assert tuple(out[0, 0]) == (180, 150, 120)


def test_shoot_sends_a_jpeg_of_the_cameras_size():
    data = camera.shoot(scene_with_box()[0], CameraLook(size=(320, 240), jpeg_quality=50), np.random.default_rng(0))

    image = Image.open(__import__("io").BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (320, 240))


@pytest.mark.parametrize("seed", range(20))
def test_random_looks_stay_in_their_ranges(seed):
    look = camera.random_look(np.random.default_rng(seed))

    assert look.size in camera.CAMERA_SIZES
    assert -6 <= look.angle_deg <= 6
    assert 1 <= look.zoom <= 1.25
    assert -0.12 <= look.distortion <= 0.04
    assert 40 <= look.jpeg_quality <= 95
    assert sum(look.gains) == pytest.approx(3.0)
    assert look == camera.random_look(np.random.default_rng(seed))


def test_at_most_shrinks_a_wide_camera_and_keeps_its_aspect():
    look = CameraLook(size=(1920, 1080))

    assert camera.at_most(look, (1024, 768), 800).size == (800, 450)
    assert camera.at_most(CameraLook(size=(640, 480)), (1024, 768), 800).size == (640, 480)
    assert camera.at_most(CameraLook(), (1024, 768), 800).size == (800, 600)
