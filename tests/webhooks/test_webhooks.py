"""Webhooks: the app's own endpoint, signed delivery to a real local receiver, retries, the outbox."""

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import Application

from tests.factories import AccessTokenFactory, ApplicationFactory
from tests.fixtures.accounts import app_client, bearer_client
from tests.fixtures.images import make_image_bytes, snapshot
from tests.onnx_models import write_detector_model
from tests.webhooks.helpers import Receiver
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import retry_delay, webhook_deliveries_claim, webhook_set
from webhooks.signing import sign, verify
from webhooks.worker import webhook_deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": True}
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def app_with_webhook(receiver):
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)
    webhook = webhook_set(application=application, url=receiver.url, secret="s3cret-s3cret-s3cret")
    return application, webhook


@pytest.fixture
def app_api(app_with_webhook, user):
    """The user's client, through the application that has the webhook."""
    application, _ = app_with_webhook
    return bearer_client(AccessTokenFactory(user=user, application=application).raw_token)


# --- signing (pure) --------------------------------------------------------------------------------


EVENT_ID = "b1f6e2a0-0000-4000-8000-000000000001"


def test_signature_is_hmac_sha256_of_id_timestamp_event_and_body():
    # printf '<id>.1700000000.print.started.{"a":1}' | openssl dgst -sha256 -hmac key
    signature = sign(secret="key", event_id=EVENT_ID, timestamp=1700000000, event="print.started", body=b'{"a":1}')

    assert signature == "v1=2dfea3550907a60904b72819476b8ceacb011434c97ce0ac87ae8132bbadef7b"


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"secret": "other"}, False),
        ({"body": b"y"}, False),
        ({"now": 1301}, False),  # too old: a replay after the window
        ({"event_id": "another-id"}, False),  # a replay under a new id, past the receiver's dedupe
        ({"event": "print.failure"}, False),  # a replay as another event
        ({"signature": "sha256=" + "0" * 64}, False),  # another scheme
        ({"signature": "v1=\u00e9"}, False),  # not ASCII: refused, not an error
    ],
)
def test_verify_checks_secret_id_event_body_and_age(change, valid):
    sent = {"event_id": EVENT_ID, "timestamp": 1000, "event": "print.started", "body": b"x"}
    received = {**sent, "secret": "key", "signature": sign(secret="key", **sent), "now": 1000, **change}

    assert verify(**received) is valid


@pytest.mark.parametrize(("attempts", "delay"), [(1, 10), (2, 20), (5, 160), (9, 2560), (10, 3600), (12, 3600)])
def test_retry_delay_doubles_up_to_the_cap(attempts, delay):
    assert retry_delay(attempts, base=10, cap=3600) == delay


# --- the app's own endpoint --------------------------------------------------------------------


def test_app_sets_reads_and_deletes_its_webhook_with_its_own_token(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": False}
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)
    client = app_client(application)

    created = client.put("/api/v1/webhook/", {"url": "https://app.example.com/hooks"}, format="json")
    shown = client.get("/api/v1/webhook/")
    deleted = client.delete("/api/v1/webhook/")

    assert created.status_code == 200
    assert created.json()["url"] == "https://app.example.com/hooks"
    assert len(created.json()["secret"]) >= 32
    assert shown.json()["url"] == "https://app.example.com/hooks"
    assert "secret" not in shown.json()
    assert deleted.status_code == 204
    assert not Webhook.objects.exists()
    assert client.get("/api/v1/webhook/").status_code == 404


def test_webhook_url_must_be_https_in_production(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": False}
    client = app_client(ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL))

    response = client.put("/api/v1/webhook/", {"url": "http://app.example.com/hooks"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "url: The URL must use https."


@pytest.mark.parametrize("case", ["user-token", "public-app"])
def test_only_a_confidential_apps_own_token_may_change_its_webhook(user, case):
    confidential = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)
    client = {
        "user-token": lambda: app_client(confidential, user=user),
        "public-app": lambda: app_client(ApplicationFactory(client_type=Application.CLIENT_PUBLIC)),
    }[case]()

    response = client.put("/api/v1/webhook/", {"url": "https://evil.example.com/"}, format="json")

    assert response.status_code == 403
    assert not Webhook.objects.exists()


# --- events and delivery -----------------------------------------------------------------------------


def test_print_started_is_delivered_signed_to_the_app_that_started_it(app_api, printer, receiver, app_with_webhook):
    _, webhook = app_with_webhook
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "benchy.gcode"}, format="json")
    assert receiver.requests == []  # never on the request path

    assert webhook_deliver_due() == 1

    ((headers, body),) = receiver.requests
    assert headers["X-Webhook-Event"] == "print.started"
    assert verify(
        secret=webhook.secret,
        event_id=headers["X-Webhook-Id"],
        timestamp=int(headers["X-Webhook-Timestamp"]),
        event=headers["X-Webhook-Event"],
        body=body,
        signature=headers["X-Webhook-Signature"],
        now=int(time.time()),
    )
    payload = json.loads(body)
    assert payload["id"] == headers["X-Webhook-Id"]
    assert payload["event"] == "print.started"
    assert payload["data"]["printer_id"] == printer.id
    assert payload["data"]["print"]["filename"] == "benchy.gcode"
    assert payload["data"]["print"]["status"] == "printing"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_print_finished_reports_the_outcome(app_api, printer, receiver):
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    app_api.post(f"/api/v1/printers/{printer.id}/finish_print/", {"status": "cancelled"}, format="json")

    webhook_deliver_due()

    events = [json.loads(body) for _, body in receiver.requests]
    assert [e["event"] for e in events] == ["print.started", "print.finished"]
    assert events[1]["data"]["print"]["status"] == "cancelled"
    assert events[1]["data"]["print"]["ended_at"] is not None


def test_a_refused_start_queues_no_event(app_api, printer, receiver):
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    response = app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "b.gcode"}, format="json")

    assert response.status_code == 400
    assert WebhookDelivery.objects.count() == 1


def test_an_app_without_a_webhook_gets_no_events(api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    assert not WebhookDelivery.objects.exists()


def test_an_unreachable_receiver_is_retried_with_back_off_and_then_given_up(app_api, printer, receiver, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "MAX_ATTEMPTS": 3}
    receiver.status = 503
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    started = timezone.now()

    webhook_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 503")
    assert timedelta(seconds=9) < delivery.next_attempt_at - started < timedelta(seconds=12)
    assert webhook_deliver_due() == 0  # not due yet

    for _ in range(2):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        webhook_deliver_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(receiver.requests) == 3


def test_a_receiver_that_comes_back_gets_the_event(app_api, printer, receiver):
    receiver.status = 500
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    webhook_deliver_due()

    receiver.status = 204
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhook_deliver_due()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_a_claimed_delivery_is_leased_away_from_other_workers(app_api, printer, receiver):
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    first = webhook_deliveries_claim(limit=10)
    second = webhook_deliveries_claim(limit=10)

    assert len(first) == 1
    assert second == []
    # A worker that died holding it: after the lease the delivery is due again.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert len(webhook_deliveries_claim(limit=10)) == 1


def test_private_addresses_are_refused_in_production(app_api, printer, receiver, settings):
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": False}

    webhook_deliver_due()

    delivery = WebhookDelivery.objects.get()
    assert "non-public address" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)  # the worker closes stale connections, as a long-running process must
def test_worker_command_delivers_what_is_due_and_exits_with_once(app_api, printer, receiver):
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    call_command("deliver_webhooks", "--once")

    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_worker_command_touches_its_heartbeat_file_for_the_health_check(receiver, tmp_path):
    heartbeat = tmp_path / "alive"

    call_command("deliver_webhooks", "--once", "--heartbeat", str(heartbeat))

    assert heartbeat.exists()


def test_verdict_escalation_sends_warning_and_failure_once_each(
    app_api, printer, receiver, detection_settings, tmp_path
):
    detection_settings["MODEL_PATH"] = write_detector_model(
        tmp_path / "one.onnx", boxes=[[0.2, 0.2, 0.4, 0.4]], confs=[1.0], scale_by_brightness=True
    )
    app_api.patch(f"/api/v1/printers/{printer.id}/", {"sensitivity": 2.0}, format="json")
    app_api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    black, white = make_image_bytes(color=(0, 0, 0), image_format="PNG"), make_image_bytes(image_format="PNG")
    for image in [black] * 30 + [white] * 10:
        app_api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(image)}, format="multipart")

    webhook_deliver_due()

    events = [json.loads(body)["event"] for _, body in receiver.requests]
    assert events == ["print.started", "print.warning", "print.failure"]
