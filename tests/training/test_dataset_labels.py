"""Reading YOLO labels for the v2 recipe: the class to keep, and merging in the image's own pixels."""

import numpy as np
import pytest

from training.dataset import read_yolo_boxes


@pytest.fixture
def label_file(tmp_path):
    path = tmp_path / "photo.txt"
    # Two touching class-1 boxes, one class-0 box (printer gantry), and a class-1 box apart.
    path.write_text("1 0.25 0.25 0.1 0.1\n1 0.35 0.25 0.1 0.1\n0 0.5 0.5 0.2 0.2\n1 0.8 0.8 0.1 0.1\n")
    return path


def test_class_one_is_read_and_class_zero_dropped_by_default(label_file):
    boxes = read_yolo_boxes(label_file, 100, 100)

    np.testing.assert_allclose(boxes, [[20, 20, 30, 30], [30, 20, 40, 30], [75, 75, 85, 85]], atol=1e-4)


def test_roboflow_reads_its_fail_class_zero(label_file):
    np.testing.assert_allclose(read_yolo_boxes(label_file, 100, 100, class_id=0), [[40, 40, 60, 60]], atol=1e-4)


def test_merge_joins_the_touching_pair_into_one_region(label_file):
    boxes = read_yolo_boxes(label_file, 100, 100, merge=True)

    np.testing.assert_allclose(boxes, [[20, 20, 40, 30], [75, 75, 85, 85]], atol=1e-4)


def test_a_missing_label_file_is_no_boxes(tmp_path):
    assert read_yolo_boxes(tmp_path / "none.txt", 100, 100, merge=True).shape == (0, 4)
