"""What the per-printer step of the adaptive verdict (issue 22) adds to a predict, against the floor.

    .venv/bin/python bench/adaptation.py [--rounds 2000] [--model models/spaghetti-effnetlite0.onnx]

The step is the printer's memory read from its JSON column, the discount of each detection, the
adaptive verdict, learning, and the memory written back (``detection.judge.judge_snapshot`` and
``PrinterMemory.as_json``/``from_json``), where Obico's rule needs only the spec's statistics.

- **pure**: ``judge_snapshot`` with the memory (its JSON round trip included) against the same
  snapshot judged by Obico's rule with no memory, back to back; for a memory of realistic size (a
  printer that ran nine clean prints of ``webcam-clean-p2``, 200 snapshots each, through ``--model``)
  and for the largest one possible (every one of the 400 cells);
- **in process**: ``detection.services.prediction_record`` on PostgreSQL (``BENCH_DATABASE_URL``)
  for a printer with the largest memory against one with none: the JSON column read, parsed,
  written and sent to the database.

The floor (decode + resize + inference of a 1280x720 webcam JPEG, one onnxruntime thread, as each
gunicorn thread runs it) is measured in the same run and each cost is given as a share of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DATASETS,
    django_setup,
    make_printing_owner,
    median_ms,
    prepare_database,
    spaghetti_jpegs,
    webcam_jpeg,
)
from bench.inference import predict_floor
from detection import judge
from detection.adaptation import GRID, PrinterMemory
from detection.image import decode_image
from detection.postprocess import failure_score
from detection.runner import Detector

PROJECT = Path(__file__).resolve().parent.parent


def seasoned_memory(detector: Detector) -> PrinterMemory:
    """The memory of a printer that ran nine clean prints of the second webcam, each frame 20 snapshots."""
    prints = sorted(p for p in (DATASETS / "webcam-clean-p2" / "images").iterdir() if p.is_dir())[1:]
    state = judge.PrinterState()
    for folder in prints:
        state = judge.print_started(state)
        for frame in sorted(folder.glob("*.jpg")):
            image = decode_image(frame.read_bytes(), target_size=detector.input_size)
            detections = detector.detect(image)
            for _ in range(20):
                state = judge.judge_snapshot(
                    state,
                    p=failure_score(detections),
                    detections=detections,
                    width=image.width,
                    height=image.height,
                    sensitivity=1.0,
                    rules=judge.Rules(),
                ).state
    return state.memory


def largest_memory() -> PrinterMemory:
    return PrinterMemory(static={cell: 0.2 + cell / 4000 for cell in range(GRID * GRID)}, baseline=0.05, learned=10**6)


def pure_step_ms(memory: PrinterMemory, detections, size, rounds: int) -> dict:
    """The adaptive step with the JSON round trip, and Obico's rule alone, each the median of ``rounds``."""
    stored = json.dumps(memory.as_json())
    stats = judge.PrinterState().stats
    p = failure_score(detections)

    def adaptive():
        state = judge.PrinterState(stats=stats, memory=PrinterMemory.from_json(json.loads(stored)))
        judgement = judge.judge_snapshot(
            state, p=p, detections=detections, width=size[0], height=size[1], sensitivity=1.0, rules=judge.Rules()
        )
        json.dumps(judgement.state.memory.as_json())

    def obico():
        judge.judge_snapshot(
            judge.PrinterState(stats=stats),
            p=p,
            detections=detections,
            width=size[0],
            height=size[1],
            sensitivity=1.0,
            rules=judge.Rules(name="obico"),
        )

    for _ in range(50):
        adaptive(), obico()
    with_memory, without = median_ms(adaptive, rounds), median_ms(obico, rounds)
    return {
        "cells": len(memory.static),
        "json_bytes": len(stored),
        "adaptive_step_ms": round(with_memory, 4),
        "obico_rule_ms": round(without, 4),
        "added_ms": round(with_memory - without, 4),
    }


def in_process_ms(detections, size, rounds: int) -> dict:
    """prediction_record on PostgreSQL with the largest memory against none, interleaved."""
    prepare_database()
    django_setup()
    from django.db import transaction

    from detection.models import PrinterStats
    from detection.services import Score, prediction_record

    _, printer_ids, _ = make_printing_owner(2, prefix="adaptation")
    full, empty = (PrinterStats.objects.get(printer_id=pk) for pk in printer_ids)
    score = Score(p=failure_score(detections), detections=detections, width=size[0], height=size[1])
    stored = largest_memory().as_json()
    timings = {"largest": [], "none": []}
    for _ in range(rounds):
        for label, stats in (("largest", full), ("none", empty)):
            PrinterStats.objects.filter(pk=stats.pk).update(memory=stored if label == "largest" else {})
            started = time.perf_counter()
            with transaction.atomic():
                row = PrinterStats.objects.select_for_update().get(pk=stats.pk)
                prediction_record(stats=row, print_id=row.printer.current_print_id, score=score, sensitivity=1.0)
            timings[label].append((time.perf_counter() - started) * 1000)
    largest, none = (statistics.median(timings[k]) for k in ("largest", "none"))
    return {
        "prediction_record_largest_memory_ms": round(largest, 3),
        "prediction_record_no_memory_ms": round(none, 3),
        "added_ms": round(largest - none, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--model", type=Path, default=PROJECT / "models" / "spaghetti-effnetlite0.onnx")
    args = parser.parse_args()
    detector = Detector(args.model, threads=1)
    jpeg = webcam_jpeg()
    # The step's cost grows with the detections: judge a failure photo's, not a clean frame's (often none).
    failing = max(
        (decode_image(photo, target_size=detector.input_size) for photo in spaghetti_jpegs()),
        key=lambda image: len(detector.detect(image)),
    )
    detections = detector.detect(failing)
    size = (failing.width, failing.height)
    for _ in range(10):
        predict_floor(detector, jpeg)
    floor = median_ms(lambda: predict_floor(detector, jpeg), 100)
    realistic = pure_step_ms(seasoned_memory(detector), detections, size, args.rounds)
    largest = pure_step_ms(largest_memory(), detections, size, args.rounds)
    in_process = in_process_ms(detections, size, max(100, args.rounds // 10))
    floor_again = median_ms(lambda: predict_floor(detector, jpeg), 100)
    floor_ms = statistics.mean([floor, floor_again])
    report = {
        "model": str(args.model),
        "detections_in_the_frame": len(detections),
        "floor_ms": round(floor_ms, 2),
        "pure_realistic_memory": realistic,
        "pure_largest_memory": largest,
        "in_process_postgresql": in_process,
        "added_share_of_floor": {
            "pure_realistic": round(realistic["added_ms"] / floor_ms, 4),
            "pure_largest": round(largest["added_ms"] / floor_ms, 4),
            "in_process_largest": round(in_process["added_ms"] / floor_ms, 4),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
