"""The evaluator's ``--roi``: images scored through a region exactly as predict scores a printer with one."""

import argparse
import json

import pytest

from detection.region import Region
from detection.services import snapshot_score
from tests.fixtures.images import make_image_bytes
from tests.printers.test_roi import white_left_black_right
from training.evaluate import Evaluator, main, parse_roi

BED = Region(0.1, 0.25, 0.8, 0.95)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.1,0.25,0.8,0.95", BED), ("0,0,1,1", Region(0, 0, 1, 1)), (" 0.5, 0, 1 ,1", Region(0.5, 0, 1, 1))],
)
def test_parse_roi_reads_four_fractions(text, expected):
    assert parse_roi(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,0,0.1,0.1", "The region must cover at least 5% of the frame."),
        ("0.5,0,0.5,1", "x2 must be greater than x1."),
        ("0,0,1,2", "y2 must be between 0 and 1."),
        ("0,0,1", "expected four numbers: x1,y1,x2,y2"),
        ("0,0,1,1,1", "expected four numbers: x1,y1,x2,y2"),
        ("a,b,c,d", "expected four numbers: x1,y1,x2,y2"),
    ],
)
def test_parse_roi_holds_the_apis_rules(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{message.replace('.', '[.]')}$"):
        parse_roi(text)


SIZES = {"white.jpg": (640, 480), "half.jpg": (1280, 960), "half.png": (768, 512)}


@pytest.fixture
def images(tmp_path):
    """Three frames: a white JPEG, a JPEG half white, a PNG half white."""
    data = {
        "white.jpg": make_image_bytes(SIZES["white.jpg"]),
        "half.jpg": white_left_black_right(SIZES["half.jpg"], image_format="JPEG"),
        "half.png": white_left_black_right(SIZES["half.png"]),
    }
    for name, content in data.items():
        (tmp_path / name).write_bytes(content)
    return [tmp_path / name for name in data]


@pytest.mark.parametrize("roi", [None, BED, Region(0.5, 0, 1, 1)])
def test_the_evaluator_scores_through_the_roi_as_the_service_does(tiny_model_path, images, roi):
    evaluator = Evaluator(tiny_model_path, threads=1, roi=roi)

    for path in images:
        width, height, _, service_detections = evaluator.run(path)

        expected = snapshot_score(path.read_bytes(), roi=roi)  # the service's path, with its default threshold
        assert service_detections == expected.detections
        assert (width, height) == SIZES[path.name]


def test_evaluate_reports_the_roi(tiny_model_path, tmp_path, capsys):
    positives = tmp_path / "positives"
    (positives / "images").mkdir(parents=True)
    (positives / "labels").mkdir()
    (positives / "images" / "a.png").write_bytes(white_left_black_right())
    (positives / "labels" / "a.txt").write_text("1 0.1 0.5 0.1 0.4\n")
    negatives = tmp_path / "negatives"
    negatives.mkdir()
    (negatives / "b.png").write_bytes(make_image_bytes((640, 480), color=(0, 0, 0), image_format="PNG"))

    main(
        [
            "--model",
            str(tiny_model_path),
            "--positives",
            str(positives),
            "--negatives",
            f"clean={negatives}",
            "--include-training-negatives",
            "--threads",
            "1",
            "--roi",
            "0,0,0.5,1",
        ]
    )

    report = json.loads(capsys.readouterr().out)
    assert report["roi"] == {"x1": 0.0, "y1": 0.0, "x2": 0.5, "y2": 1.0}
    assert report["positives"]["median_p"] == pytest.approx(0.7)  # the white half alone: 0.5 + 0.2
    assert report["negatives"]["clean"]["images"] == 1
