"""The ONNX runner on small real models: decoding, thresholds, NMS, pixel scaling, faults."""

import threading

import pytest

from detection.image import decode_image
from detection.postprocess import failure_score
from detection.runner import Detector, ModelUnavailable, get_detector
from tests.fixtures.detection import TINY_BOXES, TINY_CONFS
from tests.fixtures.images import make_image_bytes
from tests.onnx_models import write_detector_model, write_failing_model


def test_runner_reads_the_input_size_from_the_model(tiny_model_path):
    assert Detector(tiny_model_path, threads=1).input_size == (96, 64)


def test_white_image_keeps_the_best_of_the_overlapping_boxes_in_upload_pixels(tiny_model_path):
    detector = Detector(tiny_model_path, threads=1)
    image = decode_image(make_image_bytes((640, 480), image_format="PNG"), target_size=detector.input_size)

    detections = detector.detect(image)

    # Boxes 0 and 1 overlap (IoU 0.83 > 0.45): only the 0.5 survives, with the separate 0.2.
    assert [d.confidence for d in detections] == pytest.approx([0.5, 0.2])
    assert tuple(detections[0])[1:] == pytest.approx((128.0, 192.0, 128.0, 192.0))
    assert tuple(detections[1])[1:] == pytest.approx((480.0, 336.0, 192.0, 192.0))
    assert failure_score(detections) == pytest.approx(0.7)


def test_a_black_image_has_no_detections(tiny_model_path):
    detector = Detector(tiny_model_path, threads=1)

    assert detector.detect(decode_image(make_image_bytes(color=(0, 0, 0), image_format="PNG"))) == []


def test_confidence_threshold_is_exclusive_and_configurable(tmp_path):
    path = write_detector_model(tmp_path / "m.onnx", boxes=[[0, 0, 0.5, 0.5], [0.5, 0.5, 1, 1]], confs=[0.08, 0.3])
    image = decode_image(make_image_bytes(image_format="PNG"))

    assert [d.confidence for d in Detector(path).detect(image)] == pytest.approx([0.3])
    assert Detector(path, conf_threshold=0.5).detect(image) == []


def test_nms_threshold_is_configurable(tiny_model_path):
    image = decode_image(make_image_bytes(image_format="PNG"))

    detections = Detector(tiny_model_path, nms_iou=0.9).detect(image)

    assert [d.confidence for d in detections] == pytest.approx(sorted(TINY_CONFS, reverse=True))
    assert len(TINY_BOXES) == 3


def test_missing_and_corrupt_model_files_are_model_unavailable(tmp_path):
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x01garbage that is not a protobuf graph")

    with pytest.raises(ModelUnavailable):
        Detector(tmp_path / "missing.onnx")
    with pytest.raises(ModelUnavailable):
        Detector(corrupt)


def test_inference_error_is_model_unavailable(tmp_path):
    detector = Detector(write_failing_model(tmp_path / "failing.onnx"))

    with pytest.raises(ModelUnavailable, match="Inference failed"):
        detector.detect(decode_image(make_image_bytes()))


def test_get_detector_loads_once_per_process_even_from_many_threads(detection_settings):
    found = []
    threads = [threading.Thread(target=lambda: found.append(get_detector())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(detector) for detector in found}) == 1
    assert get_detector() is found[0]
