"""The owner's OAuth journey in a real headless Chromium (Debian's package, driven by Playwright).

A public app asks for access with PKCE; the owner signs in, reads the consent page, allows; the
app exchanges the code and lists printers; the owner revokes it and the token is refused. A
second run denies. Screenshots of the sign-in and consent pages go to ``SCREENSHOT_DIR``
(default ``ci-artifacts/screenshots``), where CI keeps its output.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from django.db import connections
from playwright.sync_api import Page, sync_playwright

from tests.factories import ApplicationFactory, PrinterFactory, UserFactory
from tests.oauth import code_grant, pkce_pair

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "ci-artifacts" / "screenshots")
)
PASSWORD = "correct-horse-battery-staple"
# As the machine's probe found: without these, Chromium reaches for the network at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def chromium_page(monkeypatch, *, width: int, height: int) -> Iterator[Page]:
    """A page of a fresh headless Chromium with this viewport, closed with its ORM connections."""
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's guard against ORM use inside a loop is lifted here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        yield context.new_page()
        browser.close()
        # ORM calls made while Playwright runs get their own connection (asgiref sees another
        # context); close it here, or it outlives the test database.
        connections.close_all()


@pytest.fixture
def page(monkeypatch):
    with chromium_page(monkeypatch, width=900, height=700) as page:
        yield page


@pytest.fixture
def journey(live_server):
    """A printer owner with a printer, and a public app whose redirect URI is on the live server."""
    owner = UserFactory(username="maker")
    owner.set_password(PASSWORD)
    owner.save()
    PrinterFactory(owner=owner, name="Prusa in the garage")
    redirect_uri = f"{live_server.url}/app/callback"
    application = ApplicationFactory(name="Spaghetti Watcher", redirect_uris=redirect_uri, user=UserFactory())
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": application.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "read write",
            "state": "e2e-state-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return {
        "base": live_server.url,
        "authorize_url": f"{live_server.url}/o/authorize/?{query}",
        "redirect_uri": redirect_uri,
        "client_id": application.client_id,
        "verifier": verifier,
    }


def sign_in_and_reach_consent(page, journey, *, screenshots=False):
    page.goto(journey["authorize_url"])
    assert page.url.startswith(f"{journey['base']}/accounts/login/")
    if screenshots:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "sign-in.png", full_page=True)
    page.fill("#id_username", "maker")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/o/authorize/**")
    heading = page.inner_text("h1")
    assert heading == "Allow Spaghetti Watcher to use your printers?"
    scopes = page.inner_text("ul.scopes")
    assert "See your printers and prints" in scopes
    assert "Start and finish prints and send snapshots for failure detection" in scopes
    if screenshots:
        page.screenshot(path=SCREENSHOTS / "consent.png", full_page=True)


def test_owner_allows_the_app_then_revokes_it(page, journey):
    sign_in_and_reach_consent(page, journey, screenshots=True)

    page.click("button[name=allow]")
    page.wait_for_url(f"{journey['redirect_uri']}?**")
    query = parse_qs(urlparse(page.url).query)
    assert query["state"] == ["e2e-state-123"]

    tokens = requests.post(
        f"{journey['base']}/o/token/",
        data=code_grant(journey["client_id"], query["code"][0], journey["verifier"], journey["redirect_uri"]),
        timeout=10,
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    printers = requests.get(f"{journey['base']}/api/v1/printers/", headers=bearer, timeout=10)
    assert [p["name"] for p in printers.json()] == ["Prusa in the garage"]

    page.goto(f"{journey['base']}/apps/connected/")
    assert "Spaghetti Watcher" in page.inner_text("table")
    page.screenshot(path=SCREENSHOTS / "connected-apps.png", full_page=True)
    page.click("button[aria-label='Revoke Spaghetti Watcher']")
    page.wait_for_selector("text=Access revoked.")

    assert requests.get(f"{journey['base']}/api/v1/printers/", headers=bearer, timeout=10).status_code == 401
    refreshed = requests.post(
        f"{journey['base']}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": journey["client_id"],
        },
        timeout=10,
    )
    assert refreshed.status_code == 400


def test_owner_denies_the_app(page, journey):
    sign_in_and_reach_consent(page, journey)

    page.click("button[name=deny]")
    page.wait_for_url(f"{journey['redirect_uri']}?**")

    query = parse_qs(urlparse(page.url).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["e2e-state-123"]
    assert "code" not in query
