"""Train several recipe variants side by side (one GPU, or CPU), export each, and collect their histories.

    python -m training.ablation --out /tmp/ablation --device cuda --workers 3 \\
        --data-root .devdata/datasets --deadline-s 400

Each variant is ``train.py`` on the v3 recipe with settings of its own, the same seed and epochs, in
its own process; all run at once (the GPU is barely used by one: augmentation on the CPU is the bottleneck). At the
deadline any training still running is stopped; its ``last.pt`` (the last finished epoch) is
exported all the same and the epochs it reached are recorded. Each is then exported with
calibration (``export.py``) to ``OUT/<variant>.onnx``; ``OUT/ablation.json`` holds every variant's
per-epoch history, wall times and flags, and ``OUT/logs.txt`` the end of every log.

This is how the issue-15 ablation ran on the GPU machine (``docs/experiments/detectors-run3-to-v2.md``);
evaluate the ONNX files afterwards with ``evaluate.py``, on CPU, through the service's runner.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from training import dataset

# Every setting that differs is spelled out, so each variant stays the run it was when the v3 recipe moves on.
ONE_PHASE = ["final_epochs=0"]
VARIANTS = {
    "baseline": ["merge_labels=false", "roboflow=false", "composites=0", *ONE_PHASE],
    "merged": ["merge_labels=true", "roboflow=false", "composites=0", *ONE_PHASE],
    "merged_roboflow": ["merge_labels=true", "roboflow=true", "composites=0", *ONE_PHASE],
    "merged_roboflow_composites": ["merge_labels=true", "roboflow=true", "composites={composites}", *ONE_PHASE],
    # A third as many composites: does a smaller dose keep the held-out webcam frames quiet?
    "merged_roboflow_composites100": ["merge_labels=true", "roboflow=true", "composites=100", *ONE_PHASE],
    # The v3 recipe as it stands (issue 15 ran train.py's defaults of its day here, the recipe v2 shipped with).
    "v2": [],
}


def launch(args: list[str], log: Path) -> subprocess.Popen:
    """Start ``python -m <args>`` in its own process group with its output in ``log``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    handle = log.open("w")
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", *args], stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def wait_all(processes: dict[str, subprocess.Popen], deadline: float) -> dict[str, str]:
    """Wait for every process until ``deadline`` (monotonic); stop the rest. Returns each one's end state."""
    states = {}
    while len(states) < len(processes):
        for name, process in processes.items():
            if name not in states and process.poll() is not None:
                states[name] = f"exit {process.returncode}"
        if time.monotonic() > deadline:
            for name, process in processes.items():
                if name not in states:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=30)
                    states[name] = "stopped at the deadline"
        time.sleep(1)
    return states


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="ONNX files, ablation.json and logs.txt go here")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "ablation-runs", help="checkpoints and full logs"
    )
    parser.add_argument("--data-root", type=Path, default=dataset.DEFAULT_DATA_ROOT)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names of VARIANTS")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="the same seed for every variant")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, default=3, help="augmentation processes per variant")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per variant")
    parser.add_argument("--deadline-s", type=float, default=400, help="stop training this long after the start")
    parser.add_argument("--export-timeout-s", type=float, default=150)
    parser.add_argument("--composites", type=int, default=300, help="composites per epoch, where a variant has them")
    parser.add_argument("--extra", default="", help="more key=value settings for every variant, e.g. epochs=1")
    args = parser.parse_args(argv)

    started = time.monotonic()
    names = [name for name in args.variants.split(",") if name]
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    common = [f"data_root={args.data_root}", f"epochs={args.epochs}", f"device={args.device}", f"seed={args.seed}"]
    common += [f"workers={args.workers}", f"threads={args.threads}", *args.extra.split()]
    trainings = {
        name: launch(
            [
                "training.train",
                "--recipe",
                "v3",
                "--out",
                str(args.work / name),
                *common,
                *(flag.format(composites=args.composites) for flag in VARIANTS[name]),
            ],
            args.work / f"{name}.train.log",
        )
        for name in names
    }
    train_states = wait_all(trainings, started + args.deadline_s)
    train_done = time.monotonic()
    exports = {
        name: launch(
            [
                "training.export",
                "--checkpoint",
                str(args.work / name / "last.pt"),
                "--out",
                str(args.out / f"{name}.onnx"),
                "--data-root",
                str(args.data_root),
                "--device",
                args.device,
            ],
            args.work / f"{name}.export.log",
        )
        for name in names
        if (args.work / name / "last.pt").exists()
    }
    export_states = wait_all(exports, time.monotonic() + args.export_timeout_s)

    report = {"device": args.device, "epochs": args.epochs, "seed": args.seed, "workers": args.workers, "variants": {}}
    logs = []
    for name in names:
        flags = [flag.format(composites=args.composites) for flag in VARIANTS[name]]
        entry = {"flags": flags, "train": train_states[name], "export": export_states.get(name, "no checkpoint")}
        checkpoint_path = args.work / name / "last.pt"
        if checkpoint_path.exists():
            checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
            entry["epochs_done"] = checkpoint["epoch"] + 1
            entry["history"] = checkpoint["history"]
        report["variants"][name] = entry
        for kind in ("train", "export"):
            log = args.work / f"{name}.{kind}.log"
            if log.exists():
                lines = log.read_text(errors="replace").splitlines()
                logs.append(f"==== {name} {kind} ({len(lines)} lines)\n" + "\n".join([*lines[:3], "...", *lines[-25:]]))
    report["wall_s"] = {"train": round(train_done - started), "total": round(time.monotonic() - started)}
    (args.out / "ablation.json").write_text(json.dumps(report, indent=1))
    (args.out / "logs.txt").write_text("\n".join(logs))
    print(json.dumps({name: {k: v for k, v in e.items() if k != "history"} for name, e in report["variants"].items()}))
    print(json.dumps(report["wall_s"]))


if __name__ == "__main__":
    main()
