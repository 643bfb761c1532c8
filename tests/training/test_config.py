"""Recipes and overrides (training/config.py): run8.yaml is exactly what the shipped detector trained with."""

from dataclasses import asdict, fields
from pathlib import Path

import pytest

from training import dataset
from training.config import RECIPES, TrainConfig, load_config

# train.py's flag defaults before the config (git show cb8a679:training/train.py), which were the v3 recipe.
FLAG_DEFAULTS = {
    "data_root": dataset.DEFAULT_DATA_ROOT,
    "input_size": (320, 320),
    "init_from": None,
    "epochs": 18,
    "batch_size": 16,
    "lr": 2e-3,
    "backbone_lr_factor": 0.25,
    "weight_decay": 1e-2,
    "warmup_epochs": 1.0,
    "freeze_epochs": 2,
    "frozen_blocks": 5,
    "ema_decay": 0.998,
    "box_region": "box",
    "merge_labels": True,
    "roboflow": True,
    "no_negatives": False,
    "negative_repeats": 3,
    "synthetic_negatives": 150,
    "cameras": ("p1", "p2"),
    "composites": 250,
    "camera_negatives": 100,
    "mosaic": 0.5,
    "channel_shuffle": 0.0,
    "final_epochs": 5,
    "final_lr": 1e-3,
    "final_warmup_epochs": 0.5,
    "final_negative_repeats": 6,
    "final_composites": 100,
    "workers": 0,
    "device": "cpu",
    "threads": 2,
    "seed": 0,
}
# scripts/train's RECIPE=run8 flags, which trained run 8b (models/README.md): --cameras p1 --epochs 20
# --no-merge-labels --no-roboflow --composites 0 --camera-negatives 0 --final-epochs 0.
RUN8_FLAGS = {
    "cameras": ("p1",),
    "epochs": 20,
    "merge_labels": False,
    "roboflow": False,
    "composites": 0,
    "camera_negatives": 0,
    "final_epochs": 0,
}
# Where a run writes, not how it trains: recipes leave these alone.
NOT_IN_RECIPES = {"data_root", "out", "init_from", "workers", "device", "threads"}


def settings(config: TrainConfig) -> dict:
    return {key: value for key, value in asdict(config).items() if key != "out"}


def test_run8_is_the_old_flag_defaults_under_scripts_trains_run8_flags():
    assert settings(load_config("run8")) == {**FLAG_DEFAULTS, **RUN8_FLAGS}


def test_v3_is_the_old_flag_defaults_and_the_configs_own():
    assert settings(load_config("v3")) == FLAG_DEFAULTS
    assert load_config("v3") == TrainConfig()


@pytest.mark.parametrize("recipe", ["run8", "v3"])
def test_a_recipe_names_every_setting_that_trains(recipe):
    import yaml

    named = set(yaml.safe_load((RECIPES / f"{recipe}.yaml").read_text()))

    assert named == {field.name for field in fields(TrainConfig)} - NOT_IN_RECIPES


def test_overrides_are_read_as_the_settings_types():
    config = load_config(
        "run8",
        ["epochs=3", "lr=1e-4", "merge-labels=yes", "cameras=p1,p2", "input_size=320x256", "init_from=a.pt"],
        out=Path("elsewhere"),
    )

    assert (config.epochs, config.lr, config.merge_labels) == (3, 1e-4, True)
    assert (config.cameras, config.input_size, config.init_from, config.out) == (
        ("p1", "p2"),
        (320, 256),
        Path("a.pt"),
        Path("elsewhere"),
    )
    assert load_config("run8", ["cameras="]).cameras == ()
    assert load_config("run8", ["init_from=none"]).init_from is None


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("epoch=3", "unknown settings: epoch"),
        ("epochs", "an override is key=value, not 'epochs'"),
        ("merge_labels=maybe", "merge_labels is true or false, not 'maybe'"),
        ("input_size=320x300", "multiples of 32"),
        ("cameras=p3", "not p3"),
        ("box_region=circle", "box_region is gaussian or box"),
    ],
)
def test_a_bad_override_is_refused_by_name(override, message):
    with pytest.raises(ValueError, match=message):
        load_config("run8", [override])


def test_a_config_writes_back_as_the_overrides_that_make_it():
    config = load_config("run8", ["cameras=p1,p2", "input_size=320x256"])

    overrides = [f"{key}={value}" for key, value in config.as_strings().items()]

    assert load_config("v3", overrides) == config
