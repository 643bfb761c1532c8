"""Small real ONNX models with the detector's tensor contract, for tests with known numbers.

Each model is a real graph run by onnxruntime through the service's runner: it outputs fixed
boxes, and confidences that are fixed or scale with the image's mean brightness, so a test
controls p by the picture it sends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def write_detector_model(
    path: Path,
    *,
    boxes: list[list[float]],
    confs: list[float],
    input_hw: tuple[int, int] = (64, 96),
    scale_by_brightness: bool = False,
) -> Path:
    """A model of the contract: ``boxes`` [1, N, 1, 4] fixed; ``confs`` [1, N, 1].

    With ``scale_by_brightness`` each confidence is multiplied by the mean pixel value in [0, 1],
    so a white image gives ``confs`` and a black one gives zeros.
    """
    n = len(confs)
    height, width = input_hw
    box_values = np.asarray(boxes, dtype=np.float32).reshape(1, n, 1, 4)
    conf_values = np.asarray(confs, dtype=np.float32).reshape(1, n, 1)
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["box_values", "nothing"], ["boxes"]),
        helper.make_node(
            "Mul" if scale_by_brightness else "Add",
            ["conf_values", "mean" if scale_by_brightness else "nothing"],
            ["confs"],
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "test_detector",
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, height, width])],
        outputs=[
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, n, 1, 4]),
            helper.make_tensor_value_info("confs", TensorProto.FLOAT, [1, n, 1]),
        ],
        initializer=[
            numpy_helper.from_array(box_values, "box_values"),
            numpy_helper.from_array(conf_values, "conf_values"),
            numpy_helper.from_array(np.zeros((), dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def write_failing_model(path: Path) -> Path:
    """A valid model that loads but raises at inference (an impossible reshape)."""
    nodes = [
        helper.make_node("Reshape", ["input", "bad_shape"], ["reshaped"]),
        helper.make_node("ReduceMean", ["reshaped"], ["confs"], keepdims=1),
        helper.make_node("ReduceMean", ["reshaped"], ["boxes"], keepdims=1),
    ]
    graph = helper.make_graph(
        nodes,
        "failing_detector",
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "height", "width"])],
        outputs=[
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("confs", TensorProto.FLOAT, None),
        ],
        initializer=[numpy_helper.from_array(np.asarray([7, -1], dtype=np.int64), "bad_shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)
    return path
