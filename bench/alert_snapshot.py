"""What an alert's one stored snapshot costs: rendering it when a frame alerts, drawing its boxes when served.

    .venv/bin/python bench/alert_snapshot.py [--runs 15]

In process, interleaved with the floor of an ordinary predict (``detection.services.snapshot_score`` of
a 1280x720 webcam JPEG through the shipped model, one onnxruntime thread), for three uploads: that
webcam frame; a frame of noise at the largest JPEG the upload limit accepts (no encoder shrinks it:
the costliest to render, stored at a smaller size); and the frame with the largest snapshot still
stored at 1280 px, just under ``ALERT_SNAPSHOT_MAX_BYTES`` (the costliest to serve). For each: ``render``
(``alert_snapshot_render``, what an alerting predict adds), ``serve`` (``alert_snapshot_tagged`` with
20 boxes, what each GET of ``/api/v1/alerts/{id}/snapshot/`` and each admin thumbnail costs), and the
stored file's size and side. Prints JSON with medians in ms and ratios to the predict floor measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from bench.common import PROJECT, django_setup, median_ms, webcam_jpeg

MODEL = PROJECT / "models" / "spaghetti-effnetlite0.onnx"


def noise_jpeg(max_bytes: int, size=(1280, 960)) -> bytes:
    """Noise at the highest JPEG quality that still fits ``max_bytes``."""
    image = Image.frombytes("RGB", size, random.Random(0).randbytes(size[0] * size[1] * 3))
    best = b""
    for quality in range(30, 96, 5):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() > max_bytes:
            break
        best = buffer.getvalue()
    return best


def largest_kept_at_full_size(limits) -> bytes:
    """A 1280x960 frame, noise in its top rows and grey below, with as many noisy rows as keep its
    snapshot at 1280 px (its JPEG just under ``ALERT_SNAPSHOT_MAX_BYTES``)."""
    from django.conf import settings

    from prints.alert_images import MAX_SIDE, alert_snapshot_render

    noise = Image.frombytes("RGB", (1280, 960), random.Random(1).randbytes(1280 * 960 * 3))

    def upload(rows: int) -> bytes:
        image = Image.new("RGB", (1280, 960), (128, 128, 128))
        image.paste(noise.crop((0, 0, 1280, rows)), (0, 0))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    low, high = 0, 960
    while high - low > 4:  # the largest row count whose snapshot stays at full size
        rows = (low + high) // 2
        kept = alert_snapshot_render(upload(rows), limits=limits, max_bytes=settings.ALERT_SNAPSHOT_MAX_BYTES)
        if max(Image.open(io.BytesIO(kept.jpeg)).size) == MAX_SIDE:
            low = rows
        else:
            high = rows
    return upload(low)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    django_setup()
    from django.conf import settings

    settings.DETECTION = {**settings.DETECTION, "MODEL_PATH": MODEL, "THREADS": 1}
    from detection.conf import detection_settings
    from detection.services import snapshot_score
    from prints.alert_images import alert_snapshot_render, alert_snapshot_tagged

    limits = detection_settings.image_limits()
    max_bytes = settings.ALERT_SNAPSHOT_MAX_BYTES
    webcam = webcam_jpeg()
    uploads = {
        "webcam 1280x720": webcam,
        "noise at the JPEG byte limit": noise_jpeg(limits.max_image_bytes),
        "largest snapshot kept at 1280 px": largest_kept_at_full_size(limits),
    }
    boxes = [[0.5, [100.0 + 40 * n, 100.0 + 20 * n, 120.0, 90.0]] for n in range(20)]
    snapshot_score(webcam)  # loads the model
    results = {}
    for name, upload in uploads.items():
        snapshot = alert_snapshot_render(upload, limits=limits, max_bytes=max_bytes)
        frame = (snapshot.frame_width, snapshot.frame_height)
        floor, render, serve = [], [], []
        for _ in range(3):  # interleaved, so a drifting machine moves all three alike
            floor.append(median_ms(lambda: snapshot_score(webcam), runs))
            render.append(median_ms(partial(alert_snapshot_render, upload, limits=limits, max_bytes=max_bytes), runs))
            draw = partial(alert_snapshot_tagged, snapshot.jpeg, boxes, frame_size=frame)
            serve.append(median_ms(draw, runs))
        floor_ms = statistics.median(floor)
        results[name] = {
            "upload_bytes": len(upload),
            "stored_bytes": len(snapshot.jpeg),
            "stored_size": Image.open(io.BytesIO(snapshot.jpeg)).size,
            "predict_floor_ms": round(floor_ms, 1),
            "render_ms": round(statistics.median(render), 1),
            "serve_ms": round(statistics.median(serve), 1),
            "render_ratio": round(statistics.median(render) / floor_ms, 2),
            "serve_ratio": round(statistics.median(serve) / floor_ms, 2),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
