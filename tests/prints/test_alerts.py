"""Alerts: recorded when a print's verdict rises into a level, with the frame's snapshot; re-armed when
it drops back; silenced by a false alarm; never half-written."""

import io
import re

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from detection.models import Prediction
from detection.temporal import TemporalStats
from prints import services
from prints.models import Alert, Print
from tests.conftest import bearer_client, make_image_bytes, snapshot
from tests.factories import AccessTokenFactory
from tests.onnx_models import write_detector_model
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_set

pytestmark = pytest.mark.django_db

BLACK = make_image_bytes(color=(0, 0, 0), image_format="PNG")
# Twice the largest side kept, so the snapshot is downscaled (to 1280x960).
WHITE = make_image_bytes(size=(2560, 1920), image_format="JPEG")
# With the one-box model and sensitivity 2: ok for 31 frames, warning at the 32nd, failure at the 34th.
RISE = [BLACK] * 30 + [WHITE] * 10
UP_TO_THE_FIRST_WARNING = RISE[:32]
# Back to ok (the verdict passes through warning on the way down: a fall records nothing).
FALL = [BLACK] * 30
# The model's box, (0.2, 0.2)-(0.4, 0.4) of the frame, in pixels of the 1280x960 snapshot.
BOX = (256, 192, 512, 384)


@pytest.fixture
def one_box_model(detection_settings, tmp_path):
    """White snapshots score p = 1 with one box, black ones p = 0."""
    detection_settings["MODEL_PATH"] = write_detector_model(
        tmp_path / "one.onnx", boxes=[[0.2, 0.2, 0.4, 0.4]], confs=[1.0], scale_by_brightness=True
    )


@pytest.fixture
def client(user, printer, one_box_model):
    """The owner's client, through an app with a webhook; the printer at sensitivity 2, printing."""
    token = AccessTokenFactory(user=user)
    webhook_set(application=token.application, url="https://app.example.com/hooks")
    client = bearer_client(token.raw_token)
    printer.sensitivity = 2.0
    printer.save()
    client.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    return client


def predict(client, printer, images):
    for image in images:
        response = client.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(image)}, format="multipart")
        assert response.status_code == 200, response.content


def levels():
    return list(Alert.objects.order_by("created_at", "id").values_list("level", flat=True))


def events():
    return list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_rising_verdict_records_a_warning_then_a_failure_alert_with_the_frame(client, printer):
    predict(client, printer, RISE)

    warning, failure = Alert.objects.order_by("created_at")
    assert (warning.level, failure.level) == ("warning", "failure")
    print_ = printer.prints.get()
    assert (print_.warning_at, print_.failure_at) == (warning.created_at, failure.created_at)
    for alert in (warning, failure):
        prediction = Prediction.objects.get(print=print_, created_at=alert.created_at)
        assert alert.p == prediction.p == 1.0
        assert alert.temporal_stats == {
            "ewm_mean": prediction.ewm_mean,
            "rolling_mean_short": prediction.rolling_mean_short,
            "rolling_mean_long": prediction.rolling_mean_long,
            "prediction_num": prediction.prediction_num,
            "prediction_num_lifetime": prediction.prediction_num_lifetime,
        }
        assert alert.detections == prediction.detections
        ((confidence, box),) = alert.detections
        assert (confidence, box) == (1.0, pytest.approx([768, 576, 512, 384]))  # in pixels of the 2560x1920 frame
        assert (alert.frame_width, alert.frame_height) == (2560, 1920)
        assert (alert.feedback, alert.feedback_at) == ("", None)
    assert [Prediction.objects.get(created_at=a.created_at).prediction_num for a in (warning, failure)] == [32, 34]


def test_the_snapshot_is_stored_downscaled_and_the_tagged_copy_has_the_box_drawn(client, printer):
    predict(client, printer, UP_TO_THE_FIRST_WARNING)

    alert = Alert.objects.get()
    names = [alert.snapshot.name, alert.tagged.name]
    assert all(re.fullmatch(r"alerts/[0-9a-f]{32}\.jpg", name) for name in names)
    assert names[0] != names[1]
    assert all(default_storage.exists(name) for name in names)
    plain, tagged = (decoded(default_storage.open(name).read()) for name in names)
    assert (plain.format, tagged.format) == ("JPEG", "JPEG")
    assert plain.size == tagged.size == (1280, 960)
    left, top, right, bottom = BOX
    middle_y = (top + bottom) // 2
    for x, y in [(left + 1, middle_y), (right - 1, middle_y), ((left + right) // 2, bottom - 1)]:
        assert min(plain.getpixel((x, y))) > 240  # white
        red, green, blue = tagged.getpixel((x, y))  # the box's outline
        assert red > 200
        assert max(green, blue) < 80
    for x, y in [((left + right) // 2, middle_y), (1000, 800), (50, 900)]:
        assert all(abs(a - b) <= 8 for a, b in zip(plain.getpixel((x, y)), tagged.getpixel((x, y)), strict=True))
    # The confidence is written above the box: a red label with white text.
    label = np.asarray(tagged.crop((left, top - 20, left + 40, top)))
    assert ((label[..., 0] > 200) & (label[..., 1] < 80)).any()


def test_each_alert_queues_its_webhook_with_a_signed_snapshot_link(client, printer):
    predict(client, printer, RISE)

    warning, failure = Alert.objects.order_by("created_at")
    deliveries = WebhookDelivery.objects.order_by("id")
    assert events() == ["print.started", "print.warning", "print.failure"]
    for delivery, alert in zip(deliveries[1:], (warning, failure), strict=True):
        data = delivery.payload["data"]
        assert set(data["alert"]) == {"id", "level", "snapshot_url"}
        assert (data["alert"]["id"], data["alert"]["level"]) == (alert.pk, alert.level)
        url = data["alert"]["snapshot_url"]
        assert url.startswith(f"http://testserver/api/v1/alerts/{alert.pk}/snapshot/?signature=")
        assert data["prediction"]["temporal_stats"] == alert.temporal_stats
        assert data["print"]["warning_at"] == warning.created_at.isoformat()
        response = APIClient().get(url)  # no token: the signature lets it in
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content) == default_storage.open(alert.tagged.name).read()


def test_alerts_and_their_webhooks_re_arm_after_the_verdict_drops_below_their_level(client, printer):
    predict(client, printer, RISE + FALL + RISE)

    assert levels() == ["warning", "failure", "warning", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.warning", "print.failure"]
    first_warning = Alert.objects.filter(level="warning").order_by("created_at").first()
    assert printer.prints.get().warning_at == first_warning.created_at  # the first time, as before


def test_a_frame_that_raises_no_alert_never_renders_an_image(client, printer, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a non-alerting frame rendered an image")

    monkeypatch.setattr(services, "alert_images_render", never)

    predict(client, printer, RISE[:31] + FALL)

    assert not Alert.objects.exists()


def test_a_false_alarm_silences_its_level_for_the_rest_of_the_print_but_not_a_higher_one(client, printer):
    predict(client, printer, UP_TO_THE_FIRST_WARNING)
    warning = Alert.objects.get()
    answer = client.post(f"/api/v1/alerts/{warning.pk}/feedback/", {"outcome": "false_alarm"}, format="json")
    assert answer.status_code == 200

    predict(client, printer, RISE[32:] + FALL + RISE)

    assert levels() == ["warning", "failure", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.failure"]
    # The next print is not silenced.
    client.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")
    client.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "b.gcode"}, format="json")
    predict(client, printer, RISE)
    next_print = printer.prints.get(filename="b.gcode")
    assert list(next_print.alerts.order_by("created_at").values_list("level", flat=True)) == ["warning", "failure"]


def test_a_false_alarm_on_a_failure_silences_failures_and_not_warnings(client, printer):
    predict(client, printer, RISE)
    failure = Alert.objects.get(level="failure")
    client.post(f"/api/v1/alerts/{failure.pk}/feedback/", {"outcome": "false_alarm"}, format="json")

    predict(client, printer, FALL + RISE)

    assert levels() == ["warning", "failure", "warning"]
    assert events()[-1] == "print.warning"


def test_changing_the_answer_to_failure_lifts_the_silence(client, printer):
    predict(client, printer, UP_TO_THE_FIRST_WARNING)
    warning = Alert.objects.get()
    client.post(f"/api/v1/alerts/{warning.pk}/feedback/", {"outcome": "false_alarm"}, format="json")
    client.post(f"/api/v1/alerts/{warning.pk}/feedback/", {"outcome": "failure"}, format="json")

    predict(client, printer, RISE[32:] + FALL + RISE)

    assert levels() == ["warning", "failure", "warning", "failure"]


def test_when_the_transaction_fails_after_the_files_are_written_neither_row_nor_files_remain(
    client, printer, monkeypatch, media_root
):
    predict(client, printer, UP_TO_THE_FIRST_WARNING[:-1])
    predictions = Prediction.objects.count()

    def enqueue_fails(*args, **kwargs):
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(services, "_print_event_enqueue", enqueue_fails)  # runs after the alert's row
    response = client.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(WHITE)}, format="multipart")

    assert response.status_code == 500
    assert not Alert.objects.exists()
    assert Prediction.objects.count() == predictions  # the whole prediction rolled back
    folder = media_root / "alerts"
    assert folder.is_dir()  # the files were written ...
    assert list(folder.iterdir()) == []  # ... and deleted
    monkeypatch.undo()
    predict(client, printer, [WHITE])  # the frame alerts when sent again: nothing was counted
    assert levels() == ["warning"]


def test_a_jump_from_ok_straight_to_failure_also_sends_the_first_warning_event(client, printer):
    current = Print.objects.get(printer=printer)
    created_at = timezone.now()
    prediction = Prediction.objects.create(
        print=current,
        created_at=created_at,
        p=1.0,
        verdict="failure",
        detections=[[1.0, [384.0, 288.0, 256.0, 192.0]]],
        **TemporalStats(ewm_mean=1.0, prediction_num=40, prediction_num_lifetime=40).as_dict(),
    )

    with transaction.atomic():
        services.print_escalate(
            print_=current,
            prediction=prediction,
            previous_verdict="ok",
            image_bytes=WHITE,
            base_url="https://api.example.com/",
            written=[],
        )

    assert levels() == ["failure"]
    assert events() == ["print.started", "print.warning", "print.failure"]
    current.refresh_from_db()
    assert current.warning_at == current.failure_at == created_at
