"""The import contracts (.importlinter, run by scripts/test) cover every module they must."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contract(name: str) -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config[f"importlinter:contract:{name}"]


def listed(section: configparser.SectionProxy, key: str) -> set[str]:
    return set(section[key].split())


def test_every_service_module_of_detection_is_held_to_the_no_training_contract():
    modules = {
        f"detection.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "detection").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    sources = listed(contract("service-never-imports-training"), "source_modules")

    assert "detection.training" in modules
    assert modules - {"detection.training"} <= sources


def test_every_app_is_a_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"obico_api"}

    assert listed(contract("apps-depend-one-way"), "layers") == apps
