"""A third-party app's journey through the compose stack's nginx, over TLS, as .ci/containers/run sets it up.

The owner signs in on the real pages and allows the app (tests/oauth.py's ``owner_allows``, as the e2e
tests do), the app exchanges the code with its PKCE verifier and client secret, lists the owner's
printers (none), creates one, starts a print and sends snapshots to the shipped model: ten clean
frames (examples/snapshot.jpg, scored 0) and then frames with spaghetti drawn over the same scene
(scored near 1), until the verdict reaches failure. The alerts must be listed by the API, and each
snapshot downloadable by its signed link without a token and by the API with one.

Environment: BASE_URL (https://127.0.0.1:PORT), CA_BUNDLE (scripts/dev-cert's certificate), CLIENT_ID,
CLIENT_SECRET, OWNER, OWNER_PASSWORD. Run with the project on PYTHONPATH. Prints one line a step and
ends with a JSON summary; exits non-zero at the first thing that is not as it should be.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from PIL import ImageDraw

from tests.oauth import REDIRECT_URI, authorize_params, owner_allows, pkce_pair

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
from make_snapshot import scene  # noqa: E402 (examples/ is not a package)

CLEAN_FRAMES = 10  # the adaptive verdict says nothing before a print's 10th snapshot (ADAPTIVE_WARMUP)
MAX_FAILING_FRAMES = 20  # at span 8, a score of 1 warns at the 4th failing frame and fails at the 7th
TIMEOUT = 60  # each gunicorn worker loads the model on its first predict


class WalkFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise WalkFailed(message)


def spaghetti_frame(seed: int) -> bytes:
    """examples/snapshot.jpg's scene with a tangle of thin orange strands over the bed: the shipped
    model scores such frames 0.9-1.0 (measured on seeds 0-2), where the clean frame scores 0."""
    picture = scene()
    draw = ImageDraw.Draw(picture)
    rng = random.Random(seed)  # noqa: S311 (a drawing, reproducible)
    for _ in range(60):
        x, y = rng.uniform(380, 650), rng.uniform(430, 640)
        points = [(x, y)]
        for _ in range(12):
            x, y = x + rng.uniform(-40, 40), y + rng.uniform(-30, 30)
            points.append((x, y))
        draw.line(points, fill=(230, 120, 40), width=2, joint="curve")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def session(ca_bundle: str) -> requests.Session:
    """Verifies the server against the stack's certificate only (REQUESTS_CA_BUNDLE would replace it)."""
    new = requests.Session()
    new.trust_env = False
    new.verify = ca_bundle
    return new


def expect(response: requests.Response, status: int, what: str) -> requests.Response:
    check(response.status_code == status, f"{what}: {response.status_code} {response.text[:500]}")
    return response


def walk(base: str, ca_bundle: str, client_id: str, client_secret: str, owner: str, password: str) -> dict:
    say = partial(print, flush=True)

    verifier, challenge = pkce_pair()
    query = authorize_params(SimpleNamespace(client_id=client_id), challenge, state="ci-walk")
    with session(ca_bundle) as browser:
        consent, location = owner_allows(
            browser, f"{base}/o/authorize/?{urlencode(query)}", username=owner, password=password
        )
    check("Spaghetti Watcher" in consent, "the consent page does not name the app")
    check(location.startswith(f"{REDIRECT_URI}?"), f"Allow sent the browser to {location}")
    callback = parse_qs(urlparse(location).query)
    check(callback.get("state") == ["ci-walk"], f"state came back as {callback.get('state')}")
    say("signed in, consented: code for", REDIRECT_URI)

    app = session(ca_bundle)
    tokens = app.post(
        f"{base}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": callback["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client_id, client_secret),
        timeout=10,
    )
    token = expect(tokens, 200, "code exchange").json()
    check(token["scope"].split() == ["read", "write"], f"scopes granted: {token['scope']}")
    app.headers["Authorization"] = f"Bearer {token['access_token']}"
    say("token:", token["token_type"], token["scope"], f"expires in {token['expires_in']} s")

    api = f"{base}/api/v1"
    check(expect(app.get(f"{api}/printers/", timeout=10), 200, "list printers").json() == [], "printers before")
    printer = expect(app.post(f"{api}/printers/", json={"name": "Prusa in the garage"}, timeout=10), 201, "create")
    printer_id = printer.json()["id"]
    listed = expect(app.get(f"{api}/printers/", timeout=10), 200, "list printers").json()
    check([p["id"] for p in listed] == [printer_id], f"printers after creating one: {listed}")
    say("printer created:", printer_id)

    started = expect(
        app.post(f"{api}/printers/{printer_id}/start_print/", json={"filename": "benchy.gcode"}, timeout=10),
        200,
        "start_print",
    ).json()
    print_id = started["printer"]["current_print"]["id"]
    say("print started:", print_id)

    clean = (EXAMPLES / "snapshot.jpg").read_bytes()
    frames = [("clean", clean)] * CLEAN_FRAMES + [
        ("spaghetti", spaghetti_frame(seed)) for seed in range(MAX_FAILING_FRAMES)
    ]
    verdicts = []
    for kind, frame in frames:
        answer = app.post(
            f"{api}/printers/{printer_id}/predict/",
            files={"img": (f"{kind}.jpg", frame, "image/jpeg")},
            timeout=TIMEOUT,
        )
        result = expect(answer, 200, f"predict #{len(verdicts) + 1}").json()["result"]
        verdicts.append(result["verdict"])
        say(f"predict #{len(verdicts)} {kind}: p={result['p']:.2f} verdict={result['verdict']}")
        if result["verdict"] == "failure":
            break
    check(verdicts[:CLEAN_FRAMES] == ["ok"] * CLEAN_FRAMES, f"the clean frames' verdicts: {verdicts}")
    check(verdicts[-1] == "failure", f"the spaghetti never reached failure: {verdicts}")

    alerts = expect(app.get(f"{api}/prints/{print_id}/alerts/", timeout=10), 200, "alerts").json()["results"]
    levels = sorted(alert["level"] for alert in alerts)
    check(levels == ["failure", "warning"], f"alerts recorded: {levels}")
    anonymous = session(ca_bundle)
    for alert in alerts:
        link = alert["snapshot_url"]
        check(bool(link) and link.startswith(f"{base}/"), f"alert {alert['id']}'s snapshot_url: {link}")
        for who, client, url in [
            ("signed link", anonymous, link),
            ("API", app, f"{api}/alerts/{alert['id']}/snapshot/"),
        ]:
            image = expect(client.get(url, timeout=10), 200, f"alert {alert['id']}'s snapshot by {who}")
            check(image.headers["Content-Type"] == "image/jpeg", f"snapshot by {who}: {image.headers['Content-Type']}")
            check(image.content[:3] == b"\xff\xd8\xff", f"snapshot by {who} is no JPEG")
        say(f"alert {alert['id']} {alert['level']}: snapshot {len(image.content)} bytes, by its link and by the API")
    unsigned = anonymous.get(link.split("?")[0], timeout=10)
    check(unsigned.status_code == 401, f"a snapshot without token or signature: {unsigned.status_code}")

    predictions = expect(app.get(f"{api}/prints/{print_id}/predictions/", timeout=10), 200, "predictions").json()
    count = predictions["count"] if isinstance(predictions, dict) else len(predictions)
    check(count == len(verdicts), f"{count} predictions recorded for {len(verdicts)} sent")
    finished = app.post(f"{api}/printers/{printer_id}/finish_print/", json={"status": "cancelled"}, timeout=10)
    check(expect(finished, 200, "finish_print").json()["printer"]["current_print"] is None, "still printing")
    say("print cancelled")
    return {"printer_id": printer_id, "print_id": print_id, "verdicts": verdicts, "alerts": levels}


def main() -> int:
    env = os.environ
    try:
        summary = walk(
            env["BASE_URL"],
            env["CA_BUNDLE"],
            env["CLIENT_ID"],
            env["CLIENT_SECRET"],
            env["OWNER"],
            env["OWNER_PASSWORD"],
        )
    except WalkFailed as failure:
        print(f"walk failed: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
