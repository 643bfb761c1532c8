"""Platt scaling of the heatmap confidences, fitted on the training images after training.

The raw heatmap is trained to peak at 1 on box centres, not to be a probability: on the val
photos most peaks above the service's 0.08 were wrong, and the service's image score sums every
confidence above 0.08, so clean prints would score p = 1. Platt scaling fits
``P(detection is right) = sigmoid(a * logit + b)`` on the detections of the training images
(spaghetti photos without augmentation plus the training negatives), where "right" is the
evaluator's own rule: IoU >= 0.5 with an unclaimed spaghetti box. It is monotone, so AP does not
change; it only moves what the 0.08 threshold and the score p see.

Fitting on the training images rather than val keeps val and the held-out negatives untouched;
the cost is some optimism, as the model knows its training images better.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training import dataset
from training.metrics import average_precision, match_detections
from training.model import SpaghettiNet
from training.platt import fit_platt
from training.trainer import predict


def calibrate(net: SpaghettiNet, input_size: tuple[int, int], data_root: Path) -> tuple[float, float]:
    """Fit (a, b) on the training images, decoded at the model input as the service decodes them."""
    samples = [dataset.load_sample(img, lbl, input_size) for img, lbl in dataset.spaghetti_split(data_root, "train")]
    samples += [dataset.load_sample(img, None, input_size) for img in dataset.training_negatives(data_root)]
    logits, labels, confs = [], [], []
    for sample, (pred, conf) in zip(samples, predict(net, samples, input_size), strict=True):
        confs.append(conf)
        conf = np.clip(conf, 1e-6, 1 - 1e-6)
        logits.append(np.log(conf / (1 - conf)))
        labels.append(match_detections(pred, conf, sample.boxes).astype(np.float64))
    logits, labels = np.concatenate(logits), np.concatenate(labels)
    scale, shift = fit_platt(logits, labels)
    # The training AP, next to val's, shows how much the model fits its own images better.
    train_ap = average_precision(np.concatenate(confs), labels.astype(bool), sum(len(s.boxes) for s in samples))
    right = int(labels.sum())
    print(f"Platt scaling on {len(samples)} training images, {len(labels)} detections ({right} right): ", end="")
    print(f"a = {scale:.3f}, b = {shift:.3f}; training-set AP50 {train_ap:.3f}")
    return scale, shift
