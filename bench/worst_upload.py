"""The worst upload the limits still accept, and what it costs: time against an ordinary predict, and memory.

    .venv/bin/python bench/worst_upload.py [--runs 7] [--burst 16 --threads 4]

Builds, for each format, the costliest images that pass the service's limits (pixels, aspect ratio,
JPEG scans, segments: ``detection_settings.image_limits()``) and the body limit (``UPLOAD_MAX_BYTES``):
noise that no encoder can shrink, the largest pixel count, the longest side, every scan allowed; and
the hostile files of issue 23 (``tests/detection/hostile_images.py``): uploads made of markers, chunks
or metadata that Pillow parses in Python, JPEGs whose decoding holds the whole frame, a thin region of
interest. Each is decoded and run through the model in process as ``detection.services.snapshot_score``
does (the floor of ``bench/inference.py``: decode + resize + inference, one onnxruntime thread; with a
``roi``, decoded larger and cut to it), interleaved with an ordinary 1280x720 webcam JPEG, and reported
as a ratio to that ordinary predict in the same run. The uploads the limits refuse are timed the same
way, up to their refusal. Then, in a fresh process each, ``--threads`` threads run a burst of
``--burst`` predicts of an upload (the worst accepted one, the memory-heavy ones, the ordinary one)
and the process reports its peak RSS (VmHWM).
Prints JSON. Targets (issues 14, 23): the worst accepted upload at most 3x an ordinary predict, the
worst refused one at most 1x, a burst at most 300 MB over the ordinary one.
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
from detection.image import PROGRESSIVE_SCANS, InvalidImage
from detection.region import Region, decode_size, detect_in_region
from tests.detection import hostile_images as hostile

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


# A 5 % strip across the top: the narrowest region of interest the API accepts (detection.region).
STRIP = Region(0.0, 0.0, 1.0, 0.05)


def hostile_accepted(limits) -> dict[str, tuple[bytes, Region | None]]:
    """Issue 23's uploads that pass the limits, at the limits: (bytes, roi)."""
    segments = limits.max_image_segments
    full = shape(limits.max_full_decode_pixels, 1)
    dqt = hostile.small_jpeg()
    at = dqt.index(b"\xff\xdb")
    table = dqt[at : at + 2 + int.from_bytes(dqt[at + 2 : at + 4], "big")]
    # Fill the segment cap with repeated tables, which Pillow and libjpeg are both given (comments are
    # not): the most the walk accepts.
    extra = next(n for n in range(segments, 0, -1) if accepted(dqt[:at] + table * n + dqt[at:], limits))
    many_tables = dqt[:at] + table * extra + dqt[at:]
    many_scans = hostile.sequential_jpeg(full)
    exif = hostile.exif_pointing_many_tags_at_one_blob(blob=1000)  # "Exif\0\0", TIFF header, then the count
    return {
        f"jpeg 4096x4096 noise blend, roi strip {tuple(STRIP)}": (
            largest_quality(mixed((4096, 4096), 0.1), "JPEG", limits.max_image_bytes),
            STRIP,
        ),
        "jpeg SOF claims 4096x4096, one scan, 16x16 of data": (
            hostile.sequential_jpeg((16, 16), sof_size=(4096, 4096), interleaved=True),
            None,
        ),
        "jpeg SOF claims 4096x4096, one scan, roi strip": (
            hostile.sequential_jpeg((16, 16), sof_size=(4096, 4096), interleaved=True),
            STRIP,
        ),
        f"jpeg sequential, 3 separate scans, {full[0]}x{full[1]}": (many_scans, None),
        f"jpeg with {extra} extra DQT segments ({segments} in all)": (many_tables, None),
        f"jpeg with {extra} COM segments": (hostile.jpeg_with_app_segment(b"c", 0xFE, extra), None),
        f"jpeg EXIF of {int.from_bytes(exif[14:16], 'big'):,} tags on one 1 KB value": (
            hostile.jpeg_with_app_segment(exif),
            None,
        ),
        "jpeg 9 APP13 of 5,415 empty Photoshop blocks each": (
            hostile.jpeg_with_app_segment(hostile.photoshop_resources(), marker=0xED, copies=9),
            None,
        ),
        f"png {segments - 3} empty ancillary chunks": (hostile.png_with_chunks(segments - 3), None),
        f"png {full[0]}x{full[1]}, IDAT in {segments - 2} pieces": (
            hostile.png_with_idat_split(full, segments - 2),
            None,
        ),
    }


def accepted(data: bytes, limits) -> bool:
    """Whether the header walk and the byte limit let ``data`` through."""
    from detection.image import read_header

    try:
        read_header(data, limits)
    except InvalidImage:
        return False
    return True


def hostile_refused(limits, max_body: int) -> dict[str, bytes]:
    """Issue 23's uploads that the limits refuse: each must cost less than an ordinary predict."""
    most = max_body
    return {
        f"EPS of comment lines, {most:,} bytes": hostile.eps(most),
        f"IM of comment lines, {most:,} bytes": hostile.im(most),
        f"IPTC of empty fields, {most:,} bytes": hostile.iptc(most),
        f"GIF comment of 1-byte sub-blocks, {most:,} bytes": hostile.gif_comment_blocks(most),
        f"jpeg of 2-byte COM segments, {most:,} bytes": hostile.jpeg_of_com_segments(most),
        f"jpeg of COM segments, {limits.max_image_bytes:,} bytes": hostile.jpeg_of_com_segments(limits.max_image_bytes),
        f"jpeg of RST markers, {limits.max_image_bytes:,} bytes": hostile.jpeg_of_rst_markers(limits.max_image_bytes),
        "png of 54,000 empty chunks": hostile.png_with_chunks(54_000),
        "jpeg sequential 4096x4096, 3 separate scans": hostile.sequential_jpeg((4096, 4096)),
        "jpeg SOF claims 4096x4096, 3 separate scans": hostile.sequential_jpeg((16, 16), sof_size=(4096, 4096)),
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


def predict_floor(detector, data: bytes, limits, roi: Region | None = None):
    """What a predict costs in process, as ``snapshot_score`` does it: decode (with the service's limits),
    cut to the roi if any, resize + inference. A refused upload costs its refusal."""
    from detection.image import decode_image

    try:
        if roi is None:
            return detector.detect(decode_image(data, target_size=detector.input_size, limits=limits))
        image = decode_image(data, target_size=decode_size(roi, detector.input_size), limits=limits)
        return detect_in_region(detector.detect, image, roi)
    except InvalidImage as exc:
        return exc


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def burst(path: Path, count: int, threads: int, roi: Region | None) -> None:
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
        list(pool.map(lambda _: predict_floor(detector, data, limits, roi), range(count)))
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
    parser.add_argument("--roi", help=argparse.SUPPRESS)
    args = parser.parse_args()
    django_setup()
    if args.burst_child:
        roi = Region(*map(float, args.roi.split(","))) if args.roi else None
        burst(args.burst_child, args.burst, args.threads, roi)
        return

    from django.conf import settings

    from detection.conf import detection_settings
    from detection.runner import Detector

    limits = detection_settings.image_limits()
    max_bytes = settings.UPLOAD_MAX_BYTES - MULTIPART_OVERHEAD
    detector = Detector(MODEL, threads=1)
    ordinary = webcam_jpeg()
    uploads = {name: (data, None) for name, data in candidates(limits, max_bytes).items()}
    uploads.update(hostile_accepted(limits))
    refused = hostile_refused(limits, max_bytes)
    for name, (data, _) in uploads.items():
        if data is None or len(data) > max_bytes:
            raise SystemExit(f"{name}: no candidate fits the limits")

    def timed(data: bytes, roi: Region | None = None) -> tuple[float, object]:
        started = time.perf_counter()
        outcome = predict_floor(detector, data, limits, roi)
        return (time.perf_counter() - started) * 1000, outcome

    for _ in range(10):
        timed(ordinary)
    results, refusals, ordinary_ms = {}, {}, []
    for name, (data, roi) in uploads.items():
        _, outcome = timed(data, roi)  # warm-up, and proof that it is accepted
        if isinstance(outcome, InvalidImage):
            raise SystemExit(f"{name}: refused: {outcome}")
        samples = []
        for _ in range(args.runs):
            ordinary_ms.append(timed(ordinary)[0])
            samples.append(timed(data, roi)[0])
        results[name] = {"bytes": len(data), "ms": round(statistics.median(samples), 2)}
    for name, data in refused.items():
        _, outcome = timed(data)
        if not isinstance(outcome, InvalidImage):
            raise SystemExit(f"{name}: accepted")
        samples = []
        for _ in range(args.runs):
            ordinary_ms.append(timed(ordinary)[0])
            samples.append(timed(data)[0])
        refusals[name] = {"bytes": len(data), "ms": round(statistics.median(samples), 2), "error": str(outcome)}
    ordinary_median = statistics.median(ordinary_ms)
    for result in [*results.values(), *refusals.values()]:
        result["ratio"] = round(result["ms"] / ordinary_median, 3)
    worst = max(results, key=lambda n: results[n]["ms"])
    worst_refused = max(refusals, key=lambda n: refusals[n]["ms"])

    folder = Path(tempfile.mkdtemp())
    # The worst by time, and those that held the most memory before issue 23 (decoded at full size).
    memory_heavy = [worst] + [n for n in uploads if "roi strip" in n or "separate scans" in n]
    bursts = [(n, *uploads[n]) for n in dict.fromkeys(memory_heavy)]
    bursts += [(n, refused[n], None) for n in refused if "4096x4096" in n or "GIF" in n]
    bursts.append(("ordinary", ordinary, None))
    memory = {}
    for index, (name, data, roi) in enumerate(bursts):
        path = folder / f"upload-{index}.bin"
        path.write_bytes(data)
        command = [sys.executable, __file__, "--burst-child", str(path), "--burst", str(args.burst)]
        command += ["--threads", str(args.threads)]
        if roi is not None:
            command += ["--roi", ",".join(map(str, roi))]
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        memory[name] = json.loads(child.stdout.strip().splitlines()[-1])
    baseline = memory["ordinary"]["peak_rss_mb"]
    for result in memory.values():
        result["over_ordinary_mb"] = round(result["peak_rss_mb"] - baseline, 1)
    print(
        json.dumps(
            {
                "limits": {
                    "max_pixels": limits.max_pixels,
                    "max_full_decode_pixels": limits.max_full_decode_pixels,
                    "max_aspect_ratio": limits.max_aspect_ratio,
                    "max_jpeg_scans": limits.max_jpeg_scans,
                    "max_image_bytes": limits.max_image_bytes,
                    "max_image_segments": limits.max_image_segments,
                    "max_decoded_pixels": limits.max_decoded_pixels,
                    "max_body_bytes": settings.UPLOAD_MAX_BYTES,
                },
                "ordinary_ms": round(ordinary_median, 2),
                "candidates": results,
                "refused": refusals,
                "worst": worst,
                "worst_refused": worst_refused,
                f"burst of {args.burst} on {args.threads} threads": memory,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
