"""Alerts: recorded when a print's verdict rises into a level, with the frame's snapshot; re-armed once
it has stayed below for a while; bounded per print and, for stored snapshots, per user; silenced by a
false alarm; never half-written, and never lost to a storage that cannot write."""

import errno
import io
import logging
import re
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from detection.models import Prediction
from detection.temporal import TemporalStats
from prints import services
from prints.models import Alert, Print
from tests.factories import AccessTokenFactory, AlertFactory, PrinterFactory, PrintFactory
from tests.fixtures.accounts import bearer_client
from tests.fixtures.images import make_image_bytes, snapshot
from tests.onnx_models import write_detector_model
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_set

pytestmark = pytest.mark.django_db

BLACK = make_image_bytes(color=(0, 0, 0), image_format="PNG")
# Twice the largest side kept, so the snapshot is downscaled (to 1280x960).
WHITE = make_image_bytes(size=(2560, 1920), image_format="JPEG")
# With the one-box model, the adaptive verdict at span 3 and sensitivity 1.5 (thresholds 0.35 and 0.72):
# ok for 30 frames, warning at the 31st (smoothed score 0.5), failure at the 32nd (0.75).
RISE = [BLACK] * 30 + [WHITE] * 10
UP_TO_THE_FIRST_WARNING = RISE[:31]
AFTER_THE_FIRST_WARNING = RISE[31:]
# Back to ok (the verdict passes through warning on the way down: a fall records nothing).
FALL = [BLACK] * 30
# The model's box, (0.2, 0.2)-(0.4, 0.4) of the frame, in pixels of the 1280x960 snapshot.
BOX = (256, 192, 512, 384)


@pytest.fixture
def one_box_model(detection_settings, tmp_path):
    """White snapshots score p = 1 with one box, black ones p = 0; a short span, so one white frame warns."""
    detection_settings["ADAPTIVE_SPAN"] = 3
    detection_settings["MODEL_PATH"] = write_detector_model(
        tmp_path / "one.onnx", boxes=[[0.2, 0.2, 0.4, 0.4]], confs=[1.0], scale_by_brightness=True
    )


@pytest.fixture
def client(user, printer, one_box_model):
    """The owner's client, through an app with a webhook; the printer at sensitivity 1.5, printing."""
    token = AccessTokenFactory(user=user)
    webhook_set(application=token.application, url="https://app.example.com/hooks")
    client = bearer_client(token.raw_token)
    printer.sensitivity = 1.5
    printer.save()
    client.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    return client


@pytest.fixture
def quick_rearm(settings):
    """Alerts re-arm as soon as the verdict drops: for tests about something else than re-arming."""
    settings.ALERT_REARM_SNAPSHOTS = 1
    settings.ALERT_REARM_SECONDS = 0


def predict(client, printer, images, **headers):
    for image in images:
        response = client.post(
            f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(image)}, format="multipart", **headers
        )
        assert response.status_code == 200, response.content


def rewind_history(minutes: int):
    """Move every recorded prediction ``minutes`` into the past, as if the snapshots had come slowly."""
    Prediction.objects.update(created_at=F("created_at") - timedelta(minutes=minutes))


def rises_into(level: str) -> int:
    """How many times the print's recorded verdict rose into ``level`` (from below it)."""
    order = ["ok", "warning", "failure"]
    verdicts = list(Prediction.objects.order_by("prediction_num").values_list("verdict", flat=True))
    return sum(
        1
        for before, after in zip(["ok", *verdicts], verdicts, strict=False)
        if after == level and order.index(before) < order.index(level)
    )


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
    assert [Prediction.objects.get(created_at=a.created_at).prediction_num for a in (warning, failure)] == [31, 32]


def test_one_downscaled_snapshot_is_stored_and_the_boxes_are_drawn_when_it_is_served(client, printer, media_root):
    predict(client, printer, UP_TO_THE_FIRST_WARNING)

    alert = Alert.objects.get()
    assert re.fullmatch(r"alerts/[0-9a-f]{32}\.jpg", alert.snapshot.name)
    assert [path.name for path in (media_root / "alerts").iterdir()] == [alert.snapshot.name.split("/")[1]]
    stored = default_storage.open(alert.snapshot.name).read()
    assert alert.snapshot_bytes == len(stored)
    plain = decoded(stored)
    tagged = decoded(client.get(f"/api/v1/alerts/{alert.pk}/snapshot/").content)
    assert (plain.format, tagged.format) == ("JPEG", "JPEG")
    assert plain.size == tagged.size == (1280, 960)
    left, top, right, bottom = BOX
    middle_y = (top + bottom) // 2
    for x, y in [(left + 1, middle_y), (right - 1, middle_y), ((left + right) // 2, bottom - 1)]:
        assert min(plain.getpixel((x, y))) > 240  # white: the stored copy has no box
        red, green, blue = tagged.getpixel((x, y))  # the box's outline, drawn on the way out
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
        assert url.startswith(f"http://127.0.0.1:8000/api/v1/alerts/{alert.pk}/snapshot/?signature=")
        assert data["prediction"]["temporal_stats"] == alert.temporal_stats
        assert data["print"]["warning_at"] == warning.created_at.isoformat()
        response = APIClient().get(url)  # no token: the signature lets it in
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert decoded(response.content).size == (1280, 960)


def test_snapshot_links_are_built_from_the_public_base_url_whatever_host_the_predict_came_on(client, printer, settings):
    settings.PUBLIC_BASE_URL = "https://print.example.com"

    predict(client, printer, UP_TO_THE_FIRST_WARNING, HTTP_HOST="localhost:1")

    alert = Alert.objects.get()
    hooked = WebhookDelivery.objects.get(event="print.warning").payload["data"]["alert"]["snapshot_url"]
    listed = client.get(f"/api/v1/prints/{alert.print_id}/alerts/", HTTP_HOST="localhost:1").json()["results"]
    for url in (hooked, listed[0]["snapshot_url"]):
        assert url.startswith(f"https://print.example.com/api/v1/alerts/{alert.pk}/snapshot/?signature=")


def test_alerts_and_their_webhooks_re_arm_once_the_verdict_has_stayed_below_for_the_set_snapshots_and_time(
    client, printer, settings
):
    settings.ALERT_REARM_SNAPSHOTS = 20
    settings.ALERT_REARM_SECONDS = 300
    predict(client, printer, RISE + FALL)
    rewind_history(minutes=6)  # the verdict last stood at warning and failure over five minutes ago

    predict(client, printer, RISE)

    assert levels() == ["warning", "failure", "warning", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.warning", "print.failure"]
    first_warning = Alert.objects.filter(level="warning").order_by("created_at").first()
    assert printer.prints.get().warning_at == first_warning.created_at  # the first time, as before


def test_an_alert_does_not_re_arm_within_the_set_time_however_many_clean_snapshots_came(client, printer, settings):
    settings.ALERT_REARM_SNAPSHOTS = 20
    settings.ALERT_REARM_SECONDS = 300

    predict(client, printer, RISE + FALL + RISE)

    assert rises_into("warning") == 2
    assert levels() == ["warning", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure"]


def test_an_alert_does_not_re_arm_before_the_set_number_of_snapshots_however_long_ago(client, printer, settings):
    settings.ALERT_REARM_SNAPSHOTS = 1000
    settings.ALERT_REARM_SECONDS = 300
    predict(client, printer, RISE + FALL)
    rewind_history(minutes=60)

    predict(client, printer, RISE)

    assert levels() == ["warning", "failure"]


def test_a_snapshot_is_stored_smaller_until_it_fits_alert_snapshot_max_bytes(client, printer, settings):
    settings.ALERT_SNAPSHOT_MAX_BYTES = 1  # no JPEG fits: it is stored at the smallest side, 320 px

    predict(client, printer, UP_TO_THE_FIRST_WARNING)

    alert = Alert.objects.get()
    assert decoded(default_storage.open(alert.snapshot.name).read()).size == (320, 240)
    assert (alert.frame_width, alert.frame_height) == (2560, 1920)


def test_frames_alternating_between_failing_and_clean_alert_once_per_level(client, printer, media_root):
    # A white frame after eight black ones warns (excess 0.5, under the failure's 0.72); two black ones
    # later the verdict is ok again.
    flapping = RISE[:32] + ([BLACK] * 8 + [WHITE]) * 12

    predict(client, printer, flapping)

    assert rises_into("warning") > 3  # the verdict rose into warning again and again ...
    assert levels() == ["warning", "failure"]  # ... and alerted once per level
    assert len(list((media_root / "alerts").iterdir())) == 2


def test_a_print_records_at_most_alerts_max_per_print_of_each_level(client, printer, settings, quick_rearm):
    settings.ALERTS_MAX_PER_PRINT = 2

    predict(client, printer, (RISE + FALL) * 3)

    assert levels() == ["warning", "failure", "warning", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.warning", "print.failure"]
    assert printer.prints.get().failure_at == Alert.objects.filter(level="failure").order_by("created_at")[0].created_at


def test_a_frame_that_raises_no_alert_never_renders_an_image(client, printer, monkeypatch):
    rendered = []  # recorded, not raised: a failed render is logged and swallowed, by design
    monkeypatch.setattr(services, "alert_snapshot_render", lambda *args, **kwargs: rendered.append(args))

    predict(client, printer, RISE[:30] + FALL)

    assert rendered == []
    assert not Alert.objects.exists()


def test_a_false_alarm_silences_its_level_for_the_rest_of_the_print_but_not_a_higher_one(client, printer, quick_rearm):
    predict(client, printer, UP_TO_THE_FIRST_WARNING)
    warning = Alert.objects.get()
    answer = client.post(f"/api/v1/alerts/{warning.pk}/feedback/", {"outcome": "false_alarm"}, format="json")
    assert answer.status_code == 200

    predict(client, printer, AFTER_THE_FIRST_WARNING + FALL + RISE)

    assert levels() == ["warning", "failure", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.failure"]
    # The next print is not silenced.
    client.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")
    client.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "b.gcode"}, format="json")
    predict(client, printer, RISE)
    next_print = printer.prints.get(filename="b.gcode")
    assert list(next_print.alerts.order_by("created_at").values_list("level", flat=True)) == ["warning", "failure"]


def test_a_false_alarm_on_a_failure_silences_failures_and_not_warnings(client, printer, quick_rearm):
    predict(client, printer, RISE)
    failure = Alert.objects.get(level="failure")
    client.post(f"/api/v1/alerts/{failure.pk}/feedback/", {"outcome": "false_alarm"}, format="json")

    predict(client, printer, FALL + RISE)

    assert levels() == ["warning", "failure", "warning"]
    assert events()[-1] == "print.warning"


def test_changing_the_answer_to_failure_lifts_the_silence(client, printer, quick_rearm):
    predict(client, printer, UP_TO_THE_FIRST_WARNING)
    warning = Alert.objects.get()
    client.post(f"/api/v1/alerts/{warning.pk}/feedback/", {"outcome": "false_alarm"}, format="json")
    client.post(f"/api/v1/alerts/{warning.pk}/feedback/", {"outcome": "failure"}, format="json")

    predict(client, printer, AFTER_THE_FIRST_WARNING + FALL + RISE)

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
            print_=current, prediction=prediction, previous_verdict="ok", image_bytes=WHITE, written=[]
        )

    assert levels() == ["failure"]
    assert events() == ["print.started", "print.warning", "print.failure"]
    current.refresh_from_db()
    assert current.warning_at == current.failure_at == created_at


# --- the storage: a quota per user, and a storage that cannot write ---------------------------------------


def test_past_the_owners_storage_quota_an_alert_is_recorded_and_sent_without_a_snapshot(
    client, printer, user, settings, media_root
):
    settings.ALERT_STORAGE_QUOTA_BYTES = 50_000
    earlier = AlertFactory(print=PrintFactory(printer=printer, status="finished"), snapshot_bytes=50_000)
    stored_before = sorted(path.name for path in (media_root / "alerts").iterdir())

    predict(client, printer, UP_TO_THE_FIRST_WARNING)

    alert = Alert.objects.exclude(pk=earlier.pk).get()
    assert (alert.level, alert.snapshot.name, alert.snapshot_bytes) == ("warning", "", 0)
    assert alert.detections == Prediction.objects.get(created_at=alert.created_at).detections
    assert sorted(path.name for path in (media_root / "alerts").iterdir()) == stored_before  # nothing written
    assert WebhookDelivery.objects.get(event="print.warning").payload["data"]["alert"] == {
        "id": alert.pk,
        "level": "warning",
        "snapshot_url": None,
    }
    listed = client.get(f"/api/v1/prints/{alert.print_id}/alerts/").json()["results"]
    assert listed[0]["snapshot_url"] is None
    response = client.get(f"/api/v1/alerts/{alert.pk}/snapshot/")
    assert response.status_code == 404
    assert response.json() == {"error": "This alert was recorded without a snapshot.", "code": "not_found"}


def test_the_quota_counts_the_owners_own_snapshots_only(client, printer, settings):
    settings.ALERT_STORAGE_QUOTA_BYTES = 50_000
    AlertFactory(print=PrintFactory(printer=PrinterFactory()), snapshot_bytes=50_000)  # another user's

    predict(client, printer, UP_TO_THE_FIRST_WARNING)

    alert = Alert.objects.get(print__printer=printer)
    assert alert.snapshot.name
    assert alert.snapshot_bytes > 0


def test_a_snapshot_that_would_pass_the_quota_is_not_stored(client, printer, settings):
    settings.ALERT_STORAGE_QUOTA_BYTES = 1000  # under one snapshot of the white frame

    predict(client, printer, UP_TO_THE_FIRST_WARNING)

    assert Alert.objects.values_list("level", "snapshot", "snapshot_bytes").get() == ("warning", "", 0)


class FullDiskStorage(FileSystemStorage):
    """A filesystem storage on a full disk: every write fails as the operating system says so."""

    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_snapshot_the_storage_cannot_save_never_fails_the_predict_or_loses_the_alert(
    client, printer, settings, caplog
):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.FullDiskStorage"}}
    predict(client, printer, UP_TO_THE_FIRST_WARNING[:-1])

    with caplog.at_level(logging.ERROR, logger="prints.services"):
        response = client.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(WHITE)}, format="multipart")

    assert response.status_code == 200
    assert response.json()["result"]["verdict"] == "warning"
    assert response.json()["result"]["temporal_stats"]["prediction_num"] == 31  # counted
    alert = Alert.objects.get()
    assert (alert.level, alert.snapshot.name, alert.snapshot_bytes) == ("warning", "", 0)
    assert printer.prints.get().warning_at == alert.created_at
    assert WebhookDelivery.objects.get(event="print.warning").payload["data"]["alert"]["snapshot_url"] is None
    (record,) = [r for r in caplog.records if r.name == "prints.services"]
    assert record.levelno == logging.ERROR
    assert "snapshot" in record.getMessage()
    assert record.exc_info is not None  # with the storage's error
