"""``docs/integrating.md`` runs: every Python block, in order, as one session against a live server.

The harness plays the parts the guide leaves to the world: it registers the confidential app and the
owner's printer, answers the guide's ``input()`` by signing the owner in and pressing Allow on the
real consent page (as a browser would, over HTTP), resolves the webhook's host to a public address
(no DNS here; nothing connects to it), and then hands the deliveries the server queued, signed by the
server's own code, to the guide's receiver. Everything runs on the loopback; each loop is bounded.
"""

import re
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from django.db import connections
from oauth2_provider.models import Application

from accounts.services import oauth_application_register, owner_create
from tests import oauth
from tests.factories import OWNER_PASSWORD, PrinterFactory
from tests.fixtures.images import make_image_bytes
from tests.webhooks.helpers import ScriptedResolver
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_delivery_request

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "integrating.md"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
WEBHOOK_URL = "https://hooks.example.com/obico"
PUBLIC_ADDRESS = "93.184.215.14"  # example.com's; the scripted resolver's answer for the webhook host
# A failing print as the tests' tiny model sees it: dark frames, then bright ones (tests/prints/test_alerts.py).
DARK = make_image_bytes(color=(0, 0, 0), image_format="PNG")
BRIGHT = make_image_bytes(size=(2560, 1920), image_format="JPEG")
FAILING_PRINT = [DARK] * 30 + [BRIGHT] * 10

pytestmark = pytest.mark.django_db(transaction=True)


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, re.DOTALL | re.MULTILINE)


def owner_allows(authorization_url: str) -> str:
    """The owner's browser: sign in, Allow on the consent page; returns where the server sends it back."""
    with requests.Session() as browser:
        _consent, location = oauth.owner_allows(browser, authorization_url, username="maker", password=OWNER_PASSWORD)
    return location


@pytest.fixture
def guide_world(live_server, monkeypatch):
    """The owner with a printer, the registered confidential app, and the environment the guide reads."""
    owner = owner_create(username="maker", email="", password=OWNER_PASSWORD)
    PrinterFactory(owner=owner, name="Prusa in the garage")
    application, secret = oauth_application_register(
        user=owner, name="Spaghetti Watcher", redirect_uris=[REDIRECT_URI], client_type=Application.CLIENT_CONFIDENTIAL
    )
    port = urlparse(live_server.url).port
    for name, value in {
        "BASE_URL": f"http://127.0.0.1:{port}",  # loopback only
        "CLIENT_ID": application.client_id,
        "CLIENT_SECRET": secret,
        "REDIRECT_URI": REDIRECT_URI,
        "WEBHOOK_URL": WEBHOOK_URL,
        "SNAPSHOT": str(ROOT / "examples" / "snapshot.jpg"),
        "SNAPSHOT_INTERVAL": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(socket, "getaddrinfo", ScriptedResolver({"hooks.example.com": [[PUBLIC_ADDRESS]]}))
    # The guide's sessions keep their connections alive, each holding a live-server thread; with
    # CONN_MAX_AGE that thread would also hold a database connection past the test database's end.
    monkeypatch.setitem(connections.databases["default"], "CONN_MAX_AGE", 0)
    return application


def run_guide(monkeypatch) -> dict:
    """Every block of the guide in one namespace, its ``input()`` answered by the owner's browser."""
    session: dict = {"__name__": "integrating_guide"}
    monkeypatch.setattr("builtins.input", lambda prompt="": owner_allows(session["authorization_url"]))
    blocks = python_blocks(GUIDE.read_text())
    assert len(blocks) >= 7
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{GUIDE.name}, block {number}", "exec"), session)  # noqa: S102 - the guide's code
    return session


def deliveries() -> list[tuple[dict, bytes]]:
    """What the server would send to the webhook, oldest first: headers and body, signed by its own code."""
    queued = WebhookDelivery.objects.select_related("webhook").order_by("id")
    requests_ = [webhook_delivery_request(delivery=delivery) for delivery in queued]
    return [(dict(request.headers), request.body) for request in requests_]


@pytest.mark.slow
def test_every_block_of_the_guide_runs_and_its_receiver_checks_the_servers_deliveries(guide_world, monkeypatch, capsys):
    session = run_guide(monkeypatch)
    out = capsys.readouterr().out

    assert "Scopes granted: read write" in out
    assert "finished 3 snapshots" in out
    assert [event for (event,) in WebhookDelivery.objects.order_by("id").values_list("event")][:2] == [
        "print.started",
        "print.finished",
    ]

    # A print that fails, through the guide's own client, queues its alerts' events too (at the
    # highest sensitivity the tiny model's bright frames reach failure, not only warning).
    client, api, printer_id = session["client"], session["API"], session["printer_id"]
    client.patch(f"{api}/printers/{printer_id}/", json={"sensitivity": 2.0}).raise_for_status()
    client.post(f"{api}/printers/{printer_id}/start_print/", json={"filename": "spaghetti.gcode"}).raise_for_status()
    for frame in FAILING_PRINT:
        client.post(f"{api}/printers/{printer_id}/predict/", files={"img": frame}).raise_for_status()
    receive = session["webhook_receive"]

    sent = deliveries()
    events = [headers["X-Webhook-Event"] for headers, _ in sent]
    assert {"print.started", "print.finished", "print.warning", "print.failure"} <= set(events)
    assert [receive(headers, body) for headers, body in sent] == [200] * len(sent)
    out = capsys.readouterr().out
    assert re.search(r"Print \d+: warning; the frame: http", out)
    assert re.search(r"Print \d+: failure; the frame: http", out)
    # A redelivery is acknowledged and not handled twice; a tampered or stale one is refused.
    headers, body = sent[-1]
    assert receive(headers, body) == 200
    assert capsys.readouterr().out == ""
    assert receive(headers, body.replace(b"}", b" }", 1)) == 401
    assert receive({**headers, "X-Webhook-Id": "another-id"}, body) == 401
    assert receive(headers, body, now=int(headers["X-Webhook-Timestamp"]) + 301) == 400


def test_the_guide_documents_every_error_code_it_asserts():
    guide = GUIDE.read_text()
    table = set(re.findall(r"^\| \d{3} \| `([a-z_]+)` \|", guide, re.MULTILINE))
    asserted = set(re.findall(r'\(\d{3}, "([a-z_]+)"\)', guide))

    assert asserted
    assert asserted <= table
