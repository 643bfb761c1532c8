"""Every setting of a training run in one frozen dataclass, read from a recipe file with ``key=value`` overrides.

    config = load_config("run8", ["epochs=5", "cameras=p1,p2"])

A recipe is a YAML file of ``recipes/`` (or any path) naming the settings it gives; the rest keep the
defaults below, which are the v3 recipe. ``recipes/run8.yaml`` is what the shipped detector (run 8b)
trained with (models/README.md). The checkpoint stores the resolved config, so a run says what it was.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from training import dataset

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RECIPES = Path(__file__).resolve().parent / "recipes"


@dataclass(frozen=True)
class TrainConfig:
    """One run: where its data and checkpoints are, the model, the sample mix, the schedule, the machine."""

    # Where: the folder holding spaghetti/, clean-prints/, webcam-clean/; the checkpoint folder.
    data_root: Path = dataset.DEFAULT_DATA_ROOT
    out: Path = PROJECT_ROOT / ".train" / "run"
    # The model input (W, H); both multiples of 32 (Lite0's total stride).
    input_size: tuple[int, int] = (320, 320)
    # Start from this checkpoint's weights (fresh optimizer and schedule), e.g. to fine-tune; else ImageNet's.
    init_from: Path | None = None

    # Optimisation: AdamW; the backbone's learning rate is lr x backbone_lr_factor.
    epochs: int = 18
    batch_size: int = 16
    lr: float = 2e-3
    backbone_lr_factor: float = 0.25
    weight_decay: float = 1e-2
    warmup_epochs: float = 1.0
    # Epochs with the whole backbone frozen (head warm-up); after them the stem and this many first
    # MBConv blocks stay frozen (5 = everything up to stride 8).
    freeze_epochs: int = 2
    frozen_blocks: int = 5
    # Keep an exponential moving average of the weights with this decay and ship it (0 = off).
    ema_decay: float = 0.998
    # Cells that regress a box: "gaussian" (under its peak, TTFNet) or "box" (every cell inside it, FCOS).
    box_region: str = "box"

    # The samples of an epoch.
    # Whole-region boxes: overlapping and touching boxes joined (labels.py; val stays as given).
    merge_labels: bool = True
    # roboflow-3dprinting/train (612 photos, class fail) as positives with their boxes.
    roboflow: bool = True
    # Train on the spaghetti photos only (no clean photos or frames).
    no_negatives: bool = False
    # Times each real clean photo or frame is seen per epoch (each time augmented afresh).
    negative_repeats: int = 3
    # Generated plain scenes (synthetic.py) added to every epoch, drawn afresh from (seed, epoch).
    synthetic_negatives: int = 150
    # Webcams whose training prints train; leave one out to score the recipe on it (models/README.md).
    cameras: tuple[str, ...] = dataset.CAMERAS
    # Failures at a random stage of their growth (sequences.py) on clean frames, photos and scenes,
    # shot through random cameras, and clean shots through random cameras; drawn afresh per epoch.
    composites: int = 250
    camera_negatives: int = 100
    # Shares of the samples that are 4-image mosaics, and that have their RGB channels permuted.
    mosaic: float = 0.5
    channel_shuffle: float = 0.0

    # The last final_epochs of the epochs are a fine-tune phase: from the averaged weights, with a
    # fresh optimizer, average and lr cycle, and the final_* mix (0 = one phase).
    final_epochs: int = 5
    final_lr: float = 1e-3
    final_warmup_epochs: float = 0.5
    final_negative_repeats: int = 6
    final_composites: int = 100

    # The machine: DataLoader processes augmenting batches (and two drawing plain scenes ahead; 0 = all
    # in the main process), the torch device (data stays on the CPU) and threads, the seed.
    workers: int = 0
    device: str = "cpu"
    threads: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        width, height = self.input_size
        if width % 32 or height % 32:
            raise ValueError(f"input_size {width}x{height}: width and height must be multiples of 32")
        if self.box_region not in ("gaussian", "box"):
            raise ValueError(f"box_region is gaussian or box, not {self.box_region!r}")
        unknown = set(self.cameras) - set(dataset.CAMERAS)
        if unknown:
            raise ValueError(f"cameras are of {', '.join(dataset.CAMERAS)}, not {', '.join(sorted(unknown))}")

    def as_strings(self) -> dict[str, str]:
        """Each setting as a ``key=value`` override would write it (what a checkpoint stores)."""
        return {field.name: _format(getattr(self, field.name)) for field in fields(self)}


def recipe_path(recipe: str | Path) -> Path:
    """A recipe's file: a name of ``recipes/`` (``run8``, ``v3``) or a path to a YAML file."""
    path = Path(recipe)
    return path if path.suffix in (".yaml", ".yml") else RECIPES / f"{recipe}.yaml"


def load_config(recipe: str | Path = "v3", overrides: typing.Iterable[str] = (), **settings) -> TrainConfig:
    """The recipe's settings, then ``overrides`` (``key=value`` strings), then ``settings`` (values)."""
    values = yaml.safe_load(recipe_path(recipe).read_text()) or {}
    for override in overrides:
        key, separator, value = override.partition("=")
        if not separator:
            raise ValueError(f"an override is key=value, not {override!r}")
        values[key.strip().replace("-", "_")] = value.strip()
    values.update(settings)
    types_by_name = typing.get_type_hints(TrainConfig)
    unknown = set(values) - set(types_by_name)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    return TrainConfig(**{key: _parse(types_by_name[key], key, value) for key, value in values.items()})


def _parse(kind, key: str, value):
    """``value`` (from YAML, a ``key=value`` string or Python) as the field's type."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # Path | None
        if value is None or value in ("", "none", "None"):
            return None
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "1"):
            return True
        if str(value).lower() in ("false", "no", "0"):
            return False
        raise ValueError(f"{key} is true or false, not {value!r}")
    if kind == tuple[int, int]:  # input_size: "320x256" or [320, 256], width first
        parts = value.lower().split("x") if isinstance(value, str) else value
        return tuple(int(part) for part in parts)
    if kind == tuple[str, ...]:  # cameras: "p1,p2" or [p1, p2]
        parts = value.split(",") if isinstance(value, str) else value
        return tuple(str(part).strip() for part in parts if str(part).strip())
    if kind in (int, float, str, Path):
        return kind(value)
    raise TypeError(f"{key}: no parser for {kind}")


def _format(value) -> str:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}x{value[1]}"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)
