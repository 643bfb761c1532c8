"""The real HTTP predict path: gunicorn (as the Dockerfile runs it) on PostgreSQL, real JPEGs.

    .venv/bin/python bench/predict.py [--workers 2 --threads 4 --detection-threads 1] [--requests 300]

Measures, in one run: the in-process floor (decode + resize + inference with the server's
thread count), then predict latency at 1 client and at 8 clients (each on its own printing
printer), throughput, errors, resident memory per worker, and checks every printer's counter
against the predicts that succeeded. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PROJECT,
    PredictClient,
    django_setup,
    gunicorn,
    make_printing_owner,
    percentiles,
    prepare_database,
    rss_mb,
    webcam_jpeg,
    worker_pids,
)
from bench.inference import predict_floor


def run_clients(base: str, token: str, printer_ids: list[int], jpeg: bytes, per_client: int) -> dict:
    """One thread per printer, each with its own keep-alive connection, ``per_client`` predicts each."""
    latencies, errors, ok_per_printer = [], [], dict.fromkeys(printer_ids, 0)
    lock = threading.Lock()
    barrier = threading.Barrier(len(printer_ids))

    def client(printer_id):
        webcam = PredictClient(base, token, printer_id, jpeg)
        barrier.wait()
        for _ in range(per_client):
            started = time.perf_counter()
            status = webcam.post()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                    ok_per_printer[printer_id] += 1
                else:
                    errors.append(status)

    threads = [threading.Thread(target=client, args=(pid,)) for pid in printer_ids]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "latency_ms": percentiles(latencies),
        "throughput_per_s": round(len(latencies) / wall, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "ok_per_printer": ok_per_printer,
    }


def one_client_against_the_floor(base: str, token: str, printer_id: int, jpeg: bytes, detector, count: int) -> dict:
    """``count`` predicts from one client, each right after one in-process floor run.

    Alternating the two puts both in the same minutes, so the machine's drift (the floor moves by
    a few per cent between runs here) cancels out of the ratio.
    """
    webcam = PredictClient(base, token, printer_id, jpeg)
    latencies, floors, errors = [], [], []
    started = time.perf_counter()
    for _ in range(count):
        floor_started = time.perf_counter()
        predict_floor(detector, jpeg)
        sent = time.perf_counter()
        floors.append((sent - floor_started) * 1000)
        status = webcam.post()
        if status == 200:
            latencies.append((time.perf_counter() - sent) * 1000)
        else:
            errors.append(status)
    wall = time.perf_counter() - started
    return {
        "floor_ms": percentiles(floors),
        "latency_ms": percentiles(latencies),
        "throughput_per_s": round(len(latencies) / wall, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "ok_per_printer": {printer_id: len(latencies)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--detection-threads", type=int, default=1)
    parser.add_argument(
        "--requests", type=int, default=300, help="predicts at 1 client; 8 clients send as many each / 4"
    )
    parser.add_argument("--model", type=Path, default=PROJECT / "models" / "spaghetti-effnetlite0.onnx")
    args = parser.parse_args()

    prepare_database()
    django_setup()
    from detection.models import PrinterStats
    from detection.runner import Detector

    jpeg = webcam_jpeg()
    detector = Detector(args.model, threads=args.detection_threads)
    for _ in range(20):  # warm the in-process session up
        predict_floor(detector, jpeg)

    token, printer_ids, _ = make_printing_owner(9, prefix="bench")

    result = {
        "config": {
            "workers": args.workers,
            "threads": args.threads,
            "detection_threads": args.detection_threads,
            "model": args.model.name,
        },
    }
    with gunicorn(
        workers=args.workers,
        threads=args.threads,
        detection_threads=args.detection_threads,
        extra_env={"DETECTION_MODEL_PATH": str(args.model)},
    ) as (base, master):
        # Warm every worker: each loads the model on its first predict.
        run_clients(base, token, printer_ids[:8], jpeg, per_client=4)
        single = one_client_against_the_floor(base, token, printer_ids[8], jpeg, detector, args.requests)
        eight = run_clients(base, token, printer_ids[:8], jpeg, per_client=max(1, args.requests // 4) * 2)
        result["rss_mb_per_worker"] = [round(rss_mb(pid), 1) for pid in worker_pids(master.pid)]

    result["floor_ms"] = single.pop("floor_ms")
    result["one_client"] = single
    result["eight_clients"] = eight
    result["ratio_p50_to_floor"] = round(single["latency_ms"]["p50"] / result["floor_ms"]["p50"], 3)
    sent_ok = {pid: 4 * (pid in printer_ids[:8]) for pid in printer_ids}
    for scenario in (single, eight):
        for pid, ok in scenario.pop("ok_per_printer").items():
            sent_ok[pid] += ok
    counted = dict(PrinterStats.objects.filter(printer_id__in=printer_ids).values_list("printer_id", "prediction_num"))
    result["counters_exact"] = counted == sent_ok
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
