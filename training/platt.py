"""Calibrating a detector's confidences on webcam frames: Platt scaling, fitted and written into the graph.

Issue 22: a score tuned on phone photos reads low on a webcam: visible failures in in-printer frames
scored 0.1-0.4. So the calibration is fitted where the verdict is used, on frames of validation
sequences (``sequences.py`` on prints no fold trains on, with failure regions the test sequences
never show): ``P(the frame shows a failure) = sigmoid(a * z + b)``, where ``z`` is the logit of the
frame's highest confidence. A frame counts as failing from the snapshot its failure is full grown
(``meta.json``'s ``full_from``), and as clean before its onset or in a clean print; the growing
frames in between are left out, since no label says whether they are visible yet.

The graph computes ``sigmoid(c1 * heat + c2)`` (``model.ExportWrapper``), so the fit is written by
composing it into those two constants (``recalibrate``): any model of this graph can be recalibrated
without its checkpoint, run 8 and v2 included. Needs onnx and onnxruntime, not torch.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from detection.image import decode_image
from detection.replay import read_sequences
from detection.runner import Detector

# Confidences below this are not scored; a frame without any reads as this.
FLOOR_CONFIDENCE = 0.001


def fit_platt(
    logits: np.ndarray, labels: np.ndarray, l2: float = 1e-3, iterations: int = 50, smoothed: bool = False
) -> tuple[float, float]:
    """Logistic regression of ``labels`` (0/1) on one feature by Newton's method: returns (a, b).

    ``smoothed`` fits Platt's own targets, ``(N+ + 1) / (N+ + 2)`` for the positives and
    ``1 / (N- + 2)`` for the negatives, instead of 1 and 0: when the classes separate (every clean
    frame without a detection, every failing one with), the plain fit's slope grows without bound.
    """
    if smoothed:
        positives, negatives = labels.sum(), len(labels) - labels.sum()
        labels = np.where(labels > 0.5, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    features = np.stack([logits, np.ones_like(logits)], axis=1)

    def loss(params: np.ndarray) -> float:
        z = features @ params
        # Cross-entropy written with logaddexp, which cannot overflow.
        return float(
            np.sum(labels * np.logaddexp(0, -z) + (1 - labels) * np.logaddexp(0, z)) + l2 / 2 * params @ params
        )

    params = np.array([1.0, 0.0])
    for _ in range(iterations):
        prob = 1 / (1 + np.exp(-np.clip(features @ params, -500, 500)))
        gradient = features.T @ (prob - labels) + l2 * params
        hessian = (features * (prob * (1 - prob))[:, None]).T @ features + l2 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        # Damped: halve the Newton step until the loss falls (a plain step can overshoot far out).
        current = loss(params)
        while loss(params - step) > current and np.abs(step).max() > 1e-12:
            step /= 2
        params -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(params[0]), float(params[1])


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def labelled_frames(folders: list[Path]) -> list[tuple[Path, int]]:
    """(frame, 1 if it shows a full-grown failure else 0) for every distinct frame of the sequences in ``folders``."""
    seen, frames = set(), []
    for folder in folders:
        for sequence in read_sequences(folder, folder.name):
            meta_path = folder / sequence.name / "meta.json"
            full_from = json.loads(meta_path.read_text())["full_from"] if meta_path.exists() else sequence.onset
            for index, frame in enumerate(sequence.frames):
                if sequence.onset is None or index < sequence.onset:
                    label = 0
                elif full_from is not None and index >= full_from:
                    label = 1
                else:
                    continue
                identity = os.stat(frame).st_ino  # repeated snapshots are hard links of one file
                if identity not in seen:
                    seen.add(identity)
                    frames.append((frame, label))
    return frames


def frame_logits(model: Path, frames: list[Path], threads: int = 2) -> np.ndarray:
    """The logit of each frame's highest confidence, decoded and detected as the service does."""
    detector = Detector(model, threads=threads, conf_threshold=FLOOR_CONFIDENCE)
    highest = []
    for frame in frames:
        detections = detector.detect(decode_image(frame.read_bytes(), target_size=detector.input_size))
        highest.append(max((d.confidence for d in detections), default=FLOOR_CONFIDENCE))
    return logit(np.asarray(highest))


def _platt_nodes(model: onnx.ModelProto) -> tuple[onnx.NodeProto, onnx.NodeProto]:
    """The Constant nodes of ``c1`` and ``c2`` in the graph's ``sigmoid(c1 * heat + c2)``."""
    producers = {output: node for node in model.graph.node for output in node.output}
    (sigmoid,) = [node for node in model.graph.node if node.op_type == "Sigmoid"]
    add = producers[sigmoid.input[0]]
    mul = producers[add.input[0]]
    if add.op_type != "Add" or mul.op_type != "Mul":
        raise ValueError("The model's confidences are not sigmoid(c1 * heat + c2).")
    return producers[mul.input[1]], producers[add.input[1]]


def platt_constants(model: onnx.ModelProto) -> tuple[float, float]:
    """(c1, c2) of the graph's confidence."""
    scale, shift = _platt_nodes(model)
    return tuple(float(numpy_helper.to_array(node.attribute[0].t)) for node in (scale, shift))


def recalibrate(model_path: Path, out: Path, a: float, b: float) -> tuple[float, float]:
    """Write ``out``: the model with confidence ``sigmoid(a * z + b)`` of its own logit ``z``.

    Returns the graph's new (c1, c2).
    """
    model = onnx.load(str(model_path))
    c1, c2 = platt_constants(model)
    new = (a * c1, a * c2 + b)
    for node, value in zip(_platt_nodes(model), new, strict=True):
        node.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(value, dtype=np.float32)))
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return new


def fit_on_sequences(model: Path, folders: list[Path]) -> dict:
    """Fit (a, b) on the validation sequences' frames; a summary with the counts and the fit."""
    frames = labelled_frames(folders)
    labels = np.array([label for _, label in frames], dtype=np.float64)
    logits = frame_logits(model, [frame for frame, _ in frames])
    a, b = fit_platt(logits, labels, smoothed=True)
    calibrated = 1 / (1 + np.exp(-(a * logits + b)))
    return {
        "a": a,
        "b": b,
        "frames": len(frames),
        "failing": int(labels.sum()),
        "median_p_failing": float(np.median(calibrated[labels == 1])) if labels.any() else None,
        "share_clean_at_p>=0.5": float((calibrated[labels == 0] >= 0.5).mean()) if (labels == 0).any() else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the recalibrated model")
    parser.add_argument("sequences", type=Path, nargs="+", help="folders of validation sequences")
    args = parser.parse_args(argv)
    fit = fit_on_sequences(args.model, args.sequences)
    fit["constants"] = recalibrate(args.model, args.out, fit["a"], fit["b"])
    print(json.dumps(fit, indent=1))


if __name__ == "__main__":
    main()
