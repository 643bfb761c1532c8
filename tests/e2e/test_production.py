"""The image as built: static files from the Dockerfile's own collectstatic, gunicorn with its CMD and
ENV (``DEBUG=0``) behind nginx with the repo's config, over TLS; see tests/e2e/conftest.py.

A third-party app's whole journey goes through the real pages: sign in, consent, code with PKCE,
token, list, start, predict (the shipped model), finish. With ``collectstatic`` run under
``DEBUG=1`` (no manifest), the sign-in, consent, admin and API docs pages were 500s here.
"""

import io
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from PIL import Image, ImageDraw

from tests.factories import ApplicationFactory, PrinterFactory, UserFactory
from tests.oauth import REDIRECT_URI, authorize_params, code_grant, owner_allows, pkce_pair

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"


def jpeg_snapshot() -> bytes:
    """A 640x480 webcam-sized JPEG with something on the bed."""
    image = Image.new("RGB", (640, 480), (40, 40, 45))
    draw = ImageDraw.Draw(image)
    draw.rectangle((220, 300, 420, 420), fill=(200, 200, 190))
    draw.line((250, 310, 400, 200, 300, 150), fill=(230, 120, 40), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture
def browser(production):
    """A session that trusts the test's self-signed certificate, as a browser trusts a real one."""
    with production_session(production) as session:
        yield session


def production_session(production) -> requests.Session:
    """A session that verifies the server against the test's certificate only."""
    session = requests.Session()
    # Else REQUESTS_CA_BUNDLE, where a machine sets it, would replace ``verify``.
    session.trust_env = False
    session.verify = production.certificate
    return session


def test_pages_and_static_files_answer(production, browser, static_root):
    assert (static_root / "staticfiles.json").is_file()
    for path in ["/accounts/login/", "/admin/login/", "/api/docs/", "/api/schema/"]:
        assert browser.get(f"{production.url}{path}", timeout=10).status_code == 200, path

    # The sign-in page links its stylesheet by the manifest's hashed name, which WhiteNoise serves.
    login = browser.get(f"{production.url}/accounts/login/", timeout=10).text
    stylesheet = next(part.split('"')[0] for part in login.split('href="')[1:] if part.startswith("/static/"))
    assert stylesheet.endswith(".css")
    assert stylesheet.count(".") >= 2  # name.<hash>.css
    response = browser.get(f"{production.url}{stylesheet}", timeout=10)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]


def test_plain_http_is_redirected_to_https(production):
    response = requests.get(f"{production.http_url}/accounts/login/", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://127.0.0.1/accounts/login/")


def test_oversized_body_is_refused_by_nginx_with_the_api_error(production, browser):
    response = browser.post(
        f"{production.url}/api/v1/printers/1/predict/",
        data=b"x" * (10 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "The request body is larger than the limit of 10485760 bytes.",
        "code": "too_large",
    }


def test_large_bodies_nobody_reads_still_get_our_answer(production, browser):
    """A 401 never reads the body; gunicorn used to close such a connection with the body unread.

    Closing a socket with unread data resets it, and nginx, still sending the body or not yet reading
    the answer, then gave its own 502 instead of the 401 (16 of 200 such uploads, issue 23).
    """
    upload = {"img": ("snapshot.jpg", b"\xff" * (570 * 1024), "image/jpeg")}
    answers = [
        browser.post(f"{production.url}/api/v1/printers/1/predict/", files=upload, timeout=30) for _ in range(50)
    ]

    assert [(answer.status_code, answer.headers["Content-Type"]) for answer in answers] == [
        (401, "application/json")
    ] * 50
    assert answers[0].json() == {
        "error": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_gunicorn_starts_without_errors_where_it_cannot_write_its_home(production):
    # As in the image, whose user cannot write /app. gunicorn 25's control socket wanted
    # $HOME/.gunicorn and logged "Permission denied" (here: "Not a directory") at each start.
    log = production.gunicorn_log.read_text()

    assert "Booting worker" in log
    assert [line for line in log.splitlines() if "[ERROR]" in line] == []


def test_app_journey_through_the_real_pages(production, browser):
    owner = UserFactory(username="maker")
    owner.set_password(PASSWORD)
    owner.save()
    printer = PrinterFactory(owner=owner, name="Prusa in the garage")
    app = ApplicationFactory(name="Spaghetti Watcher", redirect_uris=REDIRECT_URI)
    verifier, challenge = pkce_pair()
    base = production.url
    query = authorize_params(app, challenge, state="smoke-state")

    # Sign in: the app's authorize link sends the owner to the sign-in page, then to the consent page,
    # which names the app; Allow sends the code to the app's redirect URI.
    consent, location = owner_allows(
        browser, f"{base}/o/authorize/?{urlencode(query)}", username="maker", password=PASSWORD
    )
    assert "Spaghetti Watcher" in consent
    assert location.startswith(f"{REDIRECT_URI}?")
    callback = parse_qs(urlparse(location).query)
    assert callback["state"] == ["smoke-state"]

    # The app, not the browser, exchanges the code with its PKCE verifier.
    app_client = production_session(production)
    tokens = app_client.post(
        f"{base}/o/token/",
        data=code_grant(app.client_id, callback["code"][0], verifier),
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    app_client.headers["Authorization"] = f"Bearer {tokens.json()['access_token']}"
    printers = f"{base}/api/v1/printers"

    listed = app_client.get(f"{printers}/", timeout=10)
    assert listed.status_code == 200
    assert [(p["id"], p["name"]) for p in listed.json()] == [(printer.id, "Prusa in the garage")]

    started = app_client.post(f"{printers}/{printer.id}/start_print/", json={"filename": "benchy.gcode"}, timeout=10)
    assert started.status_code == 200, started.text
    assert started.json()["succeeded"] is True

    # The shipped model, loaded by the worker on its first predict.
    predicted = app_client.post(
        f"{printers}/{printer.id}/predict/", files={"img": ("snapshot.jpg", jpeg_snapshot(), "image/jpeg")}, timeout=60
    )
    assert predicted.status_code == 200, predicted.text
    assert 0 <= predicted.json()["result"]["p"] <= 1

    finished = app_client.post(f"{printers}/{printer.id}/finish_print/", json={"status": "success"}, timeout=10)
    assert finished.status_code == 200, finished.text
    assert finished.json()["printer"]["current_print"] is None
