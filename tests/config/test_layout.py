"""The import contracts (.importlinter, run by scripts/test) cover every module they must."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contract(name: str) -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config[f"importlinter:contract:{name}"]


def listed(section: configparser.SectionProxy, key: str) -> set[str]:
    """The modules a contract names, a layer of siblings (``a | b``) counting as each of them."""
    return set(section[key].replace("|", " ").split())


def root_packages() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return listed(config["importlinter"], "root_packages")


def test_every_package_but_training_is_held_to_the_no_training_contract():
    packages = root_packages()
    sources = listed(contract("service-never-imports-training"), "source_modules")

    assert "training" in packages
    assert packages - {"training"} <= sources


def test_every_app_is_a_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"config", "obico_api"}

    assert listed(contract("apps-depend-one-way"), "layers") == apps


def test_detection_is_forbidden_every_other_app():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"config"}

    assert listed(contract("detection-imports-no-app"), "forbidden_modules") == apps - {"detection"}


def test_the_tests_are_laid_out_like_the_code():
    """Each test file sits in tests/<package>/ of the package it tests (tests/e2e/ for whole servers);
    tests/ itself holds only conftest.py, fixtures/ and shared helpers."""
    tests = ROOT / "tests"

    assert sorted(path.name for path in tests.glob("test_*.py")) == []
    assert {path.parent.name for path in tests.glob("*/test_*.py")} <= root_packages() | {"e2e"}
