"""The alert endpoints: a print's alerts, an alert's snapshot (token or signed link), feedback on it."""

import io
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from prints.models import Alert
from prints.signing import alert_snapshot_url
from tests.factories import AlertFactory, PrinterFactory, PrintFactory

pytestmark = pytest.mark.django_db

# The development default of PUBLIC_BASE_URL: links never take the request's host.
BASE = "http://127.0.0.1:8000"
# A fixed moment for the signer's clock, so that signed links are exact in the expected JSON.
SIGNED_AT = 1_900_000_000


@pytest.fixture
def frozen_signer(monkeypatch):
    """The signer's clock (only Django's signing module's) stands still at ``SIGNED_AT``."""
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: SIGNED_AT))


def signed_at(moment: float, alert_id: int) -> str:
    """The signed link to an alert, as made at ``moment`` (Unix seconds)."""
    clock = signing.time
    signing.time = SimpleNamespace(time=lambda: moment)
    try:
        return alert_snapshot_url(alert_id=alert_id)
    finally:
        signing.time = clock


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def alert_json(alert: Alert, **changes) -> dict:
    alert.refresh_from_db()
    return {
        "id": alert.pk,
        "level": alert.level,
        "created_at": iso(alert.created_at),
        "p": alert.p,
        "temporal_stats": alert.temporal_stats,
        "detections": alert.detections,
        "feedback": alert.feedback or None,
        "snapshot_url": alert_snapshot_url(alert_id=alert.pk),
        **changes,
    }


@pytest.fixture
def print_(printer):
    return PrintFactory(printer=printer)


@pytest.fixture
def alerts(print_):
    """A warning and, a minute later, a failure of the user's print."""
    now = timezone.now()
    return [
        AlertFactory(print=print_, level="warning", created_at=now - timedelta(minutes=1)),
        AlertFactory(print=print_, level="failure", created_at=now, p=1.0),
    ]


@pytest.fixture
def theirs():
    """Another user's alert."""
    return AlertFactory(print=PrintFactory(printer=PrinterFactory()))


def stored_snapshot(alert: Alert) -> bytes:
    with default_storage.open(alert.snapshot.name) as stored:
        return stored.read()


def assert_tagged(served: bytes, alert: Alert) -> None:
    """``served`` is the alert's stored snapshot (a white 640x480 frame) with its one box drawn in red."""
    picture = Image.open(io.BytesIO(served))
    assert picture.format == "JPEG"
    assert picture.size == Image.open(io.BytesIO(stored_snapshot(alert))).size == (640, 480)
    # ALERT_DETECTIONS: the box (128, 96)-(256, 192); its left edge is red, its middle still white.
    red, green, blue = picture.convert("RGB").getpixel((129, 144))
    assert red > 200
    assert max(green, blue) < 80
    assert min(picture.convert("RGB").getpixel((192, 144))) > 240


# --- GET prints/{id}/alerts/ -------------------------------------------------------------------


def test_a_prints_alerts_are_listed_newest_first_in_the_page_envelope(api, print_, alerts, frozen_signer):
    response = api.get(f"/api/v1/prints/{print_.pk}/alerts/")

    assert response.status_code == 200
    warning, failure = alerts
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [alert_json(failure), alert_json(warning)],
    }


def test_alerts_paginate_like_the_predictions(api, print_, alerts):
    page = api.get(f"/api/v1/prints/{print_.pk}/alerts/?page_size=1&page=2").json()

    assert page["count"] == 2
    assert [item["id"] for item in page["results"]] == [alerts[0].pk]
    assert page["previous"] is not None


def test_another_users_print_alerts_are_404(api, theirs):
    response = api.get(f"/api/v1/prints/{theirs.print_id}/alerts/")

    assert response.status_code == 404
    assert response.json() == {"error": "Print not found.", "code": "not_found"}


# --- GET alerts/{id}/snapshot/ ------------------------------------------------------------------


def test_the_owners_token_gets_the_snapshot_with_its_boxes_drawn(api, alerts):
    response = api.get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == f'inline; filename="alert-{alerts[0].pk}.jpg"'
    assert response["Cache-Control"] == "private, max-age=3600"
    assert_tagged(response.content, alerts[0])
    assert min(Image.open(io.BytesIO(stored_snapshot(alerts[0]))).getpixel((129, 144))) > 240  # stored untagged


@pytest.mark.parametrize("accept", ["image/jpeg", "image/webp,image/*;q=0.8", "application/json"])
def test_the_snapshot_answers_whatever_the_client_accepts(api, alerts, accept):
    found = api.get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/", HTTP_ACCEPT=accept)
    missing = api.get("/api/v1/alerts/999999/snapshot/", HTTP_ACCEPT=accept)

    assert found.status_code == 200
    assert found["Content-Type"] == "image/jpeg"
    assert missing.status_code == 404
    assert missing.json() == {"error": "Alert not found.", "code": "not_found"}


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [("application/octet-stream", "application/octet-stream"), ("application/octet-stream, image/jpeg", "image/jpeg")],
)
def test_the_snapshot_is_octet_stream_for_a_client_that_asks_only_for_that(api, alerts, accept, content_type):
    """The schema offers the JPEG under both names, for generators that read only octet-stream as bytes."""
    response = api.get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert_tagged(response.content, alerts[0])


def test_another_users_snapshot_is_404_with_a_token(api, theirs):
    response = api.get(f"/api/v1/alerts/{theirs.pk}/snapshot/")

    assert response.status_code == 404
    assert response.json() == {"error": "Alert not found.", "code": "not_found"}


def test_no_token_and_no_signature_is_401_with_the_bearer_challenge(alerts):
    response = APIClient().get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_link_gets_the_snapshot_without_a_token(api, print_, alerts):
    url = api.get(f"/api/v1/prints/{print_.pk}/alerts/").json()["results"][0]["snapshot_url"]

    response = APIClient().get(url)

    assert url.startswith(f"{BASE}/api/v1/alerts/{alerts[1].pk}/snapshot/?signature=")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert_tagged(response.content, alerts[1])


def test_a_signed_link_opens_another_users_alert_too(theirs):
    response = APIClient().get(alert_snapshot_url(alert_id=theirs.pk))

    assert response.status_code == 200


def test_a_signed_link_opens_what_the_view_declares_and_nothing_else(alerts):
    url = alert_snapshot_url(alert_id=alerts[0].pk)

    assert APIClient().head(url).status_code == 200
    refused = APIClient().options(url)
    assert refused.status_code == 403
    assert refused.json() == {"error": "The snapshot link does not open OPTIONS requests.", "code": "permission_denied"}
    assert APIClient().post(url).status_code == 405  # no handler: DRF's answer, as with a token


def test_a_signed_link_stops_working_while_the_owner_is_deactivated(user, alerts):
    url = alert_snapshot_url(alert_id=alerts[0].pk)
    user.is_active = False
    user.save()

    response = APIClient().get(url)

    assert response.status_code == 404
    assert response.json() == {"error": "Alert not found.", "code": "not_found"}
    user.is_active = True  # reactivating restores the links, as it restores the tokens
    user.save()
    assert APIClient().get(url).status_code == 200


def test_a_signed_link_works_until_its_lifetime_ends(settings, alerts):
    settings.ALERT_SNAPSHOT_URL_MAX_AGE_SECONDS = 3600
    now = timezone.now().timestamp()

    fresh = APIClient().get(signed_at(now - 3500, alerts[0].pk))
    expired = APIClient().get(signed_at(now - 3700, alerts[0].pk))

    assert fresh.status_code == 200
    assert expired.status_code == 403
    assert expired.json() == {"error": "The snapshot link is invalid or has expired.", "code": "invalid_signature"}


def test_a_tampered_signature_is_403(alerts):
    url = alert_snapshot_url(alert_id=alerts[0].pk)
    signature = parse_qs(urlparse(url).query)["signature"][0]
    tampered = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    response = APIClient().get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/", {"signature": tampered})

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"


@pytest.mark.parametrize("signature", ["", "x", "a:b", "1" * 1000, "é:ü"])
def test_a_malformed_signature_is_403(alerts, signature):
    response = APIClient().get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/", {"signature": signature})

    assert response.status_code == 403


def test_a_signature_for_one_alert_never_opens_another(alerts):
    warning, failure = alerts
    signature = parse_qs(urlparse(alert_snapshot_url(alert_id=warning.pk)).query)["signature"][0]

    response = APIClient().get(f"/api/v1/alerts/{failure.pk}/snapshot/", {"signature": signature})

    assert response.status_code == 403


def test_a_signed_link_to_a_deleted_alert_is_404(alerts):
    url = alert_snapshot_url(alert_id=alerts[0].pk)
    alerts[0].delete()

    assert APIClient().get(url).status_code == 404


def test_an_alert_without_a_snapshot_lists_a_null_link_and_its_snapshot_is_404(api, print_, alerts):
    Alert.objects.filter(pk=alerts[0].pk).update(snapshot="", snapshot_bytes=0)  # as past the quota

    listed = api.get(f"/api/v1/prints/{print_.pk}/alerts/").json()["results"]
    response = api.get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/")

    assert [item["snapshot_url"] is None for item in listed] == [False, True]
    assert response.status_code == 404
    assert response.json() == {"error": "This alert was recorded without a snapshot.", "code": "not_found"}


def test_a_snapshot_whose_file_is_gone_is_404(api, alerts):
    default_storage.delete(alerts[0].snapshot.name)

    response = api.get(f"/api/v1/alerts/{alerts[0].pk}/snapshot/")

    assert response.status_code == 404
    assert response.json() == {"error": "The snapshot of this alert is missing.", "code": "not_found"}


# --- POST alerts/{id}/feedback/ ------------------------------------------------------------------


def test_the_owner_answers_an_alert(api, alerts, frozen_signer):
    response = api.post(f"/api/v1/alerts/{alerts[0].pk}/feedback/", {"outcome": "false_alarm"}, format="json")

    assert response.status_code == 200
    assert response.json() == alert_json(alerts[0], feedback="false_alarm")
    alerts[0].refresh_from_db()
    assert alerts[0].feedback == "false_alarm"
    assert timezone.now() - alerts[0].feedback_at < timedelta(seconds=5)


def test_sending_again_replaces_the_answer(api, alerts):
    url = f"/api/v1/alerts/{alerts[0].pk}/feedback/"
    api.post(url, {"outcome": "false_alarm"}, format="json")
    first_at = Alert.objects.get(pk=alerts[0].pk).feedback_at

    response = api.post(url, {"outcome": "failure"}, format="json")

    assert response.json()["feedback"] == "failure"
    alert = Alert.objects.get(pk=alerts[0].pk)
    assert alert.feedback == "failure"
    assert alert.feedback_at >= first_at


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"outcome": "maybe"}, 'outcome: "maybe" is not a valid choice.'),
        ({"outcome": ""}, 'outcome: "" is not a valid choice.'),
        ({}, "outcome: This field is required."),
        ({"outcome": None}, "outcome: This field may not be null."),
    ],
)
def test_an_outcome_other_than_failure_or_false_alarm_is_400_and_changes_nothing(api, alerts, body, error):
    response = api.post(f"/api/v1/alerts/{alerts[0].pk}/feedback/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["code"] == "invalid"
    assert Alert.objects.get(pk=alerts[0].pk).feedback == ""


def test_feedback_on_another_users_alert_is_404(api, theirs):
    response = api.post(f"/api/v1/alerts/{theirs.pk}/feedback/", {"outcome": "false_alarm"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": "Alert not found.", "code": "not_found"}
    theirs.refresh_from_db()
    assert theirs.feedback == ""


def test_a_signed_link_does_not_answer_an_alert(alerts):
    url = urlparse(alert_snapshot_url(alert_id=alerts[0].pk))

    response = APIClient().post(f"/api/v1/alerts/{alerts[0].pk}/feedback/?{url.query}", {"outcome": "failure"})

    assert response.status_code == 401
