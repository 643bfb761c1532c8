"""Quantise the exported detector to int8 with onnxruntime: a cheaper model for small CPUs.

    python -m training.quantize --model models/spaghetti-effnetlite0.onnx \\
        --out models/spaghetti-effnetlite0-int8.onnx

Static quantisation in QDQ form: weights int8 per output channel, activations uint8 with ranges
measured (min/max) on a seeded sample of training images, never a held-out one: spaghetti/train
photos and the training negatives of ``dataset.py``. Each calibration image goes through the
service's own ``decode_image`` and ``Detector.preprocess``, as a snapshot would. Only the network's
layers are quantised; the export wrapper's normalisation and its output side (box decoding, sigmoid
and the local-maximum mask, whose exact comparisons quantised values would change) stay float.
Deterministic: the same inputs give the same file. Needs onnx (training requirements), not torch.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quant_pre_process, quantize_static

from detection.image import decode_image
from detection.runner import Detector
from training import dataset

NETWORK_NODE_PREFIX = "/net/"  # ExportWrapper names its SpaghettiNet "net"


class SnapshotReader(CalibrationDataReader):
    """Feeds the calibration images to onnxruntime as the service would prepare them."""

    def __init__(self, detector: Detector, input_name: str, images: list[Path]) -> None:
        self.detector = detector
        self.input_name = input_name
        self.images = iter(images)

    def get_next(self) -> dict | None:
        path = next(self.images, None)
        if path is None:
            return None
        image = decode_image(path.read_bytes(), target_size=self.detector.input_size)
        return {self.input_name: self.detector.preprocess(image)}


def calibration_images(root: Path, photos: int, seed: int) -> list[Path]:
    """``photos`` spaghetti training photos drawn with ``seed``, then every training negative."""
    spaghetti = [image for image, _ in dataset.spaghetti_split(root, "train")]
    random.Random(seed).shuffle(spaghetti)
    return spaghetti[:photos] + dataset.training_negatives(root)


def quantize(model: Path, out: Path, images: list[Path]) -> None:
    detector = Detector(model, threads=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        # Folds and fuses what can be fused first, so each convolution is quantised once.
        quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
        graph = onnx.load(str(prepared)).graph
        float_nodes = [node.name for node in graph.node if not node.name.startswith(NETWORK_NODE_PREFIX)]
        quantize_static(
            str(prepared),
            str(out),
            SnapshotReader(detector, graph.input[0].name, images),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=float_nodes,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="the exported float ONNX model")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, default=dataset.DEFAULT_DATA_ROOT)
    parser.add_argument("--photos", type=int, default=200, help="spaghetti training photos to calibrate on")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    images = calibration_images(args.data_root, args.photos, args.seed)
    print(f"calibrating on {len(images)} training images")
    quantize(args.model, args.out, images)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
