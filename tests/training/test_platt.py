"""Calibration on webcam frames (training/platt.py): the fit, the frames it uses, the graph it writes."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from training import platt


def test_fit_platt_recovers_a_known_logistic_curve():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, 20000)
    labels = (rng.random(20000) < 1 / (1 + np.exp(-(1.5 * logits - 0.5)))).astype(float)

    a, b = platt.fit_platt(logits, labels)

    assert (a, b) == pytest.approx((1.5, -0.5), abs=0.08)


def confidence_graph(path, c1=2.0, c2=-1.0):
    """``confs = sigmoid(c1 * x + c2)`` with the constants as Constant nodes, as the exported detector has them."""
    nodes = [
        helper.make_node("Constant", [], ["c1"], value=helper.make_tensor("c1v", TensorProto.FLOAT, [], [c1])),
        helper.make_node("Mul", ["x", "c1"], ["scaled"]),
        helper.make_node("Constant", [], ["c2"], value=helper.make_tensor("c2v", TensorProto.FLOAT, [], [c2])),
        helper.make_node("Add", ["scaled", "c2"], ["shifted"]),
        helper.make_node("Sigmoid", ["shifted"], ["confs"]),
    ]
    graph = helper.make_graph(
        nodes,
        "confidence",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("confs", TensorProto.FLOAT, [3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_recalibrate_composes_the_fit_into_the_graphs_constants(tmp_path):
    model = confidence_graph(tmp_path / "m.onnx")
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)

    new = platt.recalibrate(model, tmp_path / "out.onnx", a=0.5, b=0.25)

    assert new == pytest.approx((1.0, -0.25))
    assert platt.platt_constants(onnx.load(str(tmp_path / "out.onnx"))) == pytest.approx((1.0, -0.25))
    before = ort.InferenceSession(str(model)).run(None, {"x": x})[0]
    after = ort.InferenceSession(str(tmp_path / "out.onnx")).run(None, {"x": x})[0]
    np.testing.assert_allclose(after, 1 / (1 + np.exp(-(0.5 * platt.logit(before) + 0.25))), atol=1e-5)


def test_labelled_frames_count_full_grown_failures_and_clean_frames_once(tmp_path):
    folder = tmp_path / "p1-validation"
    sequence = folder / "blob-000"
    sequence.mkdir(parents=True)
    for index in range(10):
        (sequence / f"frame_{index:06d}.jpg").write_bytes(bytes([index]))
    (sequence / "frame_000001.jpg").unlink()
    (sequence / "frame_000001.jpg").hardlink_to(sequence / "frame_000000.jpg")  # a repeated snapshot
    (sequence / "onset.txt").write_text("frame_000004.jpg\n")
    (sequence / "meta.json").write_text(json.dumps({"kind": "blob", "full_from": 7}))

    frames = platt.labelled_frames([folder])

    assert [(frame.name, label) for frame, label in frames] == [
        ("frame_000000.jpg", 0),
        ("frame_000002.jpg", 0),
        ("frame_000003.jpg", 0),
        ("frame_000007.jpg", 1),
        ("frame_000008.jpg", 1),
        ("frame_000009.jpg", 1),
    ]


def test_a_smoothed_fit_stays_finite_when_the_classes_separate():
    logits = np.array([-6.9] * 50 + [0.5, 1.0, 2.0, 3.0] * 10)
    labels = np.array([0.0] * 50 + [1.0] * 40)

    a, b = platt.fit_platt(logits, labels, smoothed=True)

    assert 0 < a < 10
    assert 1 / (1 + np.exp(-(a * 2.0 + b))) > 0.9
    assert 1 / (1 + np.exp(-(a * -6.9 + b))) < 0.1
