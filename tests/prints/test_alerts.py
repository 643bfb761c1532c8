"""Alerts through predict, the wiring: the model's verdict rising records the alert with the frame and
its detections; a failed transaction leaves neither row nor file; a storage that cannot write never
fails the predict. The rules themselves (re-arming, bounds, false alarms, quota, snapshots, webhooks)
are tested on print_escalate directly, in tests/prints/test_escalation.py."""

import errno
import logging

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError, connection

from detection.models import Prediction
from prints.models import Alert
from prints.services import alerts
from tests.factories import AccessTokenFactory
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


def predict(client, printer, images):
    for image in images:
        response = client.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(image)}, format="multipart")
        assert response.status_code == 200, response.content


def levels():
    return list(Alert.objects.order_by("created_at", "id").values_list("level", flat=True))


def events():
    return list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))


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
    assert events() == ["print.started", "print.warning", "print.failure"]


def test_when_the_transaction_fails_after_the_files_are_written_neither_row_nor_files_remain(
    client, printer, monkeypatch, media_root
):
    predict(client, printer, UP_TO_THE_FIRST_WARNING[:-1])
    predictions = Prediction.objects.count()

    def enqueue_fails(*args, **kwargs):
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(alerts, "print_alert_events_enqueue", enqueue_fails)  # runs after the alert's row
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


def test_when_the_commit_fails_after_the_alert_is_recorded_its_file_is_deleted(
    client, printer, monkeypatch, media_root
):
    predict(client, printer, UP_TO_THE_FIRST_WARNING[:-1])
    predictions = Prediction.objects.count()
    recorded = []

    def escalate(**kwargs):
        recorded.append(alerts.print_escalate(**kwargs))
        return recorded[-1]

    release = connection.savepoint_commit

    def release_fails_once_recorded(sid):  # predict's transaction ends after print_escalate returns
        if recorded and recorded[-1] is not None:
            recorded.append(None)
            raise DatabaseError("the commit fails")
        release(sid)

    monkeypatch.setattr("prints.services.predict.print_escalate", escalate)
    monkeypatch.setattr(connection, "savepoint_commit", release_fails_once_recorded)
    response = client.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(WHITE)}, format="multipart")

    assert response.status_code == 500
    assert recorded[0].snapshot  # the alert's file was written ...
    assert not Alert.objects.exists()
    assert Prediction.objects.count() == predictions
    assert list((media_root / "alerts").iterdir()) == []  # ... and deleted


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
    (record,) = [r for r in caplog.records if r.name == "prints.services.alerts"]
    assert record.levelno == logging.ERROR
    assert "snapshot" in record.getMessage()
    assert record.exc_info is not None  # with the storage's error
