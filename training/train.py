"""Train the spaghetti detector on CPU: seeded, resumable, one checkpoint per epoch.

    python -m training.train --out .train/v3                 # the v3 recipe (defaults)
    python -m training.train --out .train/v3 --resume        # continue after a stop
    python -m training.train --out .train/no-p2 --cameras p1  # a fold: camera p2 held out

``scripts/train`` runs the whole job (requirements, this, the calibrated export), for the shipped
recipe (run 8) or this one's defaults (``RECIPE=v3``); models/README.md compares them on the alerts.
The defaults are the v3 recipe: 18 epochs at 320x320 on the spaghetti photos with
touching boxes merged into whole regions plus roboflow-3dprinting's failure photos, every cell inside
a box regressing it, half the samples 4-image mosaics, 150 generated plain scenes (synthetic.py), and
an exponential average of the weights that is evaluated and exported. Each epoch also draws, from the
training prints of the ``--cameras`` webcams, clean photos and generated scenes, 250 failures at a
random stage of their growth (``--composites``, sequences.py) and 100 clean shots (``--camera-negatives``),
each through a random camera (camera.py). The first 13 epochs see each clean image 3 times; the last 5
(``--final-epochs``) restart from the averaged weights at half the learning rate with each clean image
6 times and 100 composites. ``--init-from`` starts from another checkpoint's weights instead of
ImageNet's, e.g. to fine-tune.

Each epoch prints its losses and the val AP50 (computed on the val images at the model input,
through the same graph that is exported). ``last.pt`` is written after every epoch and
``best.pt`` whenever val AP50 improves.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import multiprocessing
import multiprocessing.pool
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from detection.defaults import DEFAULTS
from detection.postprocess import select_detections
from training import composite, dataset, schedule, sequences, synthetic
from training.loss import BOX_REGIONS, detection_loss, make_targets
from training.metrics import average_precision, detections_to_xyxy, match_detections, precision_recall
from training.model import STRIDE, ExportWrapper, SpaghettiNet, normalise

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The service's default thresholds (detection/defaults.py, Obico's values): val is scored as it selects.
SERVICE_CONF_THRESHOLD = DEFAULTS["CONF_THRESHOLD"]
SERVICE_NMS_IOU = DEFAULTS["NMS_IOU"]
# Images are cached this much larger than the input so that random crops keep some detail.
CACHE_SCALE = 1.25
# sequences.MIN_TANGLE_REGION_PX is in pixels of a 640 px photo; training regions are cut from the
# 400 px cache.
TRAINING_MIN_TANGLE_PX = sequences.MIN_TANGLE_REGION_PX * 400 / 640


def parse_size(text: str) -> tuple[int, int]:
    """``"320x256"`` -> (320, 256), width first; both must be multiples of 32 (Lite0's total stride)."""
    width, height = (int(v) for v in text.lower().split("x"))
    if width % 32 or height % 32:
        raise argparse.ArgumentTypeError("width and height must be multiples of 32")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-root",
        type=Path,
        default=dataset.DEFAULT_DATA_ROOT,
        help="folder holding spaghetti/, clean-prints/, webcam-clean/",
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / ".train" / "run", help="checkpoint folder")
    parser.add_argument("--input-size", type=parse_size, default=(320, 320), help="model input WxH")
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the neck and head")
    parser.add_argument("--backbone-lr-factor", type=float, default=0.25, help="backbone lr = lr x this")
    parser.add_argument("--weight-decay", type=float, default=1e-2)
    parser.add_argument(
        "--freeze-epochs", type=int, default=2, help="epochs with the whole backbone frozen (head warm-up)"
    )
    parser.add_argument(
        "--frozen-blocks",
        type=int,
        default=5,
        help="the stem and this many first MBConv blocks stay frozen throughout (5 = everything up to stride 8)",
    )
    parser.add_argument("--no-negatives", action="store_true", help="train on the spaghetti photos only")
    parser.add_argument(
        "--negative-repeats",
        type=int,
        default=3,
        help="times each real clean photo or frame is seen per epoch (each time augmented afresh)",
    )
    parser.add_argument(
        "--synthetic-negatives",
        type=int,
        default=150,
        help="generated plain scenes (synthetic.py) added to every epoch, drawn afresh from (seed, epoch)",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        help="start from this checkpoint's weights (fresh optimizer and schedule), e.g. to fine-tune",
    )
    parser.add_argument(
        "--warmup-epochs", type=float, default=1.0, help="linear lr warm-up length before the cosine decay"
    )
    parser.add_argument(
        "--mosaic", type=float, default=0.5, help="share of training samples that are 4-image mosaics (0 = none)"
    )
    parser.add_argument(
        "--channel-shuffle", type=float, default=0.0, help="share of samples with their RGB channels permuted"
    )
    parser.add_argument(
        "--ema-decay",
        type=float,
        default=0.998,
        help="keep an exponential moving average of the weights with this decay and ship it (0 = off)",
    )
    parser.add_argument(
        "--box-region",
        choices=BOX_REGIONS,
        default="box",
        help="cells that regress a box: under its gaussian (TTFNet), or every cell inside it (FCOS)",
    )
    parser.add_argument(
        "--merge-labels",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train on whole-region boxes: overlapping and touching boxes joined (labels.py; val stays as given)",
    )
    parser.add_argument(
        "--roboflow",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add roboflow-3dprinting/train (612 photos, class fail) as positives with their boxes",
    )
    parser.add_argument(
        "--cameras",
        type=lambda text: tuple(c for c in text.split(",") if c),
        default=dataset.CAMERAS,
        help="webcams whose training prints train (comma-separated, of "
        f"{', '.join(dataset.CAMERAS)}); leave one out to score the recipe on it (models/README.md)",
    )
    parser.add_argument(
        "--composites",
        type=int,
        default=250,
        help="failures at a random stage of their growth (sequences.py) on clean frames, photos and scenes, "
        "shot through random cameras; drawn afresh per epoch",
    )
    parser.add_argument(
        "--camera-negatives",
        type=int,
        default=100,
        help="clean frames, photos and scenes shot through random cameras (no failure), drawn afresh per epoch",
    )
    parser.add_argument(
        "--final-epochs",
        type=int,
        default=5,
        help="the last this many of --epochs are a fine-tune phase: from the averaged weights, with a fresh "
        "optimizer, average and lr cycle, and the --final-* mix below (0 = one phase)",
    )
    parser.add_argument("--final-lr", type=float, default=1e-3, help="peak learning rate of the final phase")
    parser.add_argument("--final-warmup-epochs", type=float, default=0.5, help="lr warm-up of the final phase")
    parser.add_argument("--final-negative-repeats", type=int, default=6, help="--negative-repeats in the final phase")
    parser.add_argument("--final-composites", type=int, default=100, help="--composites in the final phase")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes that augment batches (and two that draw plain scenes ahead); 0 = all in the main process",
    )
    parser.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda); data stays on CPU")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    return parser


def load_data(
    args: argparse.Namespace, phases: tuple[schedule.Phase, ...]
) -> tuple[list[dataset.Sample], list[dataset.Sample], list[dataset.Sample], sequences.Scenes, list[composite.Region]]:
    """Training positives, clean negatives (each once, no boxes), val samples at the input size, and for
    composites the clean backgrounds (training webcam frames and photos) and the training positives' regions."""
    width, height = args.input_size
    cache_size = (round(width * CACHE_SCALE), round(height * CACHE_SCALE))
    merge = args.merge_labels
    train = [
        dataset.load_sample(img, lbl, cache_size, merge=merge)
        for img, lbl in dataset.spaghetti_split(args.data_root, "train")
    ]
    if args.roboflow:
        train += [
            dataset.load_sample(img, lbl, cache_size, class_id=0, merge=merge)
            for img, lbl in dataset.roboflow_split(args.data_root, "train")
        ]
    scenes, regions = sequences.Scenes((), ()), []
    if any(phase.composites for phase in phases) or args.camera_negatives:
        scenes = sequences.Scenes.load(args.data_root, args.cameras)
        regions = composite.regions_from_samples(train)
    negatives = []
    if not args.no_negatives:
        negatives = [
            dataset.load_sample(img, None, cache_size)
            for img in dataset.training_negatives(args.data_root, args.cameras)
        ]
    val = [
        dataset.load_sample(img, lbl, args.input_size) for img, lbl in dataset.spaghetti_split(args.data_root, "val")
    ]
    synthetic_note = (
        f" + {args.synthetic_negatives} generated plain scenes per epoch" if args.synthetic_negatives else ""
    )
    if regions:
        synthetic_note += (
            f" + composites ({len(regions)} regions on {len(scenes.camera_frames)} frames of cameras "
            f"{','.join(args.cameras)}, {len(scenes.photos)} photos and generated scenes)"
        )
    boxes = sum(len(sample.boxes) for sample in train)
    print(
        f"train: {len(train)} failure photos ({boxes} boxes) + {len(negatives)} clean negatives"
        f"{synthetic_note}; val: {len(val)}",
        flush=True,
    )
    for phase in phases:
        print(
            f"  {phase.name} phase, epochs {phase.first_epoch + 1}-{phase.first_epoch + phase.epochs}: peak lr "
            f"{phase.peak_lr:g}, clean images x{phase.negative_repeats}, {phase.composites} composites per epoch",
            flush=True,
        )
    return train, negatives, val, scenes, regions


def set_trainable(model: SpaghettiNet, epoch: int, args: argparse.Namespace) -> None:
    """Freeze the whole backbone during warm-up, then only its first blocks.

    Frozen modules also keep their BatchNorm statistics (eval mode): batches of 16 would
    only make the ImageNet statistics of the early layers noisier.
    """
    modules = model.backbone_modules()
    frozen_count = len(modules) if epoch < args.freeze_epochs else 1 + args.frozen_blocks
    model.train()
    for index, module in enumerate(modules):
        frozen = index < frozen_count
        module.requires_grad_(not frozen)
        if frozen:
            module.eval()


class WeightAverage:
    """Exponential moving average of the weights (and BatchNorm statistics), as YOLOv5 keeps.

    The decay ramps up from 0 over the first few hundred steps so that the average is not
    anchored to the random head of step 0 (a run here is under 2,000 steps, so YOLOv5's ramp of
    2,000 would barely average at all). On a small training set the average swings far less from
    epoch to epoch than the raw weights, and it is what gets evaluated and shipped.
    """

    RAMP_STEPS = 200

    def __init__(self, model: SpaghettiNet, decay: float) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: SpaghettiNet) -> None:
        self.updates += 1
        decay = self.decay * (1 - math.exp(-self.updates / self.RAMP_STEPS))
        for average, current in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True):
            if average.dtype.is_floating_point:
                average.mul_(decay).add_(current.detach(), alpha=1 - decay)
            else:
                average.copy_(current)


def make_batch(
    samples: list[dataset.Sample],
    pool: list[dataset.Sample],
    augment: dataset.Augmenter,
    grid: tuple[int, int],
    mosaic: float,
    box_region: str,
):
    """Augmented images ``[B, 3, H, W]`` and their stacked targets; ``mosaic`` of them tile 3 more from ``pool``."""
    images, heats, box_targets, box_weights = [], [], [], []
    for sample in samples:
        if augment.rng.random() < mosaic:
            others = augment.rng.choice(len(pool), size=3)
            image, boxes = augment.mosaic([sample, *(pool[i] for i in others)])
        else:
            image, boxes = augment(sample)
        heat, box_target, box_weight = make_targets(boxes, *grid, box_region=box_region)
        images.append(image)
        heats.append(heat)
        box_targets.append(box_target)
        box_weights.append(box_weight)
    return torch.from_numpy(np.stack(images)), tuple(
        torch.from_numpy(np.stack(t)) for t in (heats, box_targets, box_weights)
    )


@torch.no_grad()
def predict(
    model: SpaghettiNet, samples: list[dataset.Sample], input_size: tuple[int, int], conf_threshold: float = 0.001
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per sample (at the input size), its detections as the service selects them from the export graph.

    Each item is (boxes ``[K, 4]`` x1, y1, x2, y2 input pixels, uncalibrated confidences ``[K]``).
    Runs on whichever device the model is on.
    """
    model.eval()
    device = next(model.parameters()).device
    wrapper = ExportWrapper(model, input_size).to(device)
    width, height = input_size
    results = []
    for start in range(0, len(samples), 16):
        chunk = samples[start : start + 16]
        images = torch.from_numpy(np.stack([s.pixels for s in chunk])).permute(0, 3, 1, 2).float() / 255.0
        boxes, confs = wrapper(images.to(device))
        for image_boxes, image_confs in zip(boxes.cpu().numpy(), confs.cpu().numpy(), strict=True):
            detections = select_detections(
                image_boxes.reshape(-1, 4),
                image_confs.reshape(-1),
                conf_threshold=conf_threshold,
                iou_threshold=SERVICE_NMS_IOU,
                width=width,
                height=height,
            )
            results.append((detections_to_xyxy(detections), np.array([d.confidence for d in detections])))
    return results


def evaluate_val(model: SpaghettiNet, val: list[dataset.Sample], input_size: tuple[int, int]) -> dict[str, float]:
    """AP50 and precision/recall at the service threshold on val (uncalibrated confidences)."""
    scores, tps, service_tps, num_gt = [], [], [], 0
    for sample, (pred, conf) in zip(val, predict(model, val, input_size), strict=True):
        tp = match_detections(pred, conf, sample.boxes)
        scores.extend(conf)
        tps.extend(tp)
        service_tps.extend(tp[conf > SERVICE_CONF_THRESHOLD])
        num_gt += len(sample.boxes)
    precision, recall = precision_recall(service_tps, num_gt)
    return {"ap50": average_precision(scores, tps, num_gt), "precision@0.08": precision, "recall@0.08": recall}


# What forked batch workers read: set by the main process just before it forks them each epoch.
_WORKER_STATE: dict = {}


def _worker_batch(task: tuple[np.ndarray, int]):
    """One batch built in a worker process from ``_WORKER_STATE`` with its own seeded augmenter."""
    indices, batch_seed = task
    state = _WORKER_STATE
    torch.set_num_threads(1)
    augment = dataset.Augmenter(
        state["input_size"], np.random.default_rng(batch_seed), channel_shuffle=state["channel_shuffle"]
    )
    samples = state["samples"]
    return make_batch(
        [samples[i] for i in indices], samples, augment, state["grid"], state["mosaic"], state["box_region"]
    )


def build_model(args: argparse.Namespace, device: torch.device) -> SpaghettiNet:
    """The network on ``device``: ImageNet's backbone, or ``--init-from``'s weights (a resume loads its own later)."""
    model = SpaghettiNet(pretrained=not (args.resume or args.init_from))
    if args.init_from and not args.resume:
        initial = torch.load(args.init_from, map_location="cpu", weights_only=False)
        if tuple(initial["input_size"]) != tuple(args.input_size):
            raise SystemExit(f"{args.init_from} was trained at {initial['input_size']}, not {args.input_size}")
        model.load_state_dict(initial["model"])
        print(f"initialised from {args.init_from} (epoch {initial['epoch'] + 1})", flush=True)
    return model.to(device)


def build_optimizer(model: SpaghettiNet, args: argparse.Namespace) -> torch.optim.AdamW:
    """AdamW with the backbone at ``--backbone-lr-factor`` times the neck and head's learning rate."""
    backbone_params = [p for m in model.backbone_modules() for p in m.parameters()]
    backbone_ids = {id(p) for p in backbone_params}
    head_params = [p for p in model.parameters() if id(p) not in backbone_ids]
    return torch.optim.AdamW(
        [
            {"params": backbone_params, "lr": args.lr * args.backbone_lr_factor},
            {"params": head_params, "lr": args.lr},
        ],
        weight_decay=args.weight_decay,
    )


def make_checkpoint(
    *,
    args: argparse.Namespace,
    model: SpaghettiNet,
    average: WeightAverage | None,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    epoch: int,
    best_ap: float,
    history: list[dict],
    elapsed: float,
) -> dict:
    """Everything ``resume_from_checkpoint`` restores, and what export and ``--init-from`` read."""
    shipped = average.model if average is not None else model
    return {
        # "model" is what export and --init-from read: the averaged weights when there are any.
        "model": shipped.state_dict(),
        "raw_model": model.state_dict(),
        "average_updates": average.updates if average is not None else 0,
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "best_ap": best_ap,
        "history": history,
        "elapsed_s": elapsed,
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "input_size": args.input_size,
        "args": {k: str(v) for k, v in vars(args).items()},
    }


def save_checkpoint(checkpoint: dict, out: Path, *, best: bool) -> None:
    """Write ``out/last.pt``, and ``out/best.pt`` too when ``best``."""
    torch.save(checkpoint, out / "last.pt.tmp")
    (out / "last.pt.tmp").replace(out / "last.pt")  # atomic: a kill mid-save keeps the old one
    if best:
        torch.save(checkpoint, out / "best.pt")


def resume_from_checkpoint(
    path: Path,
    *,
    model: SpaghettiNet,
    average: WeightAverage | None,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    device: torch.device,
) -> tuple[int, float, list[dict], float]:
    """Restore the weights, optimizer and generators saved after an epoch.

    Returns the epoch to start from, the best val AP50 so far, the history and the training time so far.
    """
    checkpoint = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(checkpoint.get("raw_model", checkpoint["model"]))
    if average is not None:
        average.model.load_state_dict(checkpoint["model"])
        average.updates = checkpoint["average_updates"]
    optimizer.load_state_dict(checkpoint["optimizer"])
    rng.bit_generator.state = checkpoint["numpy_rng"]
    torch.set_rng_state(checkpoint["torch_rng"].cpu())
    start_epoch, best_ap = checkpoint["epoch"] + 1, checkpoint["best_ap"]
    print(f"resumed after epoch {start_epoch} (best AP50 so far {best_ap:.3f})", flush=True)
    return start_epoch, best_ap, checkpoint["history"], checkpoint["elapsed_s"]


def start_scene_pool(
    args: argparse.Namespace, cache_size: tuple[int, int], start_epoch: int
) -> tuple[multiprocessing.pool.Pool | None, dict[int, multiprocessing.pool.AsyncResult]]:
    """With ``--workers``, two processes drawing the plain scenes of every epoch ahead (same seeds, so
    the same scenes): the pool and each epoch's pending draw. Without, no pool and no draws."""
    if not args.workers:
        return None, {}
    scene_pool = multiprocessing.get_context("fork").Pool(2)
    scene_jobs = {
        epoch: scene_pool.apply_async(
            synthetic.synthetic_negatives, (args.synthetic_negatives, cache_size, [args.seed, epoch])
        )
        for epoch in range(start_epoch, args.epochs)
    }
    return scene_pool, scene_jobs


def draw_epoch_samples(
    args: argparse.Namespace,
    epoch: int,
    phase: schedule.Phase,
    positives: list[dataset.Sample],
    negatives: list[dataset.Sample],
    scene_jobs: dict[int, multiprocessing.pool.AsyncResult],
    cache_size: tuple[int, int],
    scenes: sequences.Scenes,
    composite_regions: list[composite.Region],
) -> list[dataset.Sample]:
    """The positives, the phase's repeats of the negatives, this epoch's generated plain scenes, composites
    and clean frames through random cameras."""
    epoch_samples = positives + negatives * phase.negative_repeats
    # Generated negatives come from their own generator, so resuming redraws the same ones.
    if scene_jobs:
        epoch_samples += scene_jobs.pop(epoch).get()
    else:
        epoch_samples += synthetic.synthetic_negatives(args.synthetic_negatives, cache_size, [args.seed, epoch])
    # Composites and camera negatives too, from generators of their own (seed, epoch, 1 or 2).
    epoch_samples += sequences.training_samples(
        scenes,
        composite_regions,
        phase.composites,
        [args.seed, epoch, 1],
        cache_size,
        failing=True,
        min_tangle_px=TRAINING_MIN_TANGLE_PX,
    )
    epoch_samples += sequences.training_samples(
        scenes, composite_regions, args.camera_negatives, [args.seed, epoch, 2], cache_size, failing=False
    )
    return epoch_samples


def epoch_batches(
    args: argparse.Namespace,
    epoch_samples: list[dataset.Sample],
    order: np.ndarray,
    steps_per_epoch: int,
    rng: np.random.Generator,
    augment: dataset.Augmenter,
    grid: tuple[int, int],
) -> tuple[Iterator, multiprocessing.pool.Pool | None]:
    """The epoch's batches in ``order``, made as they are read, and the worker pool making them (if any)."""
    size = args.batch_size
    if not args.workers:
        batches = (
            make_batch(
                [epoch_samples[i] for i in order[b * size : (b + 1) * size]],
                epoch_samples,
                augment,
                grid,
                args.mosaic,
                args.box_region,
            )
            for b in range(steps_per_epoch)
        )
        return batches, None
    # Each batch is augmented in a worker from a seed the main generator draws, so a run is
    # still fixed by --seed (but draws differently from a run without workers).
    tasks = [(order[b * size : (b + 1) * size], int(rng.integers(2**63))) for b in range(steps_per_epoch)]
    _WORKER_STATE.update(
        samples=epoch_samples,
        grid=grid,
        mosaic=args.mosaic,
        box_region=args.box_region,
        input_size=args.input_size,
        channel_shuffle=args.channel_shuffle,
    )
    batch_pool = multiprocessing.get_context("fork").Pool(args.workers)
    return batch_pool.imap(_worker_batch, tasks), batch_pool


def train_epoch(
    model: SpaghettiNet,
    optimizer: torch.optim.Optimizer,
    average: WeightAverage | None,
    batches: Iterator,
    *,
    epoch: int,
    steps_per_epoch: int,
    lr_at: Callable[[int], list[float]],
    device: torch.device,
) -> np.ndarray:
    """One pass over ``batches``: an optimizer step per batch at ``lr_at(batch_index)``'s learning rates.

    Returns the summed (heat, box) losses."""
    sums = np.zeros(2)
    for batch_index in range(steps_per_epoch):
        for group, lr in zip(optimizer.param_groups, lr_at(batch_index), strict=True):
            group["lr"] = lr
        images, targets = next(batches)
        images = images.to(device, non_blocking=True)
        targets = tuple(t.to(device, non_blocking=True) for t in targets)
        heat, log_distances = model(normalise(images))
        heat_loss, box_loss = detection_loss(heat, log_distances, targets)
        optimizer.zero_grad(set_to_none=True)
        (heat_loss + box_loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        if average is not None:
            average.update(model)
        sums += (heat_loss.item(), box_loss.item())
        if batch_index % 20 == 19:
            heat_mean, box_mean = sums / (batch_index + 1)
            progress = f"epoch {epoch + 1} step {batch_index + 1}/{steps_per_epoch}"
            print(f"  {progress} heat {heat_mean:.3f} box {box_mean:.3f}", flush=True)
    return sums


def plan_phases(args: argparse.Namespace) -> tuple[schedule.Phase, ...]:
    """The run's phases from the command line: the main mix, then the --final-* one for the last epochs."""
    return schedule.plan_phases(
        epochs=args.epochs,
        final_epochs=args.final_epochs,
        main={
            "peak_lr": args.lr,
            "warmup_epochs": args.warmup_epochs,
            "negative_repeats": args.negative_repeats,
            "composites": args.composites,
        },
        final={
            "peak_lr": args.final_lr,
            "warmup_epochs": args.final_warmup_epochs,
            "negative_repeats": args.final_negative_repeats,
            "composites": args.final_composites,
        },
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        phases = plan_phases(args)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    positives, negatives, val, scenes, composite_regions = load_data(args, phases)
    device = torch.device(args.device)
    print(f"decoded in {time.monotonic() - started:.0f} s", flush=True)
    width, height = args.input_size
    grid = (height // STRIDE, width // STRIDE)
    cache_size = (round(width * CACHE_SCALE), round(height * CACHE_SCALE))

    model = build_model(args, device)
    optimizer = build_optimizer(model, args)
    # The param groups' lrs at build time are peak_lr-relative: each phase scales them by its own peak.
    lr_shares = [group["lr"] / args.lr for group in optimizer.param_groups]

    start_epoch, best_ap, history, elapsed_before = 0, -1.0, [], 0.0
    average = WeightAverage(model, args.ema_decay) if args.ema_decay else None
    if args.resume:
        start_epoch, best_ap, history, elapsed_before = resume_from_checkpoint(
            args.out / "last.pt", model=model, average=average, optimizer=optimizer, rng=rng, device=device
        )
    augment = dataset.Augmenter(args.input_size, rng, channel_shuffle=args.channel_shuffle)
    epoch_started = time.monotonic()
    scene_pool, scene_jobs = start_scene_pool(args, cache_size, start_epoch)

    for epoch in range(start_epoch, args.epochs):
        phase = schedule.phase_at(phases, epoch)
        if epoch == phase.first_epoch and epoch > 0:
            # As --init-from does: the averaged weights, with a fresh optimizer and average.
            if average is not None:
                model.load_state_dict(average.model.state_dict())
                average = WeightAverage(model, args.ema_decay)
            optimizer = build_optimizer(model, args)
            print(f"{phase.name} phase: from the averaged weights, fresh optimizer and average", flush=True)
        set_trainable(model, epoch, args)
        epoch_samples = draw_epoch_samples(
            args, epoch, phase, positives, negatives, scene_jobs, cache_size, scenes, composite_regions
        )
        steps_per_epoch = math.ceil(len(epoch_samples) / args.batch_size)
        order = rng.permutation(len(epoch_samples))
        batches, batch_pool = epoch_batches(args, epoch_samples, order, steps_per_epoch, rng, augment, grid)

        def lr_at(batch_index: int, phase=phase, epoch=epoch, steps=steps_per_epoch) -> list[float]:
            factor = phase.lr_factor(epoch, batch_index, steps)
            return [phase.peak_lr * share * factor for share in lr_shares]

        sums = train_epoch(
            model,
            optimizer,
            average,
            batches,
            epoch=epoch,
            steps_per_epoch=steps_per_epoch,
            lr_at=lr_at,
            device=device,
        )
        if batch_pool is not None:
            batch_pool.close()
            batch_pool.join()
        val_metrics = evaluate_val(average.model if average is not None else model, val, args.input_size)
        elapsed = elapsed_before + time.monotonic() - epoch_started
        record = {
            "epoch": epoch + 1,
            "phase": phase.name,
            "heat_loss": sums[0] / steps_per_epoch,
            "box_loss": sums[1] / steps_per_epoch,
            **val_metrics,
            "elapsed_s": round(elapsed),
        }
        history.append(record)
        print(json.dumps(record), flush=True)
        checkpoint = make_checkpoint(
            args=args,
            model=model,
            average=average,
            optimizer=optimizer,
            rng=rng,
            epoch=epoch,
            best_ap=max(best_ap, val_metrics["ap50"]),
            history=history,
            elapsed=elapsed,
        )
        improved = val_metrics["ap50"] > best_ap
        save_checkpoint(checkpoint, args.out, best=improved)
        if improved:
            best_ap = val_metrics["ap50"]
    if scene_pool is not None:
        scene_pool.terminate()
    total = elapsed_before + time.monotonic() - epoch_started
    print(
        f"done: {args.epochs} epochs, training wall time {total / 60:.1f} min, best val AP50 {best_ap:.3f}", flush=True
    )


# glibc returns the large activation buffers to the kernel after every step and page-faults them
# back in on the next: measured ~40 % of the CPU time in the kernel and 1.6-5 s per step, against
# 1.1-1.3 s with freed memory kept in the process. These are read only at process start.
MALLOC_SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    "MALLOC_TOP_PAD_": "1073741824",
}

if __name__ == "__main__":
    if not all(name in os.environ for name in MALLOC_SETTINGS):
        os.environ.update(MALLOC_SETTINGS)
        os.execv(sys.executable, [sys.executable, "-m", "training.train", *sys.argv[1:]])  # noqa: S606
    main()
