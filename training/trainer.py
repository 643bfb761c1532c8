"""The training loop of a ``TrainConfig``: build the data, fit each epoch, validate, checkpoint.

    trainer = Trainer(load_config("run8", ["epochs=1"]))
    trainer.fit()          # writes OUT/last.pt every epoch and OUT/best.pt whenever val AP50 improves

A run is seeded and resumable (``fit(resume=True)`` continues after the last checkpoint's epoch). Each
epoch prints its losses and the val AP50, computed on the val images at the model input through the
same graph that is exported.
"""

from __future__ import annotations

import copy
import json
import math
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from detection.defaults import DEFAULTS
from detection.postprocess import select_detections
from training import composite, dataset, schedule, sequences, synthetic
from training.config import TrainConfig
from training.loader import EpochBatches, epoch_loader
from training.loss import detection_loss
from training.metrics import average_precision, detections_to_xyxy, match_detections, precision_recall
from training.model import STRIDE, ExportWrapper, SpaghettiNet, normalise

# The service's default thresholds (detection/defaults.py, Obico's values): val is scored as it selects.
SERVICE_CONF_THRESHOLD = DEFAULTS["CONF_THRESHOLD"]
SERVICE_NMS_IOU = DEFAULTS["NMS_IOU"]
# Images are cached this much larger than the input so that random crops keep some detail.
CACHE_SCALE = 1.25
# sequences.MIN_TANGLE_REGION_PX is in pixels of a 640 px photo; training regions are cut from the
# 400 px cache.
TRAINING_MIN_TANGLE_PX = sequences.MIN_TANGLE_REGION_PX * 400 / 640


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


def plan_phases(config: TrainConfig) -> tuple[schedule.Phase, ...]:
    """The run's phases: the main mix, then the final_* one for the last epochs."""
    return schedule.plan_phases(
        epochs=config.epochs,
        final_epochs=config.final_epochs,
        main={
            "peak_lr": config.lr,
            "warmup_epochs": config.warmup_epochs,
            "negative_repeats": config.negative_repeats,
            "composites": config.composites,
        },
        final={
            "peak_lr": config.final_lr,
            "warmup_epochs": config.final_warmup_epochs,
            "negative_repeats": config.final_negative_repeats,
            "composites": config.final_composites,
        },
    )


@dataclass
class TrainingData:
    """What every epoch draws from: training positives, clean negatives (each once, no boxes), val samples
    at the input size, and for composites the clean backgrounds and the training positives' regions."""

    positives: list[dataset.Sample]
    negatives: list[dataset.Sample]
    val: list[dataset.Sample]
    scenes: sequences.Scenes
    regions: list[composite.Region]


class Trainer:
    """One run of ``config``: its model, optimizer, weight average, generators and history."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.phases = plan_phases(config)
        torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.device = torch.device(config.device)
        width, height = config.input_size
        self.grid = (height // STRIDE, width // STRIDE)
        self.cache_size = (round(width * CACHE_SCALE), round(height * CACHE_SCALE))
        self.augment = dataset.Augmenter(config.input_size, self.rng, channel_shuffle=config.channel_shuffle)
        self.data: TrainingData | None = None
        self.model: SpaghettiNet | None = None
        self.optimizer: torch.optim.AdamW | None = None
        self.average: WeightAverage | None = None
        self.start_epoch, self.best_ap, self.history, self.elapsed_before = 0, -1.0, [], 0.0
        self._scene_pool: ProcessPoolExecutor | None = None
        self._scene_draws: dict[int, Future] = {}

    # -- building -------------------------------------------------------------------------------

    def build_data(self) -> TrainingData:
        """Decode every image once into memory (``dataset.load_sample``) and say what an epoch holds."""
        config, cache_size = self.config, self.cache_size
        merge = config.merge_labels
        positives = [
            dataset.load_sample(img, lbl, cache_size, merge=merge)
            for img, lbl in dataset.spaghetti_split(config.data_root, "train")
        ]
        if config.roboflow:
            positives += [
                dataset.load_sample(img, lbl, cache_size, class_id=0, merge=merge)
                for img, lbl in dataset.roboflow_split(config.data_root, "train")
            ]
        scenes, regions = sequences.Scenes((), ()), []
        if any(phase.composites for phase in self.phases) or config.camera_negatives:
            scenes = sequences.Scenes.load(config.data_root, config.cameras)
            regions = composite.regions_from_samples(positives)
        negatives = []
        if not config.no_negatives:
            negatives = [
                dataset.load_sample(img, None, cache_size)
                for img in dataset.training_negatives(config.data_root, config.cameras)
            ]
        val = [
            dataset.load_sample(img, lbl, config.input_size)
            for img, lbl in dataset.spaghetti_split(config.data_root, "val")
        ]
        self.data = TrainingData(positives, negatives, val, scenes, regions)
        self._print_data()
        return self.data

    def _print_data(self) -> None:
        config, data = self.config, self.data
        note = f" + {config.synthetic_negatives} generated plain scenes per epoch" if config.synthetic_negatives else ""
        if data.regions:
            note += (
                f" + composites ({len(data.regions)} regions on {len(data.scenes.camera_frames)} frames of cameras "
                f"{','.join(config.cameras)}, {len(data.scenes.photos)} photos and generated scenes)"
            )
        boxes = sum(len(sample.boxes) for sample in data.positives)
        print(
            f"train: {len(data.positives)} failure photos ({boxes} boxes) + {len(data.negatives)} clean negatives"
            f"{note}; val: {len(data.val)}",
            flush=True,
        )
        for phase in self.phases:
            print(
                f"  {phase.name} phase, epochs {phase.first_epoch + 1}-{phase.first_epoch + phase.epochs}: peak lr "
                f"{phase.peak_lr:g}, clean images x{phase.negative_repeats}, {phase.composites} composites per epoch",
                flush=True,
            )

    def build_model(self, *, resume: bool = False) -> SpaghettiNet:
        """The network: ImageNet's backbone, or ``init_from``'s weights (a resume loads its own later)."""
        config = self.config
        model = SpaghettiNet(pretrained=not (resume or config.init_from))
        if config.init_from and not resume:
            initial = torch.load(config.init_from, map_location="cpu", weights_only=False)
            if tuple(initial["input_size"]) != tuple(config.input_size):
                raise SystemExit(f"{config.init_from} was trained at {initial['input_size']}, not {config.input_size}")
            model.load_state_dict(initial["model"])
            print(f"initialised from {config.init_from} (epoch {initial['epoch'] + 1})", flush=True)
        self.model = model.to(self.device)
        self.optimizer = self.build_optimizer()
        self.average = WeightAverage(self.model, config.ema_decay) if config.ema_decay else None
        return self.model

    def build_optimizer(self) -> torch.optim.AdamW:
        """AdamW with the backbone at ``backbone_lr_factor`` times the neck and head's learning rate."""
        backbone_params = [p for m in self.model.backbone_modules() for p in m.parameters()]
        backbone_ids = {id(p) for p in backbone_params}
        head_params = [p for p in self.model.parameters() if id(p) not in backbone_ids]
        return torch.optim.AdamW(
            [
                {"params": backbone_params, "lr": self.config.lr * self.config.backbone_lr_factor},
                {"params": head_params, "lr": self.config.lr},
            ],
            weight_decay=self.config.weight_decay,
        )

    # -- an epoch -------------------------------------------------------------------------------

    def set_trainable(self, epoch: int) -> None:
        """Freeze the whole backbone during warm-up, then only its first blocks.

        Frozen modules also keep their BatchNorm statistics (eval mode): batches of 16 would
        only make the ImageNet statistics of the early layers noisier.
        """
        modules = self.model.backbone_modules()
        frozen_count = len(modules) if epoch < self.config.freeze_epochs else 1 + self.config.frozen_blocks
        self.model.train()
        for index, module in enumerate(modules):
            frozen = index < frozen_count
            module.requires_grad_(not frozen)
            if frozen:
                module.eval()

    def epoch_samples(self, epoch: int, phase: schedule.Phase) -> list[dataset.Sample]:
        """The positives, the phase's repeats of the negatives, this epoch's generated plain scenes, composites
        and clean frames through random cameras."""
        config, data = self.config, self.data
        samples = data.positives + data.negatives * phase.negative_repeats
        # Generated negatives come from their own generator, so resuming redraws the same ones.
        if epoch in self._scene_draws:
            samples += self._scene_draws.pop(epoch).result()
        else:
            samples += synthetic.synthetic_negatives(config.synthetic_negatives, self.cache_size, [config.seed, epoch])
        # Composites and camera negatives too, from generators of their own (seed, epoch, 1 or 2).
        samples += sequences.training_samples(
            data.scenes,
            data.regions,
            phase.composites,
            [config.seed, epoch, 1],
            self.cache_size,
            failing=True,
            min_tangle_px=TRAINING_MIN_TANGLE_PX,
        )
        samples += sequences.training_samples(
            data.scenes, data.regions, config.camera_negatives, [config.seed, epoch, 2], self.cache_size, failing=False
        )
        return samples

    def epoch_batches(self, samples: list[dataset.Sample]) -> EpochBatches:
        """The epoch's batches in a fresh random order: augmented in order by the main generator, or
        with workers each from a seed it draws."""
        config = self.config
        order = self.rng.permutation(len(samples))
        steps = -(-len(samples) // config.batch_size)
        shared = {"augment": self.augment} if not config.workers else {}
        seeds = {"seeds": [int(self.rng.integers(2**63)) for _ in range(steps)]} if config.workers else {}
        return EpochBatches(
            samples,
            order,
            batch_size=config.batch_size,
            grid=self.grid,
            mosaic=config.mosaic,
            box_region=config.box_region,
            input_size=config.input_size,
            channel_shuffle=config.channel_shuffle,
            **shared,
            **seeds,
        )

    def fit_epoch(self, epoch: int, phase: schedule.Phase, lr_shares: list[float]) -> np.ndarray:
        """One pass over the epoch's batches, an optimizer step each; returns the summed (heat, box) losses."""
        self.set_trainable(epoch)
        batches = self.epoch_batches(self.epoch_samples(epoch, phase))
        steps = len(batches)
        sums = np.zeros(2)
        for batch_index, (images, targets) in enumerate(epoch_loader(batches, self.config.workers)):
            factor = phase.lr_factor(epoch, batch_index, steps)
            for group, share in zip(self.optimizer.param_groups, lr_shares, strict=True):
                group["lr"] = phase.peak_lr * share * factor
            images = images.to(self.device, non_blocking=True)
            targets = tuple(t.to(self.device, non_blocking=True) for t in targets)
            heat, log_distances = self.model(normalise(images))
            heat_loss, box_loss = detection_loss(heat, log_distances, targets)
            self.optimizer.zero_grad(set_to_none=True)
            (heat_loss + box_loss).backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 10.0)
            self.optimizer.step()
            if self.average is not None:
                self.average.update(self.model)
            sums += (heat_loss.item(), box_loss.item())
            if batch_index % 20 == 19:
                heat_mean, box_mean = sums / (batch_index + 1)
                progress = f"epoch {epoch + 1} step {batch_index + 1}/{steps}"
                print(f"  {progress} heat {heat_mean:.3f} box {box_mean:.3f}", flush=True)
        return sums / steps

    def validate(self) -> dict[str, float]:
        """The shipped weights' (the average's, when there is one) AP50 and precision/recall on val."""
        return evaluate_val(self.shipped_model(), self.data.val, self.config.input_size)

    def shipped_model(self) -> SpaghettiNet:
        return self.average.model if self.average is not None else self.model

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, epoch: int, elapsed: float) -> dict:
        """Everything ``resume`` restores, and what export and ``init_from`` read."""
        return {
            # "model" is what export and init_from read: the averaged weights when there are any.
            "model": self.shipped_model().state_dict(),
            "raw_model": self.model.state_dict(),
            "average_updates": self.average.updates if self.average is not None else 0,
            "optimizer": self.optimizer.state_dict(),
            "epoch": epoch,
            "best_ap": self.best_ap,
            "history": self.history,
            "elapsed_s": elapsed,
            "numpy_rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "input_size": self.config.input_size,
            "config": self.config.as_strings(),
        }

    def save(self, checkpoint: dict, *, best: bool) -> None:
        """Write ``out/last.pt``, and ``out/best.pt`` too when ``best``."""
        out = self.config.out
        torch.save(checkpoint, out / "last.pt.tmp")
        (out / "last.pt.tmp").replace(out / "last.pt")  # atomic: a kill mid-save keeps the old one
        if best:
            torch.save(checkpoint, out / "best.pt")

    def resume(self) -> None:
        """Restore the weights, optimizer, generators and history saved after the last epoch."""
        checkpoint = torch.load(self.config.out / "last.pt", map_location=self.device, weights_only=False)
        self.model.load_state_dict(checkpoint.get("raw_model", checkpoint["model"]))
        if self.average is not None:
            self.average.model.load_state_dict(checkpoint["model"])
            self.average.updates = checkpoint["average_updates"]
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.rng.bit_generator.state = checkpoint["numpy_rng"]
        torch.set_rng_state(checkpoint["torch_rng"].cpu())
        self.start_epoch, self.best_ap = checkpoint["epoch"] + 1, checkpoint["best_ap"]
        self.history, self.elapsed_before = checkpoint["history"], checkpoint["elapsed_s"]
        print(f"resumed after epoch {self.start_epoch} (best AP50 so far {self.best_ap:.3f})", flush=True)

    # -- the run --------------------------------------------------------------------------------

    def _draw_scenes_ahead(self) -> None:
        """With workers, two processes draw every epoch's plain scenes ahead (same seeds, same scenes)."""
        if not self.config.workers:
            return
        config = self.config
        self._scene_pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        self._scene_draws = {
            epoch: self._scene_pool.submit(
                synthetic.synthetic_negatives, config.synthetic_negatives, self.cache_size, [config.seed, epoch]
            )
            for epoch in range(self.start_epoch, config.epochs)
        }

    def fit(self, *, resume: bool = False) -> list[dict]:
        """Train every epoch left, validating and checkpointing after each; returns the history."""
        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        if self.data is None:
            self.build_data()
        print(f"decoded in {time.monotonic() - started:.0f} s", flush=True)
        self.build_model(resume=resume)
        # The param groups' lrs at build time are lr-relative: each phase scales them by its own peak.
        lr_shares = [group["lr"] / config.lr for group in self.optimizer.param_groups]
        if resume:
            self.resume()
        epoch_started = time.monotonic()
        self._draw_scenes_ahead()
        try:
            for epoch in range(self.start_epoch, config.epochs):
                phase = schedule.phase_at(self.phases, epoch)
                if epoch == phase.first_epoch and epoch > 0:
                    # As init_from does: the averaged weights, with a fresh optimizer and average.
                    if self.average is not None:
                        self.model.load_state_dict(self.average.model.state_dict())
                        self.average = WeightAverage(self.model, config.ema_decay)
                    self.optimizer = self.build_optimizer()
                    print(f"{phase.name} phase: from the averaged weights, fresh optimizer and average", flush=True)
                heat_loss, box_loss = self.fit_epoch(epoch, phase, lr_shares)
                metrics = self.validate()
                elapsed = self.elapsed_before + time.monotonic() - epoch_started
                record = {"epoch": epoch + 1, "phase": phase.name, "heat_loss": heat_loss, "box_loss": box_loss}
                self.history.append({**record, **metrics, "elapsed_s": round(elapsed)})
                print(json.dumps(self.history[-1]), flush=True)
                improved = metrics["ap50"] > self.best_ap
                self.best_ap = max(self.best_ap, metrics["ap50"])
                self.save(self.checkpoint(epoch, elapsed), best=improved)
        finally:
            if self._scene_pool is not None:
                self._scene_pool.shutdown(cancel_futures=True)
        total = self.elapsed_before + time.monotonic() - epoch_started
        print(
            f"done: {config.epochs} epochs, training wall time {total / 60:.1f} min, best val AP50 {self.best_ap:.3f}",
            flush=True,
        )
        return self.history
