"""Soak: the production server (2 workers) on PostgreSQL under 32 clients and a mixed workload.

    .venv/bin/python bench/soak.py [--predicts 2000 --clients 32 --printers 4]

Clients share 4 printers. Each loops: mostly predicts, with reads (printer, prints list) and,
now and then, a finish followed by a new start on its printer (so predicts also race print
changes: a predict whose print ended is a 404 by design and is not counted). At the end every
printer's counters are checked against the successful predicts the clients saw, per print.
Prints JSON; errors means 5xx, timeouts or unexpected statuses (target 0).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from bench.common import (
    PROJECT,
    django_setup,
    gunicorn,
    make_printing_owner,
    percentiles,
    prepare_database,
    spaghetti_jpegs,
    webcam_jpeg,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--predicts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--printers", type=int, default=4)
    parser.add_argument("--model", type=Path, default=PROJECT / "models" / "spaghetti-effnetlite0.onnx")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    prepare_database()
    django_setup()
    from detection.models import Prediction, PrinterStats
    from prints.selectors import print_list

    token, printer_ids, owner = make_printing_owner(args.printers, prefix="soak")
    images = [webcam_jpeg(), *spaghetti_jpegs(8)]
    budget = {"predicts": args.predicts}
    lock = threading.Lock()
    statuses: Counter = Counter()
    errors: list = []
    latencies: list[float] = []

    def take_predict() -> bool:
        with lock:
            if budget["predicts"] <= 0:
                return False
            budget["predicts"] -= 1
            return True

    def check(response, expected: set[int]) -> None:
        with lock:
            segments = [part for part in response.request.path_url.split("?")[0].split("/") if part]
            endpoint = "printer" if segments[-1].isdigit() else segments[-1]
            statuses[f"{response.request.method} {endpoint} {response.status_code}"] += 1
            if response.status_code not in expected:
                errors.append((response.status_code, response.text[:200]))

    def client(n: int) -> None:
        rng = random.Random(args.seed + n)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        printer_id = printer_ids[n % len(printer_ids)]
        base_printer = f"{base}/api/v1/printers/{printer_id}"
        while take_predict():
            roll = rng.random()
            try:
                if roll < 0.03:
                    finish = session.post(f"{base_printer}/finish_print/", json={"status": "success"}, timeout=30)
                    start = session.post(
                        f"{base_printer}/start_print/", json={"filename": f"soak-{n}.gcode"}, timeout=30
                    )
                    # 404 / 400: another client sharing the printer finished or started it first.
                    check(finish, {200, 404})
                    check(start, {200, 400})
                elif roll < 0.13:
                    check(session.get(rng.choice([base_printer + "/", f"{base}/api/v1/prints/"]), timeout=30), {200})
                started = time.perf_counter()
                response = session.post(
                    f"{base_printer}/predict/", files={"img": ("s.jpg", rng.choice(images), "image/jpeg")}, timeout=30
                )
                elapsed = (time.perf_counter() - started) * 1000
                check(response, {200, 404})  # 404: between a finish and the next start
                if response.status_code == 200:
                    with lock:
                        latencies.append(elapsed)
            except requests.RequestException as exc:
                with lock:
                    errors.append(repr(exc))

    with gunicorn(workers=2, threads=4, detection_threads=1, extra_env={"DETECTION_MODEL_PATH": str(args.model)}) as (
        base,
        _,
    ):
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started

    # Exactness: the lifetime counter of each printer equals the predicts that got a 200, and each
    # print's count (finished prints keep theirs; the running one reads the live row) sums to it.
    ok_total = sum(count for key, count in statuses.items() if key.endswith("predict 200"))
    lifetime = sum(
        PrinterStats.objects.filter(printer_id__in=printer_ids).values_list("prediction_num_lifetime", flat=True)
    )
    # The prints API's own count: a finished print's stored total, a running one's live row.
    per_print = sum(print_list(user=owner).values_list("prediction_count", flat=True))
    history = Prediction.objects.filter(print__printer_id__in=printer_ids).count()
    result = {
        "clients": args.clients,
        "printers": args.printers,
        "requests": sum(statuses.values()),
        "statuses": dict(statuses),
        "errors": len(errors),
        "error_samples": errors[:5],
        "predict_latency_ms": percentiles(latencies) if latencies else None,
        "predicts_per_s": round(ok_total / wall, 1),
        "wall_s": round(wall, 1),
        "counters": {
            "ok_answers": ok_total,
            "lifetime_counted": lifetime,
            "per_print_sum": per_print,
            "history_rows": history,
        },
        "counters_exact": ok_total == lifetime == per_print == history,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
