"""Choose the verdict's constants on validation sequences: replay recorded detections through ``detection.judge``.

``manage.py evaluate_alerts`` is the yardstick, but it runs the whole service for every setting.
Here each distinct frame is scored once (the service's ``decode_image`` and ``Detector``, keeping
every detection down to ``platt.FLOOR_CONFIDENCE``), and the sequences are replayed on the same
printer histories (``detection.replay``) through the same pure code the service runs
(``detection.judge``), for every setting of a grid, in seconds. An alert is a rise of the verdict,
as ``prints.services.alerts.print_escalate`` records it. A calibration ``(a, b)`` can be tried too: each
confidence becomes ``sigmoid(a * logit + b)`` and the service's threshold is applied after it,
which is what ``platt.recalibrate`` writes into the graph.

    python -m training.tune_verdict --model M.onnx p1=/work/seqs/p1-validation \\
        --history p1=PRINTS ... --grid ADAPTIVE_WARNING=0.2,0.3,0.4 --grid ADAPTIVE_SPAN=4,6,8

prints one line per setting, best first: the clean prints falsely alerted (all histories), then the
share of failing sequences alerted within 30 snapshots and their median delay.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
from dataclasses import fields
from pathlib import Path

import numpy as np

from detection import judge
from detection.adaptation import AdaptationRule
from detection.defaults import DEFAULTS
from detection.image import decode_image
from detection.postprocess import Detection, failure_score
from detection.replay import HISTORIES, Outcome, Sequence, history_prints, read_sequences, summarise
from detection.runner import Detector
from detection.verdict import SEVERITY, AdaptiveRule, ObicoRule
from training.platt import FLOOR_CONFIDENCE, logit

Scored = tuple[list[Detection], int, int]  # detections down to the floor, the frame's width and height


def score_frames(model: Path, frames: set[Path], cache: Path | None = None, threads: int = 2) -> dict[Path, Scored]:
    """Every frame's detections at the floor confidence, decoded and detected as the service does.

    With ``cache``, frames scored by an earlier run of the same model are read from it (a pickle of
    the model's size and time and each frame's detections) and new ones added.
    """
    stamp = (model.resolve(), model.stat().st_size, model.stat().st_mtime)
    scored: dict[Path, Scored] = {}
    if cache is not None and cache.exists():
        saved = pickle.loads(cache.read_bytes())  # noqa: S301 - our own file
        if saved["model"] == stamp:
            scored = saved["frames"]
    missing = sorted(frames - scored.keys())
    if missing:
        detector = Detector(model, threads=threads, conf_threshold=FLOOR_CONFIDENCE)
        for frame in missing:
            image = decode_image(frame.read_bytes(), target_size=detector.input_size)
            scored[frame] = (detector.detect(image), image.width, image.height)
        if cache is not None:
            cache.write_bytes(pickle.dumps({"model": stamp, "frames": scored}))
    return scored


def as_served(detections: list[Detection], calibration: tuple[float, float] | None) -> list[Detection]:
    """The detections the service would return with the calibration written into the graph."""
    if calibration is not None:
        a, b = calibration
        detections = [
            d._replace(confidence=float(1 / (1 + np.exp(-(a * logit(d.confidence) + b))))) for d in detections
        ]
    return [d for d in detections if d.confidence > DEFAULTS["CONF_THRESHOLD"]]


class PureReplayer:
    """Replays sequences on printer histories through ``detection.judge`` with one set of rules."""

    def __init__(
        self,
        scored: dict[Path, Scored],
        rules: judge.Rules,
        calibration,
        min_snapshots: int,
        sensitivity: float = 1.0,
    ) -> None:
        self.scored = scored
        self.rules = rules
        self.sensitivity = sensitivity
        self.calibration = calibration
        self.min_snapshots = min_snapshots
        self._histories: dict[tuple, judge.PrinterState] = {}
        self._served: dict[Path, list[Detection]] = {}

    def run_print(self, state: judge.PrinterState, frames: list[Path]) -> tuple[judge.PrinterState, list]:
        state = judge.print_started(state)
        alerts = []
        for index, frame in enumerate(frames):
            if frame not in self._served:
                self._served[frame] = as_served(self.scored[frame][0], self.calibration)
            detections = self._served[frame]
            _, width, height = self.scored[frame]
            previous = state.last_verdict
            judgement = judge.judge_snapshot(
                state,
                p=failure_score(detections),
                detections=detections,
                width=width,
                height=height,
                sensitivity=self.sensitivity,
                rules=self.rules,
            )
            state = judgement.state
            if SEVERITY[judgement.verdict] > SEVERITY.get(previous, 0):
                alerts.append((index, str(judgement.verdict)))
        return state, alerts

    def replay(self, sequence: Sequence, history: str, clean: list[Sequence]) -> Outcome:
        prints = history_prints(history, sequence, clean, self.min_snapshots)
        key = (sequence.camera, history, tuple(tuple(frames) for frames in prints))
        if key not in self._histories:
            state = judge.PrinterState()
            for frames in prints:
                state, _ = self.run_print(state, frames)
            self._histories[key] = state
        frames = sequence.snapshots(self.min_snapshots)
        _, alerts = self.run_print(self._histories[key], frames)
        return Outcome.of(sequence, history=history, snapshots=len(frames), alerts=alerts)


def rules_with(overrides: dict) -> judge.Rules:
    """The default rules with ``overrides`` (settings keys such as ``ADAPTIVE_WARNING``, or ``VERDICT_RULE``)."""

    def built(rule_class, prefix):
        values = {
            f.name: overrides.get(f"{prefix}{f.name.upper()}", getattr(rule_class(), f.name))
            for f in fields(rule_class)
        }
        return rule_class(**values)

    return judge.Rules(
        name=overrides.get("VERDICT_RULE", DEFAULTS["VERDICT_RULE"]),
        adaptive=built(AdaptiveRule, "ADAPTIVE_"),
        obico=built(ObicoRule, "VERDICT_"),
        adaptation=built(AdaptationRule, "ADAPTATION_"),
    )


def headline(summary: dict) -> dict:
    """The numbers a setting is chosen on, over every camera and history of the summary."""
    overall = [value for key, value in summary.items() if key.endswith("/all")]
    clean_alerted = sum(s["clean_prints_falsely_alerted"] for s in overall)
    failing = sum(s.get("failing", 0) for s in overall)
    within = sum(s.get("alerted_within_30", 0) for s in overall)
    early = sum(s.get("false_alert_before_onset", 0) for s in overall)
    medians = [s["median_delay"] for s in overall if s.get("median_delay") is not None]
    return {
        "clean_prints_falsely_alerted": clean_alerted,
        "false_alert_before_onset": early,
        "share_within_30": round(within / failing, 4) if failing else None,
        "median_delay": max(medians) if medians else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("sequences", nargs="+", help="CAMERA=FOLDER of sequence folders")
    parser.add_argument("--history", action="append", default=[], help="CAMERA=FOLDER of that camera's clean prints")
    parser.add_argument("--histories", default=",".join(HISTORIES))
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a setting's values to try (SENSITIVITY: the printer's sensitivity)",
    )
    parser.add_argument("--calibration", action="append", default=[], metavar="A,B", help="a calibration to try")
    parser.add_argument("--min-snapshots", type=int, default=200)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--cache", type=Path, help="keep the model's detections of each frame here between runs")
    args = parser.parse_args(argv)

    def labelled(value: str) -> tuple[str, Path]:
        label, _, path = value.rpartition("=")
        return label or Path(path).name, Path(path)

    cameras = [labelled(v) for v in args.sequences]
    clean_by_camera = {label: read_sequences(path, label) for label, path in map(labelled, args.history)}
    sequences = [s for label, path in cameras for s in read_sequences(path, label)]
    frames = {f for s in sequences for f in s.frames} | {
        f for c in clean_by_camera.values() for s in c for f in s.frames
    }
    scored = score_frames(args.model, frames, args.cache)
    histories = [h for h in args.histories.split(",") if h]
    grid = {}
    for item in args.grid:
        key, _, values = item.partition("=")
        grid[key] = [json.loads(v) for v in values.split(",")]
    calibrations = [None] + [tuple(float(v) for v in c.split(",")) for c in args.calibration]
    results = []
    for calibration in calibrations:
        for combination in itertools.product(*grid.values()):
            overrides = dict(zip(grid, combination, strict=True))
            sensitivity = overrides.get("SENSITIVITY", 1.0)  # the printer's, not a detection setting
            replayer = PureReplayer(scored, rules_with(overrides), calibration, args.min_snapshots, sensitivity)
            outcomes = [
                replayer.replay(s, h, clean_by_camera.get(s.camera, []))
                for s in sequences
                for h in histories
                if h == "new" or clean_by_camera.get(s.camera)
            ]
            results.append({"calibration": calibration, **overrides, **headline(summarise(outcomes))})

    def rank(result):
        return (
            result["clean_prints_falsely_alerted"] + result["false_alert_before_onset"],
            -(result["share_within_30"] or 0),
            result["median_delay"] or 1e9,
        )

    for result in sorted(results, key=rank)[: args.top]:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
