"""The worst upload the limits still accept, and what it costs: time against an ordinary predict, and memory.

    .venv/bin/python bench/worst_upload.py [--runs 7] [--burst 16 --threads 4]

Builds, for each format, the costliest images that pass the service's limits (pixels, aspect ratio,
JPEG scans: ``detection_settings.image_limits()``) and the body limit (``UPLOAD_MAX_BYTES``): noise
that no encoder can shrink, the largest pixel count, the longest side, every scan allowed. Each is
decoded and run through the model in process (the floor of ``bench/inference.py``: decode + resize +
inference, one onnxruntime thread), interleaved with an ordinary 1280x720 webcam JPEG, and reported as
a ratio to that ordinary predict in the same run. Then, in a fresh process each, ``--threads`` threads run a
burst of ``--burst`` predicts of the worst candidate and the process reports its peak RSS (VmHWM).
Prints JSON. Targets (issue 14): at most 3x an ordinary predict, at most 300 MB per worker.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from bench.common import PROJECT, django_setup, webcam_jpeg
from detection.image import PROGRESSIVE_SCANS

MODEL = PROJECT / "models" / "spaghetti-effnetlite0.onnx"
MULTIPART_OVERHEAD = 512  # the boundary and part headers around the image in a predict body


def noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Random pixels: what no encoder compresses, so the most data a size allows."""
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


def encode(image: Image.Image, image_format: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **save_args)
    return buffer.getvalue()


def largest_quality(image: Image.Image, image_format: str, max_bytes: int, **save_args) -> bytes:
    """The highest quality (1-100) whose encoding fits ``max_bytes`` (binary search)."""
    low, high, best = 1, 100, None
    while low <= high:
        quality = (low + high) // 2
        try:
            data = encode(image, image_format, quality=quality, **save_args)
        except OSError:  # libjpeg's progressive encoder runs out of buffer on noise at high quality
            data = None
        if data is not None and len(data) <= max_bytes:
            best, low = data, quality + 1
        else:
            high = quality - 1
    if best is None:
        raise ValueError(f"no {image_format} of {image.size} fits {max_bytes} bytes")
    return best


def with_scans(data: bytes, scans: int) -> bytes:
    """A progressive JPEG padded to ``scans`` scans by repeating its last scan (issue 14's attack)."""
    last = data[data.rindex(b"\xff\xda") : -2]
    current = data.count(b"\xff\xda")  # entropy data never holds 0xFFDA (it would be stuffed)
    return data[:-2] + last * max(0, scans - current) + data[-2:]


def shape(pixels: int, aspect: float) -> tuple[int, int]:
    """The largest (W, H) with W/H = aspect and W*H <= pixels."""
    height = math.isqrt(int(pixels / aspect))
    width = int(height * aspect)
    while width * height > pixels:
        width -= 1
    return width, height


def mixed(size: tuple[int, int], noise_share: float) -> Image.Image:
    """Noise blended into a smooth picture: fewer bytes than pure noise, for formats where noise is too big."""
    smooth = Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 60).convert("RGB")
    return Image.blend(smooth, noise(size), noise_share)


def fitting_noise(size: tuple[int, int], image_format: str, max_bytes: int, **save_args) -> bytes:
    """The noisiest blend of noise into a smooth picture whose encoding fits ``max_bytes``."""
    low, high, best = 0, 100, None
    while low <= high:
        share = (low + high) // 2
        data = encode(mixed(size, share / 100), image_format, **save_args)
        if len(data) <= max_bytes:
            best, low = data, share + 1
        else:
            high = share - 1
    return best


def candidates(limits, max_body: int) -> dict[str, bytes]:
    """The costliest images of each format that the limits and the body limit accept."""
    jpeg_bytes = min(max_body, limits.max_image_bytes)
    webp_bytes = min(max_body, limits.max_webp_bytes)
    square_all = shape(limits.max_pixels, 1)
    square_full = shape(limits.max_full_decode_pixels, 1)
    wide_full = shape(limits.max_full_decode_pixels, limits.max_aspect_ratio)
    full = f"{square_full[0]}x{square_full[1]}"
    progressive = {}
    for scans in sorted({PROGRESSIVE_SCANS, limits.max_jpeg_scans}):
        # More scans than libjpeg writes get proportionally fewer pixels (detection.image.check_limits).
        size = shape(limits.max_full_decode_pixels * PROGRESSIVE_SCANS // max(scans, PROGRESSIVE_SCANS), 1)
        budget = jpeg_bytes // 2
        while True:  # the most noise whose every allowed scan still fits the byte limit
            data = with_scans(
                largest_quality(noise(size), "JPEG", budget, subsampling=0, progressive=True),
                scans,
            )
            if len(data) <= jpeg_bytes:
                break
            budget = budget * 3 // 4
        progressive[f"jpeg progressive noise {size[0]}x{size[1]}, {scans} scans"] = data
    return {
        # At 4096x4096 even a smooth picture is over the byte limit at high quality: the highest that fits.
        f"jpeg baseline 4:4:4 {square_all[0]}x{square_all[1]}": largest_quality(
            mixed(square_all, 0.1), "JPEG", jpeg_bytes, subsampling=0
        ),
        **progressive,
        f"png noise {full}": fitting_noise(square_full, "PNG", jpeg_bytes, compress_level=1),
        f"png noise {wide_full[0]}x{wide_full[1]}": fitting_noise(wide_full, "PNG", jpeg_bytes, compress_level=1),
        f"png RGBA Paeth {full}": encode_png_rgba_paeth(square_full),
        f"webp lossless noise {full}": fitting_noise(square_full, "WEBP", webp_bytes, lossless=True),
        f"webp lossy noise {full}": fitting_noise(square_full, "WEBP", webp_bytes, quality=100),
    }


def encode_png_rgba_paeth(size: tuple[int, int]) -> bytes:
    """A flat RGBA PNG, every row Paeth-filtered: the most work a pixel (16-bit and interlaced are refused)."""
    import struct
    import zlib

    width, height = size
    raw = (b"\x04" + b"\x00" * (width * 4)) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def predict_floor(detector, data: bytes, limits):
    """What a predict costs in process: decode (with the service's limits) + resize + inference."""
    from detection.image import decode_image

    return detector.detect(decode_image(data, target_size=detector.input_size, limits=limits))


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def burst(path: Path, count: int, threads: int) -> None:
    """Child process: the peak RSS of one worker's threads decoding ``count`` copies of ``path``."""
    from detection.conf import detection_settings
    from detection.runner import Detector

    limits = detection_settings.image_limits()
    detector = Detector(MODEL, threads=1)
    ordinary = webcam_jpeg()
    for _ in range(5):
        predict_floor(detector, ordinary, limits)
    before = vm_hwm_mb()
    data = path.read_bytes()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: predict_floor(detector, data, limits), range(count)))
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {"peak_rss_mb_before": round(before, 1), "peak_rss_mb": round(vm_hwm_mb(), 1), "burst_s": round(elapsed, 2)}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--burst", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--burst-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    django_setup()
    if args.burst_child:
        burst(args.burst_child, args.burst, args.threads)
        return

    from django.conf import settings

    from detection.conf import detection_settings
    from detection.runner import Detector

    limits = detection_settings.image_limits()
    max_bytes = settings.UPLOAD_MAX_BYTES - MULTIPART_OVERHEAD
    detector = Detector(MODEL, threads=1)
    ordinary = webcam_jpeg()
    uploads = candidates(limits, max_bytes)
    for name, data in uploads.items():
        if data is None or len(data) > max_bytes:
            raise SystemExit(f"{name}: no candidate fits the limits")

    def timed(data: bytes) -> float:
        started = time.perf_counter()
        predict_floor(detector, data, limits)
        return (time.perf_counter() - started) * 1000

    for _ in range(10):
        timed(ordinary)
    results, ordinary_ms = {}, []
    for name, data in uploads.items():
        timed(data)  # warm-up, and proof that it is accepted (InvalidImage would stop the run)
        samples = []
        for _ in range(args.runs):
            ordinary_ms.append(timed(ordinary))
            samples.append(timed(data))
        results[name] = {"bytes": len(data), "ms": round(statistics.median(samples), 1)}
    ordinary_median = statistics.median(ordinary_ms)
    for result in results.values():
        if isinstance(result, dict):
            result["ratio"] = round(result["ms"] / ordinary_median, 2)
    worst = max((n for n, r in results.items() if isinstance(r, dict)), key=lambda n: results[n]["ms"])

    path = Path(tempfile.mkdtemp()) / "worst_upload.bin"
    path.write_bytes(uploads[worst])
    memory = {}
    for name, data in [("worst", path), ("ordinary", None)]:
        if data is None:
            data = path.with_suffix(".ordinary.jpg")
            data.write_bytes(ordinary)
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--burst-child",
                str(data),
                "--burst",
                str(args.burst),
                "--threads",
                str(args.threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        memory[name] = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        json.dumps(
            {
                "limits": {
                    "max_pixels": limits.max_pixels,
                    "max_full_decode_pixels": limits.max_full_decode_pixels,
                    "max_aspect_ratio": limits.max_aspect_ratio,
                    "max_jpeg_scans": limits.max_jpeg_scans,
                    "max_body_bytes": settings.UPLOAD_MAX_BYTES,
                },
                "ordinary_ms": round(ordinary_median, 1),
                "candidates": results,
                "worst": worst,
                f"burst of {args.burst} on {args.threads} threads": memory,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
