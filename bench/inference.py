"""The floor of a predict, in process: the bare model, and decode + resize + inference of a webcam JPEG.

    .venv/bin/python bench/inference.py [--model models/spaghetti-effnetlite0.onnx] [--runs 200]

Prints JSON. Every number is the median (and p95) of --runs timed runs after warm-up.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def full_decode(jpeg: bytes) -> Image.Image:
    """Decoding without draft(): what a naive server does."""
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image.convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    jpeg = webcam_jpeg()
    results: dict = {"model": str(args.model), "jpeg_bytes": len(jpeg), "jpeg_size": "1280x720"}
    for threads in (1, 2):
        detector = Detector(args.model, threads=threads)
        tensor = detector.preprocess(decode_image(jpeg, target_size=detector.input_size))
        decoded = decode_image(jpeg, target_size=detector.input_size)
        results[f"threads_{threads}"] = {
            "inference_ms": timed(lambda d=detector, t=tensor: d.infer(t), args.runs),
            "decode_draft_ms": timed(lambda d=detector: decode_image(jpeg, target_size=d.input_size), args.runs),
            "decode_full_ms": timed(lambda: full_decode(jpeg), args.runs),
            "resize_to_tensor_ms": timed(lambda d=detector, image=decoded: d.preprocess(image), args.runs),
            # The floor of the whole predict path: decode + resize + inference, the service's own code.
            "floor_ms": timed(
                lambda d=detector: d.infer(d.preprocess(decode_image(jpeg, target_size=d.input_size))), args.runs
            ),
            "detect_with_postprocess_ms": timed(
                lambda d=detector: d.detect(decode_image(jpeg, target_size=d.input_size)), args.runs
            ),
        }
        results["input_size"] = "x".join(map(str, detector.input_size))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
