"""The alert state machine (``print_escalate``) fed prepared predictions, as Obico's AlertTestCase calls
``alert_if_needed``: a rise into a level records an alert with the frame's snapshot and queues its
webhook; a level re-arms once the verdict has stayed below it for a while; alerts are bounded per
print and, for stored snapshots, per owner; a false alarm silences its level; a storage that cannot
write never loses the alert. tests/prints/test_alerts.py keeps the few that go through predict.
"""

import errno
import io
import logging
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from PIL import Image
from rest_framework.test import APIClient

from detection.models import Prediction
from detection.temporal import TemporalStats
from prints.models import Alert, Print
from prints.services import alerts
from prints.services.alerts import alert_feedback_set, print_escalate
from prints.services.lifecycle import print_finish, print_start
from tests.factories import AlertFactory, ApplicationFactory, PrinterFactory, PrintFactory
from tests.fixtures.images import make_image_bytes
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_set

pytestmark = pytest.mark.django_db

# Twice the largest side kept, so the snapshot is downscaled (to 1280x960).
WHITE = make_image_bytes(size=(2560, 1920), image_format="JPEG")
# One box, (0.2, 0.2)-(0.4, 0.4) of the frame, as predict stores it: centre and size in the frame's pixels.
DETECTIONS = [[1.0, [768.0, 576.0, 512.0, 384.0]]]
# The box in pixels of the 1280x960 snapshot.
BOX = (256, 192, 512, 384)
START = datetime(2026, 1, 1, 12, tzinfo=UTC)
# The verdicts of a print that rises into warning, then failure; and falls back to ok.
RISE = ["ok", "warning", "failure"]


class Feed:
    """One print's predictions, a verdict at a time, each escalated as predict does: under a transaction,
    with the print's verdict before it (``""`` before the first), ``every`` apart."""

    def __init__(self, print_: Print, every: timedelta = timedelta(seconds=10)):
        self.print_ = print_
        self.every = every
        self.num = 0
        self.at = START
        self.verdict = ""

    def predict(self, verdict: str) -> Prediction:
        """Record the next prediction, of ``verdict``, as predict does before it escalates."""
        self.num += 1
        self.at += self.every
        p = {"ok": 0.0, "warning": 0.6, "failure": 1.0}[verdict]
        return Prediction.objects.create(
            print=self.print_,
            created_at=self.at,
            p=p,
            verdict=verdict,
            detections=DETECTIONS,
            **TemporalStats(ewm_mean=p, prediction_num=self.num, prediction_num_lifetime=self.num).as_dict(),
        )

    def send(self, *verdicts: str) -> list[Alert | None]:
        """Predict and escalate each verdict in turn; what each escalation returned."""
        recorded = []
        for verdict in verdicts:
            prediction = self.predict(verdict)
            with transaction.atomic():
                recorded.append(
                    print_escalate(
                        print_=self.print_, prediction=prediction, previous_verdict=self.verdict, image_bytes=WHITE
                    )
                )
            self.verdict = verdict
        return recorded

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass before the next prediction (besides ``every``)."""
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def application():
    """The app that starts the print; its webhook gets the print's events."""
    application = ApplicationFactory()
    webhook_set(application=application, url="https://app.example.com/hooks")
    return application


@pytest.fixture
def feed(printer, application):
    """The printer's print, started by ``application`` (its ``print.started`` queued), fed verdicts."""
    print_start(printer=printer, filename="a.gcode", application=application)
    return Feed(Print.objects.get(printer=printer))


@pytest.fixture
def quick_rearm(settings):
    """Alerts re-arm as soon as the verdict drops: for tests about something else than re-arming."""
    settings.ALERT_REARM_SNAPSHOTS = 1
    settings.ALERT_REARM_SECONDS = 0


def levels(print_: Print | None = None) -> list[str]:
    alerts = Alert.objects.filter(print=print_) if print_ else Alert.objects.all()
    return list(alerts.order_by("created_at", "id").values_list("level", flat=True))


def events() -> list[str]:
    return list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- when an alert is recorded -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["ok", "ok"], []),
        (["warning"], ["warning"]),  # the first prediction rises from "" into warning
        (["ok", "warning", "warning"], ["warning"]),  # staying at a level is no rise
        (["ok", "warning", "failure"], ["warning", "failure"]),
        (["ok", "failure"], ["failure"]),  # straight to failure: one alert, and both events (below)
        (["ok", "failure", "warning"], ["failure"]),  # a fall records nothing
        (["ok", "warning", "ok", "warning"], ["warning"]),  # not re-armed at once (30 snapshots, 300 s)
    ],
)
def test_an_alert_is_recorded_when_the_verdict_rises_into_its_level(feed, verdicts, expected):
    feed.send(*verdicts)

    assert levels() == expected


def test_an_alert_records_the_predictions_score_statistics_and_detections_and_stamps_the_print(feed):
    _, warning, failure = feed.send(*RISE)

    print_ = Print.objects.get()
    assert (print_.warning_at, print_.failure_at) == (warning.created_at, failure.created_at)
    for alert in (warning, failure):
        alert.refresh_from_db()
        prediction = Prediction.objects.get(created_at=alert.created_at)
        assert alert.p == prediction.p
        assert alert.temporal_stats == TemporalStats.of(prediction).as_dict()
        assert alert.detections == prediction.detections == DETECTIONS
        assert (alert.frame_width, alert.frame_height) == (2560, 1920)
        assert (alert.feedback, alert.feedback_at) == ("", None)


def test_a_frame_that_raises_no_alert_renders_no_image_and_queries_nothing(
    feed, monkeypatch, django_assert_num_queries
):
    rendered = []  # recorded, not raised: a failed render is logged and swallowed, by design
    monkeypatch.setattr(alerts, "alert_snapshot_render", lambda *args, **kwargs: rendered.append(args))
    feed.send("ok")
    prediction = feed.predict("ok")

    with django_assert_num_queries(0):
        print_escalate(print_=feed.print_, prediction=prediction, previous_verdict="ok", image_bytes=WHITE)
    feed.send("ok", "ok")

    assert rendered == []
    assert not Alert.objects.exists()


# --- re-arming ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["warning", "failure"])
@pytest.mark.parametrize(
    ("clean_snapshots", "seconds_since", "alerts_again"),
    [
        (20, 300, True),  # both: 20 snapshots below the level, and 300 s since it last stood at or above it
        (20, 299, False),  # a second too soon
        (1000, 299, False),  # however many clean snapshots came
        (19, 3600, False),  # one snapshot short, however long ago
    ],
)
def test_a_level_re_arms_once_the_verdict_has_stayed_below_for_the_set_snapshots_and_time(
    feed, settings, level, clean_snapshots, seconds_since, alerts_again
):
    settings.ALERT_REARM_SNAPSHOTS = 20
    settings.ALERT_REARM_SECONDS = 300
    feed.every = timedelta(seconds=0.1)
    feed.send(*RISE, *["ok"] * clean_snapshots)
    feed.wait(seconds_since - (clean_snapshots + 1) * 0.1)  # since the failure, the last at or above either level

    feed.send(level)

    assert levels() == ["warning", "failure", *([level] if alerts_again else [])]


def test_re_armed_alerts_queue_their_webhooks_again_and_the_print_keeps_its_first_stamps(feed, settings):
    settings.ALERT_REARM_SNAPSHOTS = 20
    settings.ALERT_REARM_SECONDS = 300
    _, first_warning, first_failure = feed.send(*RISE)
    feed.send(*["ok"] * 20)
    feed.wait(360)

    feed.send("warning", "failure")

    assert levels() == ["warning", "failure", "warning", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.warning", "print.failure"]
    print_ = Print.objects.get()
    assert (print_.warning_at, print_.failure_at) == (first_warning.created_at, first_failure.created_at)


def test_frames_alternating_between_failing_and_clean_alert_once_per_level(feed, media_root):
    feed.send(*RISE, *(["ok"] * 8 + ["warning"]) * 12)

    assert levels() == ["warning", "failure"]  # twelve rises into warning, one alert
    assert len(list((media_root / "alerts").iterdir())) == 2


def test_a_print_records_at_most_alerts_max_per_print_of_each_level(feed, settings, quick_rearm):
    settings.ALERTS_MAX_PER_PRINT = 2

    feed.send(*(RISE * 3))

    assert levels() == ["warning", "failure", "warning", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.warning", "print.failure"]
    first_failure = Alert.objects.filter(level="failure").order_by("created_at")[0]
    assert Print.objects.get().failure_at == first_failure.created_at


# --- the owner's answer ------------------------------------------------------------------------------------


def test_a_false_alarm_silences_its_level_for_the_rest_of_the_print_but_not_a_higher_one(
    feed, printer, application, quick_rearm
):
    _, warning = feed.send("ok", "warning")
    alert_feedback_set(alert=warning, outcome="false_alarm")

    feed.send("failure", "ok", *RISE)

    assert levels() == ["warning", "failure", "failure"]
    assert events() == ["print.started", "print.warning", "print.failure", "print.failure"]
    # The next print is not silenced.
    print_finish(printer=printer, status="finished")
    print_start(printer=printer, filename="b.gcode", application=application)
    next_print = Print.objects.get(filename="b.gcode")
    Feed(next_print).send(*RISE)
    assert levels(next_print) == ["warning", "failure"]


def test_a_false_alarm_on_a_failure_silences_failures_and_not_warnings(feed, quick_rearm):
    _, _, failure = feed.send(*RISE)
    alert_feedback_set(alert=failure, outcome="false_alarm")

    feed.send(*RISE)

    assert levels() == ["warning", "failure", "warning"]
    assert events()[-1] == "print.warning"


def test_changing_the_answer_to_failure_lifts_the_silence(feed, quick_rearm):
    _, warning = feed.send("ok", "warning")
    alert_feedback_set(alert=warning, outcome="false_alarm")
    alert_feedback_set(alert=warning, outcome="failure")

    feed.send("failure", *RISE)

    assert levels() == ["warning", "failure", "warning", "failure"]


# --- the webhook and its link ------------------------------------------------------------------------------


def test_a_jump_from_ok_straight_to_failure_also_sends_the_first_warning_event(feed):
    feed.send("ok", "failure")

    assert levels() == ["failure"]
    assert events() == ["print.started", "print.warning", "print.failure"]
    print_ = Print.objects.get()
    assert print_.warning_at == print_.failure_at == feed.at


def test_each_alert_queues_its_webhook_with_a_signed_snapshot_link(feed):
    _, warning, failure = feed.send(*RISE)

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


def test_snapshot_links_are_built_from_the_public_base_url_whatever_host_the_list_is_asked_on(feed, api, settings):
    settings.PUBLIC_BASE_URL = "https://print.example.com"

    _, alert = feed.send("ok", "warning")

    hooked = WebhookDelivery.objects.get(event="print.warning").payload["data"]["alert"]["snapshot_url"]
    listed = api.get(f"/api/v1/prints/{alert.print_id}/alerts/", HTTP_HOST="localhost:1").json()["results"]
    for url in (hooked, listed[0]["snapshot_url"]):
        assert url.startswith(f"https://print.example.com/api/v1/alerts/{alert.pk}/snapshot/?signature=")


# --- the snapshot: stored once, downscaled, boxes drawn on the way out -------------------------------------


def test_one_downscaled_snapshot_is_stored_and_the_boxes_are_drawn_when_it_is_served(feed, api, media_root):
    _, alert = feed.send("ok", "warning")

    assert re.fullmatch(r"alerts/[0-9a-f]{32}\.jpg", alert.snapshot.name)
    assert [path.name for path in (media_root / "alerts").iterdir()] == [alert.snapshot.name.split("/")[1]]
    stored = default_storage.open(alert.snapshot.name).read()
    assert alert.snapshot_bytes == len(stored)
    plain = decoded(stored)
    tagged = decoded(api.get(f"/api/v1/alerts/{alert.pk}/snapshot/").content)
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


def test_a_snapshot_is_stored_smaller_until_it_fits_alert_snapshot_max_bytes(feed, settings):
    settings.ALERT_SNAPSHOT_MAX_BYTES = 1  # no JPEG fits: it is stored at the smallest side, 320 px

    _, alert = feed.send("ok", "warning")

    assert decoded(default_storage.open(alert.snapshot.name).read()).size == (320, 240)
    assert (alert.frame_width, alert.frame_height) == (2560, 1920)


# --- the storage: a quota per owner, and a storage that cannot write ---------------------------------------


def test_past_the_owners_storage_quota_an_alert_is_recorded_and_sent_without_a_snapshot(
    feed, api, printer, settings, media_root
):
    settings.ALERT_STORAGE_QUOTA_BYTES = 50_000
    earlier = AlertFactory(print=PrintFactory(printer=printer, status="finished"), snapshot_bytes=50_000)
    stored_before = sorted(path.name for path in (media_root / "alerts").iterdir())

    feed.send("ok", "warning")

    alert = Alert.objects.exclude(pk=earlier.pk).get()
    assert (alert.level, alert.snapshot.name, alert.snapshot_bytes) == ("warning", "", 0)
    assert alert.detections == DETECTIONS
    assert sorted(path.name for path in (media_root / "alerts").iterdir()) == stored_before  # nothing written
    assert WebhookDelivery.objects.get(event="print.warning").payload["data"]["alert"] == {
        "id": alert.pk,
        "level": "warning",
        "snapshot_url": None,
    }
    listed = api.get(f"/api/v1/prints/{alert.print_id}/alerts/").json()["results"]
    assert listed[0]["snapshot_url"] is None
    response = api.get(f"/api/v1/alerts/{alert.pk}/snapshot/")
    assert response.status_code == 404
    assert response.json() == {"error": "This alert was recorded without a snapshot.", "code": "not_found"}


def test_the_quota_counts_the_owners_own_snapshots_only(feed, settings):
    settings.ALERT_STORAGE_QUOTA_BYTES = 50_000
    AlertFactory(print=PrintFactory(printer=PrinterFactory()), snapshot_bytes=50_000)  # another user's

    _, alert = feed.send("ok", "warning")

    assert alert.snapshot.name
    assert alert.snapshot_bytes > 0


def test_a_snapshot_that_would_pass_the_quota_is_not_stored(feed, settings):
    settings.ALERT_STORAGE_QUOTA_BYTES = 1000  # under one snapshot of the white frame

    feed.send("ok", "warning")

    assert Alert.objects.values_list("level", "snapshot", "snapshot_bytes").get() == ("warning", "", 0)


class FullDiskStorage(FileSystemStorage):
    """A filesystem storage on a full disk: every write fails as the operating system says so."""

    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_snapshot_the_storage_cannot_save_is_logged_and_the_alert_recorded_and_sent_without_it(
    feed, settings, caplog
):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.FullDiskStorage"}}

    with caplog.at_level(logging.ERROR, logger=alerts.__name__):
        _, alert = feed.send("ok", "warning")

    alert.refresh_from_db()
    assert (alert.level, alert.snapshot.name, alert.snapshot_bytes) == ("warning", "", 0)
    assert Print.objects.get().warning_at == alert.created_at
    assert WebhookDelivery.objects.get(event="print.warning").payload["data"]["alert"]["snapshot_url"] is None
    (record,) = [r for r in caplog.records if r.name == alerts.__name__]
    assert record.levelno == logging.ERROR
    assert "snapshot" in record.getMessage()
    assert record.exc_info is not None  # with the storage's error
