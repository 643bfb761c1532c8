"""Where a predict's time goes beyond the floor, in process (no HTTP), on PostgreSQL.

    .venv/bin/python bench/overhead.py [--requests 300] [--without-model]

Calls Django's WSGI handler directly with a real multipart predict, as gunicorn would, and times
each stage by wrapping the functions that do it (authentication, multipart parsing, decode, model,
the locked read, commit, ...), plus every SQL statement. Prints JSON: the floor measured in the same
run, the whole request, and the mean milliseconds per request of each stage. Stages nest (the
"DRF view" holds the others), so they do not add up to the total.

``--without-model`` replaces decode and detection with a fixed answer, so that only the rest of the
request is timed, back to back with no floor runs between: the way to compare two versions of the web
path (a library, a query) without the model's noise.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    django_setup,
    make_printing_owner,
    multipart,
    percentiles,
    prepare_database,
    production_settings,
    webcam_jpeg,
    wsgi_predict,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--without-model", action="store_true", help="time only what is not the floor")
    args = parser.parse_args()

    os.environ.update(production_settings(detection_threads=1))
    prepare_database()
    django_setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.db.backends.base.base import BaseDatabaseWrapper
    from rest_framework.parsers import MultiPartParser
    from rest_framework.views import APIView

    import detection.services
    import prints.services.predict
    from accounts.oauth import HeaderOnlyOAuth2Authentication
    from bench.inference import predict_floor
    from detection.runner import Detector, get_detector

    token, (printer_id,), _ = make_printing_owner(1, prefix="overhead")
    jpeg = webcam_jpeg()
    body = multipart(jpeg)
    handler = WSGIHandler()

    def request() -> None:
        status, _ = wsgi_predict(handler, printer_id=printer_id, token=token, body=body)
        assert status.startswith("200"), status

    totals: dict[str, float] = defaultdict(float)

    def stage(owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed_stage(*a, **kw):
            started = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                totals[label] += time.perf_counter() - started

        setattr(owner, name, timed_stage)

    stage(APIView, "dispatch", "DRF view (all below)")
    stage(HeaderOnlyOAuth2Authentication, "authenticate", "authentication (token query, oauthlib)")
    stage(MultiPartParser, "parse", "multipart parsing")
    stage(APIView, "check_throttles", "rate limits (cache)")
    stage(prints.services.predict, "printer_current_print_id_and_roi", "printer check before decoding")
    stage(detection.services, "decode_image", "decode (floor)")
    stage(Detector, "detect", "resize + inference + NMS (floor)")
    stage(prints.services.predict, "printer_lock", "printer lock + printer, print and stats read")
    stage(prints.services.predict, "prediction_record", "statistics update + history insert")
    stage(BaseDatabaseWrapper, "commit", "commit")
    statements: dict[str, list[float]] = defaultdict(list)

    def sql_timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements[" ".join(sql.split()[:4])[:60]].append((time.perf_counter() - started) * 1000)

    detector = get_detector()
    if args.without_model:
        print(json.dumps(time_without_model(request, args.requests, totals), indent=2))
        return
    for _ in range(20):
        predict_floor(detector, jpeg)
        request()
    totals.clear()
    latencies, floors = [], []
    with connection.execute_wrapper(sql_timer):
        # Each request right after one floor run (which calls none of the timed stages), so the
        # machine's drift cancels out of their difference.
        for _ in range(args.requests):
            started = time.perf_counter()
            predict_floor(detector, jpeg)
            floor_done = time.perf_counter()
            request()
            latencies.append((time.perf_counter() - floor_done) * 1000)
            floors.append((floor_done - started) * 1000)
    floor, whole = percentiles(floors), percentiles(latencies)
    print(
        json.dumps(
            {
                "floor_ms": floor,
                "request_ms": whole,
                "overhead_p50_ms": round(whole["p50"] - floor["p50"], 2),
                "stage_mean_ms": {k: round(v / args.requests * 1000, 3) for k, v in totals.items()},
                "sql_median_ms": {
                    k: {"per_request": round(len(v) / args.requests, 2), "median": round(statistics.median(v), 3)}
                    for k, v in statements.items()
                },
            },
            indent=2,
        )
    )


def time_without_model(request, requests: int, totals: dict) -> dict:
    """The request with decode and detection answered at once: what the web path alone costs."""
    import detection.services
    from detection.postprocess import Detection
    from detection.runner import Detector

    detection.services.decode_image = lambda image_bytes, **options: None  # target_size, limits
    Detector.detect = lambda self, image: [Detection(0.3, 320.0, 180.0, 40.0, 30.0)]
    for _ in range(50):
        request()
    totals.clear()
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        request()
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "request_without_model_ms": percentiles(latencies),
        "stage_mean_ms": {k: round(v / requests * 1000, 3) for k, v in totals.items()},
    }


if __name__ == "__main__":
    main()
