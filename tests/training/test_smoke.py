"""Training end to end on a handful of generated images: one tiny epoch, the ONNX export, the service's runner.

No dataset: the images are drawn here (strands of filament in a labelled box on a plain bed, and clean
beds), so CI on a fresh machine runs it. Needs torch (requirements-ci-train.txt, which scripts/test installs).
"""

import io
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from detection.runner import Detector
from detection.services import snapshot_score
from training.config import load_config
from training.export import export
from training.trainer import Trainer

SIZE = (128, 96)


def bed(rng: np.random.Generator) -> Image.Image:
    shade = int(rng.integers(60, 200))
    return Image.new("RGB", SIZE, (shade, shade, int(rng.integers(60, 200))))


def strands(image: Image.Image, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Tangled lines in a random box; returns the box as a YOLO label (centre x, centre y, width, height)."""
    width, height = SIZE
    x1, y1 = int(rng.integers(0, width // 2)), int(rng.integers(0, height // 2))
    x2, y2 = x1 + int(rng.integers(30, width // 2)), y1 + int(rng.integers(25, height // 2))
    draw = ImageDraw.Draw(image)
    points = list(zip(rng.integers(x1, x2, 12).tolist(), rng.integers(y1, y2, 12).tolist(), strict=True))
    draw.line(points, fill=(240, 240, 240), width=2)
    return ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def data_root(tmp_path):
    """The layout dataset.py reads: spaghetti/{train,val} with YOLO labels (class 1), clean-prints/images."""
    rng = np.random.default_rng(0)
    root = tmp_path / "datasets"
    for split, count in (("train", 6), ("val", 2)):
        (root / "spaghetti" / split / "images").mkdir(parents=True)
        (root / "spaghetti" / split / "labels").mkdir()
        for index in range(count):
            image = bed(rng)
            box = strands(image, rng)
            (root / "spaghetti" / split / "images" / f"{index}.jpg").write_bytes(jpeg(image))
            (root / "spaghetti" / split / "labels" / f"{index}.txt").write_text("1 " + " ".join(map(str, box)) + "\n")
    (root / "clean-prints" / "images").mkdir(parents=True)
    for number in (1, 2):
        (root / "clean-prints" / "images" / f"clean ({number}).jpg").write_bytes(jpeg(bed(rng)))
    return root


def tiny(data_root, out, *overrides):
    """The shipped recipe, shrunk to seconds: 64x64 inputs, batches of 4, two generated scenes, no webcams."""
    return load_config(
        "run8",
        ["input_size=64x64", "batch_size=4", "synthetic_negatives=2", "cameras=", "threads=1", *overrides],
        data_root=data_root,
        out=out,
    )


@pytest.mark.slow
def test_one_tiny_epoch_exports_a_model_the_service_runs(data_root, tmp_path, detection_settings):
    config = tiny(data_root, tmp_path / "run", "epochs=1")

    history = Trainer(config).fit()
    onnx_path = tmp_path / "model.onnx"
    export(config.out / "last.pt", onnx_path, data_root)  # calibrated on the training images, as run 8 was

    assert len(history) == 1
    assert np.isfinite([history[0]["heat_loss"], history[0]["box_loss"]]).all()
    assert 0 <= history[0]["ap50"] <= 1
    checkpoint = torch.load(config.out / "last.pt", map_location="cpu", weights_only=False)
    assert checkpoint["config"]["epochs"] == "1"
    assert checkpoint["config"]["merge_labels"] == "False"  # the recipe's, under the overrides
    assert Detector(onnx_path, threads=1).input_size == (64, 64)
    detection_settings["MODEL_PATH"] = onnx_path
    score = snapshot_score(jpeg(bed(np.random.default_rng(1))))
    assert 0 <= score.p <= 1
    assert (score.width, score.height) == SIZE


@pytest.mark.slow
def test_a_resumed_run_ends_with_the_weights_of_an_unbroken_one(data_root, tmp_path):
    unbroken = tiny(data_root, tmp_path / "unbroken", "epochs=2", "freeze_epochs=1")
    broken = tiny(data_root, tmp_path / "broken", "epochs=2", "freeze_epochs=1")

    Trainer(unbroken).fit()
    Trainer(replace(broken, epochs=1)).fit()
    history = Trainer(broken).fit(resume=True)

    assert [record["epoch"] for record in history] == [1, 2]
    expected = torch.load(unbroken.out / "last.pt", weights_only=False)
    resumed = torch.load(broken.out / "last.pt", weights_only=False)
    for key in ("model", "raw_model"):
        assert all(torch.equal(resumed[key][name], weights) for name, weights in expected[key].items())
