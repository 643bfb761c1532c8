"""The floor of a predict, in process: the bare model, and decode + resize + inference of a webcam JPEG.

    .venv/bin/python bench/inference.py [--model models/spaghetti-effnetlite0.onnx] [--runs 200]

Prints JSON: medians and p95 of --runs timed runs after warm-up, on 1 and 2 onnxruntime threads,
of each stage of the service's own code (detection.image, detection.runner) and of the choices
the runner did not take (a full-size decode, spinning intra-op threads).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import onnxruntime as ort
from PIL import Image

from bench.common import PROJECT, percentiles, webcam_jpeg
from detection.image import decode_image
from detection.runner import Detector

DEFAULT_MODEL = PROJECT / "models" / "spaghetti-effnetlite0.onnx"


def timed(fn, runs: int, warmup: int = 10) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def predict_floor(detector: Detector, jpeg: bytes):
    """The floor of the whole predict path: decode + resize + inference, the service's own code."""
    return detector.infer(detector.preprocess(decode_image(jpeg, target_size=detector.input_size)))


def full_decode(jpeg: bytes) -> Image.Image:
    """Decoding without draft(): what a naive server does."""
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image.convert("RGB")


def spinning_session(model: Path, threads: int) -> ort.InferenceSession:
    """The runner's session but with onnxruntime's default of spinning idle threads."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


def measure(model: Path, threads: int, jpeg: bytes, runs: int) -> dict:
    detector = Detector(model, threads=threads)
    decoded = decode_image(jpeg, target_size=detector.input_size)
    tensor = detector.preprocess(decoded)
    spinning = spinning_session(model, threads)
    return {
        "inference_ms": timed(lambda: detector.infer(tensor), runs),
        "inference_spinning_threads_ms": timed(lambda: spinning.run(None, {"input": tensor}), runs),
        "decode_draft_ms": timed(lambda: decode_image(jpeg, target_size=detector.input_size), runs),
        "decode_full_ms": timed(lambda: full_decode(jpeg), runs),
        "resize_to_tensor_ms": timed(lambda: detector.preprocess(decoded), runs),
        "floor_ms": timed(lambda: predict_floor(detector, jpeg), runs),
        "detect_with_postprocess_ms": timed(
            lambda: detector.detect(decode_image(jpeg, target_size=detector.input_size)), runs
        ),
        "input_size": "x".join(map(str, detector.input_size)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    jpeg = webcam_jpeg()
    results = {"model": args.model.name, "jpeg": f"1280x720, {len(jpeg)} bytes"}
    for threads in (1, 2):
        results[f"threads_{threads}"] = measure(args.model, threads, jpeg, args.runs)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
