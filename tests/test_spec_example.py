"""The spec's Python example runs unchanged against a live server with the demo token."""

import ast
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from prints.models import Print
from tests.conftest import make_image_bytes

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "spec_example.py"


@pytest.mark.django_db(transaction=True)
def test_spec_example_runs_against_a_live_server_with_the_demo_token(live_server, tmp_path, tiny_model_path):
    out = StringIO()
    call_command("demo_token", "--quiet", stdout=out)
    token, printer_id = out.getvalue().split()
    (tmp_path / "snapshot.jpg").write_bytes(make_image_bytes((1280, 720)))

    completed = subprocess.run(  # noqa: S603 - our own example script
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env={**os.environ, "BASE_URL": live_server.url, "ACCESS_TOKEN": token, "PRINTER_ID": printer_id},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    started, detected, finished = completed.stdout.splitlines()
    assert started.startswith("Started print: {'succeeded': True, 'printer': {")
    result = ast.literal_eval(detected.removeprefix("Detection result: "))
    assert set(result) == {"p", "temporal_stats", "detections", "verdict"}
    assert result["temporal_stats"]["prediction_num"] == 1
    assert finished.startswith("Finished print: {'succeeded': True, 'printer': {")
    assert "'current_print': None" in finished
    assert Print.objects.get().status == "finished"
