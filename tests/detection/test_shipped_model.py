"""The shipped models (the default and its int8 quantisation): they load through the service's
runner, honour the tensor contract, and score plain scenes with no filament as clean."""

import io
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from django.conf import settings
from PIL import Image, ImageDraw

from detection.conf import DetectionSettings
from detection.image import decode_image
from detection.postprocess import failure_score
from detection.runner import Detector

SHIPPED = Path(settings.BASE_DIR) / "models" / "spaghetti-effnetlite0.onnx"
SHIPPED_INT8 = SHIPPED.with_name("spaghetti-effnetlite0-int8.onnx")


@pytest.fixture(scope="module", params=[SHIPPED, SHIPPED_INT8], ids=["float", "int8"])
def model_path(request):
    return request.param


@pytest.fixture(scope="module")
def detector(model_path):
    return Detector(model_path, threads=2)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def test_the_service_uses_the_shipped_model_by_default():
    # The project's settings as they are, without the tiny model that tests/fixtures/detection.py puts in.
    from config import settings as project_settings

    assert Path(str(DetectionSettings(project_settings.DETECTION).MODEL_PATH)) == SHIPPED


def test_shipped_models_are_small(model_path):
    assert model_path.stat().st_size <= 15 * 1024 * 1024


def test_shipped_model_honours_the_tensor_contract(model_path):
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    (model_input,) = session.get_inputs()
    outputs = {o.name: o for o in session.get_outputs()}

    assert model_input.type == "tensor(float)"
    batch, channels, height, width = model_input.shape
    assert (batch, channels) == (1, 3)
    assert set(outputs) == {"boxes", "confs"}
    n = outputs["confs"].shape[1]
    assert outputs["boxes"].shape == [1, n, 1, 4]
    assert outputs["confs"].shape == [1, n, 1]
    boxes, confs = session.run(
        ["boxes", "confs"], {model_input.name: np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)}
    )
    assert ((boxes >= 0) & (boxes <= 1)).all()
    assert ((confs >= 0) & (confs <= 1)).all()
    assert (boxes[..., 2] >= boxes[..., 0]).all()
    assert (boxes[..., 3] >= boxes[..., 1]).all()


def test_a_uniform_grey_image_is_clean(detector):
    image = decode_image(jpeg(Image.new("RGB", (1280, 720), (128, 128, 128))), target_size=detector.input_size)

    assert failure_score(detector.detect(image)) < 0.2


def test_a_plain_scene_with_no_filament_is_clean(detector):
    # A dark enclosure, a lit bed, and a solid printed block on it: nothing stringy anywhere.
    scene = Image.new("RGB", (1024, 768), (40, 42, 48))
    draw = ImageDraw.Draw(scene)
    draw.polygon([(120, 560), (904, 560), (1000, 740), (24, 740)], fill=(70, 70, 78))
    draw.rectangle([430, 360, 600, 600], fill=(210, 90, 40))
    draw.rectangle([430, 350, 600, 362], fill=(235, 120, 60))
    image = decode_image(jpeg(scene), target_size=detector.input_size)

    assert failure_score(detector.detect(image)) < 0.2
