"""The code's shape where no linter looks (issue 26): no function of the service is over 60 lines, and
nothing depends on the order of INSTALLED_APPS (one command per name, no admin registration undone)."""

import ast
from pathlib import Path

from django.apps import apps
from django.core.management import find_commands

ROOT = Path(__file__).resolve().parents[2]
# Every package of the service; training, tests and migrations aside.
SERVICE_PACKAGES = ["accounts", "config", "detection", "obico_api", "printers", "prints", "webhooks"]
MAX_FUNCTION_LINES = 60


def service_modules() -> list[Path]:
    return [
        path
        for package in SERVICE_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_function_of_the_service_is_over_60_lines():
    too_long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in service_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]

    assert too_long == []


def test_no_two_apps_have_a_command_of_the_same_name():
    # Django would run the one of the app listed first and hide the other.
    owners: dict[str, list[str]] = {}
    for app in apps.get_app_configs():
        if Path(app.path).is_relative_to(ROOT):
            for command in find_commands(str(Path(app.path) / "management")):
                owners.setdefault(command, []).append(app.label)

    assert {command: labels for command, labels in owners.items() if len(labels) > 1} == {}


def test_no_admin_registration_is_undone():
    # An unregister works only if the registration it undoes ran first: the order of INSTALLED_APPS.
    undone = [str(path.relative_to(ROOT)) for path in service_modules() if "unregister(" in path.read_text()]

    assert undone == []
