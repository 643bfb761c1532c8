"""Evaluate an ONNX detector exactly as the service runs it: ``decode_image`` + ``runner.Detector``.

    python -m training.evaluate --model models/spaghetti-effnetlite0.onnx \\
        --positives /work/shared/datasets/spaghetti/val \\
        --negatives /work/shared/datasets/clean-prints/images \\
        --negatives /work/shared/datasets/webcam-clean/images

Prints one JSON object:

- ``positives``: spaghetti AP50 (detector at conf 0.001, IoU 0.5, boxes in pixels of the upload,
  class 1 only), AP at IoU 0.3 as a diagnostic, both also against whole-region labels
  (``*_merged_labels``: overlapping and touching boxes joined, ``labels.merge_touching_boxes``),
  precision/recall of the detections the service keeps (conf > 0.08), and why each of its wrong
  boxes is wrong (``metrics.wrong_box_kinds``).
- ``negatives``: for each ``--negatives`` folder (searched recursively; name it with
  ``LABEL=PATH``) and for all of them together: image-level AUROC of the score p between the
  positive images (those with at least one spaghetti box) and the negatives, the recall at the
  lowest p threshold with at most 5 % false alarms, and the false-alarm rate at p >= 0.5.
- ``timing_ms``: medians of the ONNX session run alone, of ``Detector.detect`` and of decode + detect.

Clean images that training used (``dataset.training_negatives``) are left out of the negatives
unless ``--include-training-negatives`` is given, so the numbers are on held-out images only.
``--roi x1,y1,x2,y2`` scores every image through that region of interest, as predict does for a
printer with a ``roi`` (``detection.region``: decoded larger, cut to the region, detections mapped
back to the image's pixels), so a crop to the bed can be compared with the whole frame.
Needs no torch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from detection.defaults import DEFAULTS
from detection.image import decode_image
from detection.postprocess import Detection, failure_score
from detection.region import InvalidRegion, Region, crop_to_region, decode_size, detect_in_region, parse_region
from detection.runner import Detector
from training import dataset, metrics
from training.labels import merge_tolerance, merge_touching_boxes

SERVICE_CONF_THRESHOLD = DEFAULTS["CONF_THRESHOLD"]  # the service's default (detection/defaults.py)
AP_CONF_THRESHOLD = 0.001
MAX_FALSE_ALARM_RATE = 0.05
ALARM_P = 0.5


class Evaluator:
    """Runs images through two detectors made from one file: one at the AP threshold, one as the service."""

    def __init__(self, model: Path, threads: int, roi: Region | None = None) -> None:
        self.ap_detector = Detector(model, threads=threads, conf_threshold=AP_CONF_THRESHOLD)
        self.service_detector = Detector(model, threads=threads, conf_threshold=SERVICE_CONF_THRESHOLD)
        self.roi = roi
        self.timings: dict[str, list[float]] = {"infer": [], "detect": [], "decode_detect": []}

    def run(self, path: Path) -> tuple[int, int, list[Detection], list[Detection]]:
        """(width, height, detections at the AP threshold, detections the service keeps) of one image.

        Decoded and scored as ``detection.services.snapshot_score`` does, through ``roi`` if one is set.
        """
        data = path.read_bytes()
        detector = self.service_detector
        target_size = detector.input_size if self.roi is None else decode_size(self.roi, detector.input_size)
        started = time.perf_counter()
        image = decode_image(data, target_size=target_size)
        decoded = time.perf_counter()
        service_detections = self.detect(detector, image)
        done = time.perf_counter()
        tensor = detector.preprocess(image if self.roi is None else crop_to_region(image, self.roi)[0])
        infer_started = time.perf_counter()
        detector.infer(tensor)
        self.timings["infer"].append(time.perf_counter() - infer_started)
        self.timings["detect"].append(done - decoded)
        self.timings["decode_detect"].append(done - started)
        return image.width, image.height, self.detect(self.ap_detector, image), service_detections

    def detect(self, detector: Detector, image) -> list[Detection]:
        """The detector's detections in pixels of the image, through the region of interest if one is set."""
        if self.roi is None:
            return detector.detect(image)
        return detect_in_region(detector.detect, image, self.roi)


def evaluate_positives(evaluator: Evaluator, folder: Path, records: list[dict]) -> tuple[dict, list[float]]:
    """Box metrics over ``folder/images`` + ``folder/labels``; also the p of each image with spaghetti."""
    scores, tps, tps_at_iou30, service_tps, num_gt, image_p = [], [], [], [], 0, []
    merged_tps, merged_tps_at_iou30, num_merged_gt = [], [], 0
    wrong_boxes = dict.fromkeys(metrics.WRONG_BOX_KINDS, 0)
    pairs = [(image, folder / "labels" / f"{image.stem}.txt") for image in dataset.list_images(folder / "images")]
    for image_path, label_path in pairs:
        width, height, detections, service_detections = evaluator.run(image_path)
        gt = dataset.read_yolo_boxes(label_path, width, height)
        merged_gt = merge_touching_boxes(gt, merge_tolerance(width, height))
        confs = np.array([d.confidence for d in detections])
        boxes = metrics.detections_to_xyxy(detections)
        tp = metrics.match_detections(boxes, confs, gt)
        service_confs = np.array([d.confidence for d in service_detections])
        service_boxes = metrics.detections_to_xyxy(service_detections)
        service_tp = metrics.match_detections(service_boxes, service_confs, gt)
        for kind, count in metrics.wrong_box_kinds(service_boxes, service_confs, gt).items():
            wrong_boxes[kind] += count
        scores.extend(confs)
        tps.extend(tp)
        tps_at_iou30.extend(metrics.match_detections(boxes, confs, gt, iou_threshold=0.3))
        merged_tps.extend(metrics.match_detections(boxes, confs, merged_gt))
        merged_tps_at_iou30.extend(metrics.match_detections(boxes, confs, merged_gt, iou_threshold=0.3))
        num_merged_gt += len(merged_gt)
        service_tps.extend(service_tp)
        num_gt += len(gt)
        p = failure_score(service_detections)
        if len(gt):
            image_p.append(p)
        records.append(
            {
                "path": str(image_path),
                "group": "positives",
                "p": p,
                "gt_boxes": len(gt),
                "found_boxes": int(service_tp.sum()),
                "false_boxes": int((~service_tp).sum()),
            }
        )
    precision, recall = metrics.precision_recall(service_tps, num_gt)
    result = {
        "folder": str(folder),
        "images": len(pairs),
        "images_with_spaghetti": len(image_p),
        "spaghetti_boxes": num_gt,
        "ap50": round(metrics.average_precision(scores, tps, num_gt), 4),
        # Diagnostic: how much of the AP50 gap is where boxes are drawn rather than what is found.
        "ap30": round(metrics.average_precision(scores, tps_at_iou30, num_gt), 4),
        # The same detections against whole-region labels (issue 15): what AP50 would be if the labels
        # drew one box per failed region.
        "spaghetti_boxes_merged": num_merged_gt,
        "ap50_merged_labels": round(metrics.average_precision(scores, merged_tps, num_merged_gt), 4),
        "ap30_merged_labels": round(metrics.average_precision(scores, merged_tps_at_iou30, num_merged_gt), 4),
        "precision@0.08": round(precision, 4),
        "recall@0.08": round(recall, 4),
        "detections@0.08": len(service_tps),
        "wrong_boxes@0.08": wrong_boxes,
        "median_p": round(float(np.median(image_p)), 4) if image_p else None,
    }
    return result, image_p


def image_level(positive_p: list[float], negative_p: list[float]) -> dict:
    """The image-score metrics of one negatives group against the positives."""
    point = metrics.recall_at_false_alarm_rate(positive_p, negative_p, MAX_FALSE_ALARM_RATE)
    return {
        "images": len(negative_p),
        "auroc": round(metrics.auroc(positive_p, negative_p), 4),
        "recall@fa<=5%": round(point.recall, 4),
        # null when no threshold keeps false alarms within 5 % (too many negatives at p = 1).
        "p_threshold@fa<=5%": round(point.threshold, 4) if np.isfinite(point.threshold) else None,
        "fa_at_that_threshold": round(point.false_alarm_rate, 4),
        "false_alarm_rate@p>=0.5": round(metrics.false_alarm_rate(negative_p, ALARM_P), 4),
        "any_detection_rate@0.08": round(metrics.false_alarm_rate(negative_p, 1e-9), 4),
    }


def parse_negatives(values: list[str]) -> dict[str, Path]:
    """``LABEL=PATH`` or ``PATH`` (labelled by its folder, or its parent's when the folder is ``images``)."""
    groups = {}
    for value in values:
        label, _, path_text = value.rpartition("=")
        path = Path(path_text)
        if not label:
            label = path.parent.name if path.name == "images" else path.name
        groups[label] = path
    return groups


def parse_roi(value: str) -> Region:
    """``x1,y1,x2,y2`` as fractions of the frame, held to the API's rules (``region.parse_region``)."""
    parts = value.split(",")
    try:
        numbers = [float(part) for part in parts]
        if len(numbers) != 4:
            raise ValueError
        region = parse_region(dict(zip(("x1", "y1", "x2", "y2"), numbers, strict=True)))
    except InvalidRegion as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        raise argparse.ArgumentTypeError("expected four numbers: x1,y1,x2,y2") from None
    return region


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--positives", type=Path, required=True, help="folder with images/ and YOLO labels/")
    parser.add_argument("--negatives", action="append", default=[], help="[LABEL=]FOLDER of clean images; repeatable")
    parser.add_argument(
        "--data-root", type=Path, default=dataset.DEFAULT_DATA_ROOT, help="to find the training negatives to leave out"
    )
    parser.add_argument("--include-training-negatives", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--per-image", type=Path, help="also write every image's p and box counts to this JSON file")
    parser.add_argument(
        "--roi", type=parse_roi, help="x1,y1,x2,y2: score every image through this region of interest (fractions)"
    )
    args = parser.parse_args(argv)

    evaluator = Evaluator(args.model, args.threads, roi=args.roi)
    records: list[dict] = []
    positives, positive_p = evaluate_positives(evaluator, args.positives, records)

    excluded = (
        set() if args.include_training_negatives else {p.resolve() for p in dataset.training_negatives(args.data_root)}
    )
    negatives, all_negative_p = {}, []
    for label, folder in parse_negatives(args.negatives).items():
        images = dataset.list_images(folder)
        kept = [p for p in images if p.resolve() not in excluded]
        negative_p = []
        for path in kept:
            service_detections = evaluator.run(path)[3]
            p = failure_score(service_detections)
            negative_p.append(p)
            records.append({"path": str(path), "group": label, "p": p, "false_boxes": len(service_detections)})
        negatives[label] = {
            "folder": str(folder),
            "left_out_training_images": len(images) - len(kept),
            **image_level(positive_p, negative_p),
        }
        all_negative_p += negative_p
    if len(negatives) > 1:
        negatives["all"] = image_level(positive_p, all_negative_p)

    report = {
        "model": str(args.model),
        "file_mb": round(args.model.stat().st_size / 1e6, 2),
        "input_size_wh": list(evaluator.service_detector.input_size),
        "threads": args.threads,
        "roi": None if args.roi is None else args.roi.as_dict(),
        "positives": positives,
        "negatives": negatives,
        "timing_ms": {name: round(1000 * float(np.median(values)), 2) for name, values in evaluator.timings.items()},
    }
    print(json.dumps(report, indent=2))
    if args.per_image:
        args.per_image.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
