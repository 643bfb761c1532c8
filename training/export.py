"""Export a training checkpoint to the ONNX file the service loads, and check it.

    python -m training.export --checkpoint .train/v3/last.pt --out models/spaghetti-effnetlite0.onnx \
        --calibration-sequences /work/seqs/p1-validation /work/seqs/p2-validation

The confidences are Platt-scaled: with ``--calibration-sequences``, on the frames of validation
sequences, as the verdict reads them (``platt.py``, issue 22); otherwise on the training images
(``calibrate.py``, how run 8 and v2 were calibrated). The graph takes ``input`` float32
``[1, 3, H, W]`` RGB in [0, 1] and returns ``boxes`` ``[1, N, 1, 4]`` and ``confs`` ``[1, N, 1]``
(see ``model.ExportWrapper``). After writing, the file is validated with the ONNX checker and run
with onnxruntime against the PyTorch outputs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from training import dataset, platt
from training.calibrate import calibrate
from training.model import ExportWrapper, SpaghettiNet

OPSET = 17


def export(checkpoint_path: Path, out: Path, data_root: Path | None, device: str = "cpu") -> None:
    """Write ``out`` from the checkpoint; Platt-scale with the training images under ``data_root`` unless None.

    ``device`` only runs the calibration's predictions; the graph is traced and checked on the CPU.
    """
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    width, height = checkpoint["input_size"]
    net = SpaghettiNet(pretrained=False)
    net.load_state_dict(checkpoint["model"])
    if data_root is not None:
        scale, shift = calibrate(net.to(device), (width, height), data_root)
        net.to("cpu")
    else:
        scale, shift = 1.0, 0.0
    wrapper = ExportWrapper(net, (width, height), conf_scale=scale, conf_shift=shift).eval()
    example = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    out.parent.mkdir(parents=True, exist_ok=True)
    # The TorchScript exporter gives a plain static graph without needing onnxscript.
    torch.onnx.export(
        wrapper,
        (example,),
        str(out),
        input_names=["input"],
        output_names=["boxes", "confs"],
        opset_version=OPSET,
        dynamo=False,
    )
    model = onnx.load(str(out))
    onnx.checker.check_model(model)

    with torch.no_grad():
        expected_boxes, expected_confs = wrapper(example)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    boxes, confs = session.run(["boxes", "confs"], {"input": example.numpy()})
    np.testing.assert_allclose(boxes, expected_boxes.numpy(), atol=1e-4)
    np.testing.assert_allclose(confs, expected_confs.numpy(), atol=1e-4)

    params = sum(p.numel() for p in net.parameters())
    print(
        f"wrote {out}: input [1, 3, {height}, {width}], boxes {list(boxes.shape)}, confs {list(confs.shape)}, "
        f"{params / 1e6:.2f} M parameters, {out.stat().st_size / 1e6:.1f} MB, "
        f"epoch {checkpoint['epoch'] + 1}, val AP50 at training {checkpoint['history'][-1]['ap50']:.3f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("models/spaghetti-effnetlite0.onnx"))
    parser.add_argument(
        "--data-root", type=Path, default=dataset.DEFAULT_DATA_ROOT, help="training images for the calibration"
    )
    parser.add_argument("--no-calibration", action="store_true", help="export the raw heatmap sigmoid")
    parser.add_argument(
        "--calibration-sequences",
        type=Path,
        nargs="+",
        help="fit the calibration on these folders of validation sequences (platt.py) instead of the training images",
    )
    parser.add_argument("--device", default="cpu", help="device for the calibration's predictions (cpu, cuda)")
    args = parser.parse_args(argv)
    if args.calibration_sequences:
        export(args.checkpoint, args.out, None, args.device)
        fit = platt.fit_on_sequences(args.out, args.calibration_sequences)
        fit["constants"] = platt.recalibrate(args.out, args.out, fit["a"], fit["b"])
        print(f"calibrated on {len(args.calibration_sequences)} folders of validation sequences: {fit}")
    else:
        export(args.checkpoint, args.out, None if args.no_calibration else args.data_root, args.device)


if __name__ == "__main__":
    main()
