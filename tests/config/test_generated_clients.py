"""Clients generated from the live schema run the spec's whole journey against a live server on 127.0.0.1.

openapi-python-client's Python client, and openapi-typescript's types with openapi-fetch (type-checked
with ``tsc --strict``, then run by Node): the demo's token, list printers, start, predict, the history,
the alerts and an alert's binary snapshot, finish; and the error paths (already printing, not printing,
a file that is not an image, a wrong token). Each generator's pinned version is in requirements-dev.txt
and tests/clients/ts/package-lock.json; the generated code is written at each run and never committed.
Node and npm are required: without them the TypeScript test fails rather than skips, as CI has them.
"""

import hashlib
import importlib
import io
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from printers.models import Printer
from prints.models import Print
from tests.factories import AlertFactory, PrintFactory
from tests.fixtures.images import make_image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
TS = CLIENTS / "ts"
PYTHON_PACKAGE = "obico_client"  # tests/clients/python/config.yaml
INSTALL_SECONDS = 300  # npm ci on a cold cache
STEP_SECONDS = 120  # generating, type-checking or running a journey
# So that a request field with a default (finish_print's status) stays optional in the generated types.
TS_OPTIONS = ["--default-non-nullable", "false"]


def run(args: list, *, cwd: Path, timeout: int = STEP_SECONDS, env: dict | None = None) -> str:
    """Run a step of a client's build; its output in the failure message."""
    completed = subprocess.run(  # noqa: S603 - our own tools, with arguments we build
        [str(arg) for arg in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, f"{args[0]} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


@pytest.fixture
def demo(live_server, tmp_path):
    """The demo's token and printer, an earlier print of it with an alert, a snapshot, the server's URL."""
    out = StringIO()
    call_command("demo_token", "--quiet", stdout=out)
    token, printer_id = out.getvalue().split()
    # An alert takes a print's verdict rising; an earlier print that had one is what the journey browses.
    AlertFactory(print=PrintFactory(printer=Printer.objects.get(pk=printer_id)))
    snapshot = tmp_path / "snapshot.jpg"
    snapshot.write_bytes(make_image_bytes((1280, 720)))
    return {
        # 127.0.0.1, not localhost: Node tries ::1 first, where the live server does not listen.
        "url": live_server.url.replace("://localhost:", "://127.0.0.1:"),
        "token": token,
        "printer_id": int(printer_id),
        "snapshot": snapshot,
    }


# --- TypeScript: openapi-typescript + openapi-fetch, tsc --strict --------------------------------------


def npm_installed() -> Path:
    """tests/clients/ts/node_modules as its package-lock.json pins it (npm ci only when the lock changed)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm (Node 20) is needed to check the generated TypeScript client; install Node.js and npm.")
    stamp = TS / "node_modules" / ".package-lock.sha256"
    wanted = hashlib.sha256((TS / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        run([npm, "ci", "--no-audit", "--no-fund"], cwd=TS, timeout=INSTALL_SECONDS)
        stamp.write_text(wanted)
    return TS / "node_modules" / ".bin"


@pytest.mark.slow
def test_the_typescript_client_runs_the_journey(demo):
    bin_ = npm_installed()
    node = shutil.which("node")
    assert node, "node is needed to run the generated TypeScript client"
    shutil.rmtree(TS / "generated", ignore_errors=True)
    shutil.rmtree(TS / "build", ignore_errors=True)

    run([bin_ / "openapi-typescript", f"{demo['url']}/api/schema/", "-o", "generated/schema.ts", *TS_OPTIONS], cwd=TS)
    run([bin_ / "tsc", "-p", "tsconfig.json"], cwd=TS)  # strict (tsconfig.json): any type error fails here
    output = run(
        [node, "build/journey.js"],
        cwd=TS,
        env={
            "BASE_URL": demo["url"],
            "ACCESS_TOKEN": demo["token"],
            "PRINTER_ID": str(demo["printer_id"]),
            "SNAPSHOT": str(demo["snapshot"]),
        },
    )

    assert output.strip() == "journey complete"
    assert Print.objects.get(printer_id=demo["printer_id"], filename="benchy.gcode").status == "finished"


# --- Python: openapi-python-client -----------------------------------------------------------------------


@pytest.fixture
def python_client(demo, tmp_path, monkeypatch):
    """The package openapi-python-client generates from the live schema, imported."""
    run(
        [
            *(Path(sys.executable).parent / "openapi-python-client", "generate"),
            *("--url", f"{demo['url']}/api/schema/", "--config", CLIENTS / "python" / "config.yaml"),
            *("--meta", "none", "--output-path", PYTHON_PACKAGE),
        ],
        cwd=tmp_path,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PYTHON_PACKAGE)
    for name in [name for name in sys.modules if name.split(".")[0] == PYTHON_PACKAGE]:
        del sys.modules[name]


@pytest.fixture
def connect(demo, python_client):
    """A client of the live server with this token; its connections closed at the end of the test."""
    opened = []

    def connect(token: str):
        client = python_client.AuthenticatedClient(base_url=demo["url"], token=token, raise_on_unexpected_status=True)
        opened.append(client.get_httpx_client())
        return client

    yield connect
    for connection in opened:  # a kept-alive connection holds a server thread and its database connection
        connection.close()


@pytest.mark.slow
def test_the_python_client_runs_the_journey(demo, connect):
    def api(module: str):
        return importlib.import_module(f"{PYTHON_PACKAGE}.api.{module}")

    models = importlib.import_module(f"{PYTHON_PACKAGE}.models")
    file_ = importlib.import_module(f"{PYTHON_PACKAGE}.types").File
    client = connect(demo["token"])
    image = demo["snapshot"].read_bytes()

    def snapshot(data: bytes):
        upload = file_(payload=io.BytesIO(data), file_name="snapshot.jpg", mime_type="image/jpeg")
        return models.PredictRequest(img=upload)

    printers = api("printers.printers_list").sync(client=client)
    printer = next(printer for printer in printers if printer.id == demo["printer_id"])

    start = api("printers.printers_start_print")
    started = start.sync(printer.id, client=client, body=models.StartPrintInputRequest(filename="benchy.gcode"))
    assert started.succeeded
    current = started.printer.current_print
    assert current.filename == "benchy.gcode"
    conflict = start.sync_detailed(printer.id, client=client, body=models.StartPrintInputRequest(filename="x.gcode"))
    assert (conflict.status_code, conflict.parsed.code) == (400, "already_printing")
    assert conflict.parsed.details.additional_properties == {"non_field_errors": [conflict.parsed.error]}

    predict = api("printers.printers_predict")
    result = predict.sync(printer.id, client=client, body=snapshot(image)).result
    assert result.temporal_stats.prediction_num == 1
    assert isinstance(result.verdict, models.VerdictEnum)
    assert all(isinstance(confidence, float) and len(box) == 4 for confidence, box in result.detections)
    junk = predict.sync_detailed(printer.id, client=client, body=snapshot(b"not an image"))
    assert (junk.status_code, junk.parsed.code, list(junk.parsed.details.additional_properties)) == (
        400,
        "invalid",
        ["img"],
    )

    history = api("prints.prints_predictions_list").sync(current.id, client=client)
    assert (history.count, history.results[0].verdict) == (1, result.verdict)
    assert api("printers.printers_retrieve").sync(printer.id, client=client).status.verdict == result.verdict

    prints = api("prints.prints_list").sync(client=client).results
    list_alerts = api("prints.prints_alerts_list")
    alerts = [alert for each in prints for alert in list_alerts.sync(each.id, client=client).results]
    picture = api("alerts.alerts_snapshot_retrieve").sync(alerts[0].id, client=client)
    assert picture.payload.read(2) == b"\xff\xd8"  # a JPEG, as bytes

    finish = api("printers.printers_finish_print")
    finished = finish.sync(printer.id, client=client, body=models.FinishPrintInputRequest())
    assert finished.succeeded
    assert finished.printer.current_print is None
    late = predict.sync_detailed(printer.id, client=client, body=snapshot(image))
    assert (late.status_code, late.parsed.code) == (404, "not_found")
    assert finish.sync_detailed(printer.id, client=client).status_code == 404

    refused = api("printers.printers_list").sync_detailed(client=connect("not-a-token"))
    assert (refused.status_code, refused.parsed.code) == (401, "invalid_token")
