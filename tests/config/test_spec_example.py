"""The spec's Python example runs unchanged against a live server, set up the way the README says.

The README's flow is ``eval "$(.venv/bin/python manage.py demo_token)"`` in a shell, then
``cd examples && ../.venv/bin/python spec_example.py`` with the shipped ``snapshot.jpg``. The test
runs that in bash: the command's output is eval'd, and the example is a child process of that shell.
"""

import ast
import os
import shlex
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from prints.models import Print

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASH = shutil.which("bash")


@pytest.mark.skipif(BASH is None, reason="the README's flow is a shell's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_spec_example_runs_after_eval_of_demo_token_as_the_readme_says(live_server, tmp_path, tiny_model_path):
    out = StringIO()
    call_command("demo_token", stdout=out)  # in-process, so that it writes to the test database
    (tmp_path / "demo_token.out").write_text(out.getvalue())
    # The variables must reach the example through the shell's environment alone.
    env = {key: value for key, value in os.environ.items() if key not in {"ACCESS_TOKEN", "PRINTER_ID"}}
    script = (
        f'eval "$(cat demo_token.out)" && cd {shlex.quote(str(EXAMPLES))}'
        f" && exec {shlex.quote(sys.executable)} spec_example.py"
    )

    completed = subprocess.run(  # noqa: S603 - our own example script, run as documented
        [BASH, "-c", script],
        cwd=tmp_path,
        env={**env, "BASE_URL": live_server.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    started, detected, finished = completed.stdout.splitlines()
    assert started.startswith("Started print: {'succeeded': True, 'printer': {")
    result = ast.literal_eval(detected.removeprefix("Detection result: "))
    assert set(result) == {"p", "temporal_stats", "detections", "verdict"}
    assert result["temporal_stats"]["prediction_num"] == 1
    assert finished.startswith("Finished print: {'succeeded': True, 'printer': {")
    assert "'current_print': None" in finished
    assert Print.objects.get().status == "finished"


@pytest.mark.django_db
def test_demo_token_prints_only_shell_exports_and_comments():
    out = StringIO()
    call_command("demo_token", stdout=out)

    lines = out.getvalue().splitlines()

    assert [line.split("=")[0] for line in lines if not line.startswith("#")] == [
        "export ACCESS_TOKEN",
        "export PRINTER_ID",
    ]
