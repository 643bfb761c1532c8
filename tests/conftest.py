"""Every test's fixtures come from the modules of tests/fixtures/ (see its __init__), loaded here.

Tests under tests/e2e/ are marked ``e2e`` here, by their folder, so ``-m "not e2e"`` leaves them out.
"""

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.isolation",
    "tests.fixtures.detection",
    "tests.fixtures.accounts",
    "tests.fixtures.printers",
]

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)
