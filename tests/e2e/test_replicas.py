"""Two replicas of the service behind one nginx, as a scaled deployment runs it (issue 25).

Two production gunicorns (tests/e2e/replicas.py), each with its own empty MEDIA_ROOT, share the
database, the cache and an S3-compatible bucket; one nginx from deploy/nginx.conf.template sends
requests to both in turn. Proved here: predicts for one printer spread over both are counted and
smoothed exactly; an alert one replica records is served by the other from the bucket; two webhook
workers deliver every event exactly once; a replica killed mid-predict loses nothing it acknowledged.

The replicas run a tiny real ONNX model (white frames p = 1 with one box, black p = 0), so a
test chooses when the verdict rises. Each request line of a replica's access log says it served it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from detection.models import Prediction, PrinterStats
from detection.temporal import TemporalStats, add_prediction
from prints.alert_images import alert_snapshot_tagged
from prints.models import Alert, Print
from tests.detection.test_concurrency import CONCURRENT_PREDICTS, stats_after_replaying_in_order
from tests.e2e.replicas import WebhookReceiver, cluster, webhook_workers
from tests.factories import AccessTokenFactory, PrinterFactory, UserFactory
from tests.fixtures.images import make_image_bytes
from tests.onnx_models import write_detector_model
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_set

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

# 640x480, the frame size stats_after_replaying_in_order replays with.
WHITE = make_image_bytes(color=(255, 255, 255), image_format="PNG")
BLACK = make_image_bytes(color=(0, 0, 0), image_format="PNG")
PREDICTS_PER_CLIENT = 10
TIMEOUT = 60  # seconds for one request; the replicas share 2 busy cores with the clients


@pytest.fixture(scope="module")
def one_box_model(tmp_path_factory) -> Path:
    """White frames score p = 1 with one box, black ones p = 0 (tests/prints/test_alerts.py's model)."""
    return write_detector_model(
        tmp_path_factory.mktemp("replica-model") / "one.onnx",
        boxes=[[0.2, 0.2, 0.4, 0.4]],
        confs=[1.0],
        scale_by_brightness=True,
    )


@pytest.fixture(scope="module")
def replicas(dockerfile, compose, gunicorn_env, tls_pair, tmp_path_factory, one_box_model):
    """Two replicas behind one nginx, sharing the database, the cache and the bucket, for the module."""
    with cluster(
        dockerfile=dockerfile,
        compose=compose,
        env=gunicorn_env,
        tls_pair=tls_pair,
        folder=tmp_path_factory.mktemp("replicas"),
        extra_env={"DETECTION_MODEL_PATH": str(one_box_model)},
    ) as running:
        yield running


@pytest.fixture
def service(replicas):
    """The cluster with both replicas up (one a test killed starts again, on its port) and no rate limit spent."""
    for replica in replicas.replicas:
        if not replica.alive:
            replica.stop()
            replica.start()
    replicas.shared_cache_clear()
    return replicas


def printing_printer(service, *, sensitivity: float = 1.0):
    """A new owner's printer, printing (started through nginx), and a session with the owner's token."""
    printer = PrinterFactory(sensitivity=sensitivity)
    token = AccessTokenFactory(user=printer.owner).raw_token
    session = service.session()
    session.headers["Authorization"] = f"Bearer {token}"
    started = session.post(
        f"{service.url}/api/v1/printers/{printer.id}/start_print/", json={"filename": "r.gcode"}, timeout=TIMEOUT
    )
    assert started.status_code == 200, started.text
    return printer, token


def direct(token: str) -> requests.Session:
    """A session to a replica itself, bypassing nginx, with the header nginx would add (TRUSTED_PROXY_COUNT=1)."""
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"})
    return session


def predict_path(printer) -> str:
    return f"/api/v1/printers/{printer.id}/predict/"


def assert_counted_and_smoothed_exactly(printer) -> int:
    """The stored predictions are numbered 1..n without a gap, the counters say n, and every stored
    statistic (and the printer's memory and verdict) is what replaying the stored p one by one gives."""
    stats = PrinterStats.objects.get(printer=printer)
    predictions = list(Prediction.objects.filter(print__printer=printer).order_by("prediction_num"))
    n = len(predictions)
    assert [prediction.prediction_num for prediction in predictions] == list(range(1, n + 1))
    assert stats.prediction_num == stats.prediction_num_lifetime == n
    replayed = TemporalStats()
    for prediction in predictions:
        replayed = add_prediction(replayed, prediction.p)
        assert TemporalStats.of(prediction).as_dict() == pytest.approx(replayed.as_dict()), prediction
    assert TemporalStats.of(stats).as_dict() == pytest.approx(replayed.as_dict())
    assert stats_after_replaying_in_order(printer) == (stats.memory, pytest.approx(stats.score_ewm), stats.last_verdict)
    return n


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_predicts_for_one_printer_spread_over_both_replicas_are_counted_exactly(service):
    printer, token = printing_printer(service)
    marks = service.log_marks()
    barrier = threading.Barrier(CONCURRENT_PREDICTS)
    answers, errors = [], []

    def client(n: int) -> None:
        try:
            with service.session() as session:
                session.headers["Authorization"] = f"Bearer {token}"
                barrier.wait(timeout=TIMEOUT)
                for k in range(PREDICTS_PER_CLIENT):
                    image = (WHITE, BLACK)[(n + k) % 2]
                    response = session.post(
                        f"{service.url}{predict_path(printer)}",
                        files={"img": ("s.png", image, "image/png")},
                        timeout=TIMEOUT,
                    )
                    answers.append((response.status_code, response.json()))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENT_PREDICTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PREDICTS_PER_CLIENT * TIMEOUT)

    total = CONCURRENT_PREDICTS * PREDICTS_PER_CLIENT
    assert errors == []
    assert [status for status, _ in answers] == [200] * total
    # Each update saw the one before it, whichever replica made it.
    counts = sorted(body["result"]["temporal_stats"]["prediction_num"] for _, body in answers)
    assert counts == list(range(1, total + 1))
    assert assert_counted_and_smoothed_exactly(printer) == total
    # Both replicas served: nginx takes them in turn, so each served about half.
    served = service.answers(marks, method="POST", path=predict_path(printer), expected=total)
    assert [count[200] for count in served] == [pytest.approx(total / 2, abs=total / 4)] * 2, served
    assert sum(count[200] for count in served) == total

    # The print keeps the count the replicas shared.
    finished = service.session().post(
        f"{service.url}/api/v1/printers/{printer.id}/finish_print/",
        json={"status": "success"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert finished.status_code == 200, finished.text
    assert Print.objects.get(printer=printer).prediction_num == total


def test_an_alert_recorded_on_one_replica_is_served_by_the_other_from_the_bucket(service):
    a, b = service.replicas
    printer, token = printing_printer(service, sensitivity=2.0)
    marks = service.log_marks()
    to_a = direct(token)

    # Clean frames past the warm-up, then white ones until the verdict rises: all on replica A.
    verdicts = []
    for image in [BLACK] * 10 + [WHITE] * 10:
        response = to_a.post(f"{a.url}{predict_path(printer)}", files={"img": ("s.png", image)}, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        verdicts.append(response.json()["result"]["verdict"])
        if verdicts[-1] != "ok":
            break
    assert verdicts[-1] == "warning", verdicts
    print_id = Print.objects.get(printer=printer).pk
    listed = to_a.get(f"{a.url}/api/v1/prints/{print_id}/alerts/", timeout=TIMEOUT).json()["results"]
    assert [alert["level"] for alert in listed] == ["warning"]
    alert = Alert.objects.get(pk=listed[0]["id"])

    # Replica B, which never saw the frame, serves the snapshot: by token, and by the signed link.
    snapshot_path = f"/api/v1/alerts/{alert.pk}/snapshot/"
    from_b = direct(token).get(f"{b.url}{snapshot_path}", timeout=TIMEOUT)
    assert from_b.status_code == 200, from_b.text
    assert from_b.headers["Content-Type"] == "image/jpeg"
    from_a = to_a.get(f"{a.url}{snapshot_path}", timeout=TIMEOUT)
    assert from_a.content == from_b.content
    link = urlparse(listed[0]["snapshot_url"])
    by_link = requests.get(f"{b.url}{link.path}?{link.query}", headers={"X-Forwarded-Proto": "https"}, timeout=TIMEOUT)
    assert by_link.status_code == 200, by_link.text
    assert by_link.content == from_b.content

    # What B served is the bucket's object with the boxes drawn; no replica's disk holds a file.
    stored = service.s3.read(alert.snapshot.name)
    frame_size = (alert.frame_width, alert.frame_height)
    assert from_b.content == alert_snapshot_tagged(stored, alert.detections, frame_size=frame_size)
    assert alert.snapshot.name in service.s3.names()
    assert files_under(a.media_root) == files_under(b.media_root) == []
    # The frames went to A alone, the snapshot requests to B.
    served_a, served_b = service.answers(marks, method="POST", path=predict_path(printer), expected=len(verdicts))
    assert (served_a[200], served_b[200]) == (len(verdicts), 0)
    served_a, served_b = service.answers(marks, method="GET", path=snapshot_path, expected=3)
    assert (served_a[200], served_b[200]) == (1, 2)  # B: by token and by the signed link


PRINTERS = 4  # each started and finished through its own app, whose webhook gets the events
PRINTS_PER_PRINTER = 5  # each print sends two events: print started, print finished
EVENTS = PRINTERS * PRINTS_PER_PRINTER * 2
FAIL_EVERY = 8  # the receiver refuses the first attempt of every 8th event: retried 10 s later
PRINT_ACTIONS = [("start_print", {"filename": "w.gcode"}), ("finish_print", {"status": "success"})]
WEBHOOK_SECRET = "replicas-webhook-secret"
DELIVERY_SECONDS = 90  # for every event to arrive: the retries wait 10 s (RETRY_BASE_SECONDS)


def test_two_webhook_workers_deliver_every_event_exactly_once(service, compose, gunicorn_env, tmp_path):
    owner = UserFactory()
    with WebhookReceiver(secret=WEBHOOK_SECRET, fail_every=FAIL_EVERY) as receiver:
        clients = []
        for _ in range(PRINTERS):
            token = AccessTokenFactory(user=owner)
            webhook_set(application=token.application, url=receiver.url, secret=WEBHOOK_SECRET)
            session = service.session()
            session.headers["Authorization"] = f"Bearer {token.raw_token}"
            clients.append((PrinterFactory(owner=owner), session))
        # The receiver is on loopback, which production refuses (server-side request forgery).
        worker_env = {**gunicorn_env, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1", "LOG_LEVEL": "DEBUG"}
        with webhook_workers(compose=compose, env=worker_env, folder=tmp_path) as workers:
            # The events, made by both replicas while both workers poll for them.
            for _ in range(PRINTS_PER_PRINTER):
                for printer, session in clients:
                    for action, body in PRINT_ACTIONS:
                        response = session.post(
                            f"{service.url}/api/v1/printers/{printer.id}/{action}/", json=body, timeout=TIMEOUT
                        )
                        assert response.status_code == 200, response.text
            events = {delivery.payload["id"] for delivery in WebhookDelivery.objects.all()}
            assert len(events) == EVENTS
            deadline = time.monotonic() + DELIVERY_SECONDS
            while time.monotonic() < deadline and (
                set(receiver.delivered()) != events
                or WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists()
            ):
                time.sleep(0.2)
        # The workers have stopped, each after its deliveries in flight: nothing more can arrive.

    assert receiver.refused == []
    assert receiver.delivered() == dict.fromkeys(events, 1)
    refused_first = [event for event, status in receiver.answers if status == 503]
    assert len(refused_first) == len(set(refused_first)) == EVENTS // FAIL_EVERY
    assert {
        delivery.payload["id"]: (delivery.status, delivery.attempts) for delivery in WebhookDelivery.objects.all()
    } == {event: ("delivered", 2 if event in refused_first else 1) for event in events}
    # Both workers delivered some.
    sent = [worker.posts() for worker in workers]
    assert sum(sent) == len(receiver.answers)
    assert all(sent), sent


KILL_CLIENTS = 8
KILL_AFTER = 24  # predicts answered, by both replicas, before replica B is killed
PREDICTS_AFTER_THE_KILL = 4  # each client's, once B is dead
MAX_PREDICTS_PER_CLIENT = 40  # a bound, should the kill never come
AFTER_THE_KILL = 6  # predicts sent one by one once the clients are done
# A response B had begun when it died: nginx had passed its headers on, then the connection ended.
CUT_OFF = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def test_a_replica_killed_mid_predict_loses_nothing_it_acknowledged(service):
    _, b = service.replicas
    printer, token = printing_printer(service, sensitivity=2.0)
    marks = service.log_marks()
    answers, errors = [], []
    killed = threading.Event()

    def client() -> None:
        try:
            with service.session() as session:
                session.headers["Authorization"] = f"Bearer {token}"
                sent_after_the_kill = 0
                for k in range(MAX_PREDICTS_PER_CLIENT):
                    if sent_after_the_kill == PREDICTS_AFTER_THE_KILL:
                        break
                    after_the_kill = killed.is_set()
                    # Clean frames, then failing ones: the verdict rises, and alerts are written, around the kill.
                    try:
                        response = session.post(
                            f"{service.url}{predict_path(printer)}",
                            files={"img": ("s.png", BLACK if k < 4 else WHITE, "image/png")},
                            timeout=TIMEOUT,
                        )
                        answers.append((response.status_code, response.json(), after_the_kill))
                    except CUT_OFF:
                        answers.append((None, None, after_the_kill))
                    sent_after_the_kill += after_the_kill
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(KILL_CLIENTS)]
    for thread in threads:
        thread.start()
    # Kill B while predicts are flowing through both replicas: each client has one in flight.
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and (
        len(answers) < KILL_AFTER or not b.answers(marks[1], method="POST", path=predict_path(printer))[200]
    ):
        time.sleep(0.01)
    b.kill()
    killed.set()
    for thread in threads:
        thread.join(timeout=MAX_PREDICTS_PER_CLIENT * TIMEOUT)

    assert errors == []
    statuses = [status for status, _, _ in answers]
    # A predict B was serving when it died is a 502 from nginx, or cut off after its headers; at most
    # one per client (each has one in flight), and B's later ones go to A.
    assert set(statuses) <= {200, 502, None}
    assert len(statuses) - statuses.count(200) <= KILL_CLIENTS
    assert sum(after for _, _, after in answers) == KILL_CLIENTS * PREDICTS_AFTER_THE_KILL
    stored = {prediction.prediction_num: prediction for prediction in Prediction.objects.filter(print__printer=printer)}
    acknowledged = [body["result"] for status, body, _ in answers if status == 200]
    for result in acknowledged:
        prediction = stored[result["temporal_stats"]["prediction_num"]]
        assert (prediction.p, prediction.verdict) == (result["p"], result["verdict"])
    # A predict that was not answered may have been stored before B died; nothing else was.
    n = assert_counted_and_smoothed_exactly(printer)
    assert len(acknowledged) <= n <= len(statuses)
    assert_no_alert_is_half_written(service, printer)

    # A serves on alone.
    marks = service.log_marks()
    session = service.session()
    session.headers["Authorization"] = f"Bearer {token}"
    for _ in range(AFTER_THE_KILL):
        response = session.post(
            f"{service.url}{predict_path(printer)}", files={"img": ("s.png", BLACK, "image/png")}, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text
    served = service.answers(marks, method="POST", path=predict_path(printer), expected=AFTER_THE_KILL)
    assert [count[200] for count in served] == [AFTER_THE_KILL, 0]
    assert assert_counted_and_smoothed_exactly(printer) == n + AFTER_THE_KILL


def assert_no_alert_is_half_written(service, printer) -> None:
    """Each alert belongs to a stored prediction of its level, and the snapshot it names is in the bucket."""
    print_ = Print.objects.get(printer=printer)
    predictions = {prediction.prediction_num: prediction for prediction in Prediction.objects.filter(print=print_)}
    keys = service.s3.names()
    for alert in Alert.objects.filter(print=print_):
        prediction = predictions[alert.temporal_stats["prediction_num"]]
        assert (prediction.p, prediction.verdict, prediction.created_at) == (alert.p, alert.level, alert.created_at)
        assert not alert.snapshot or alert.snapshot.name in keys
    # The print's first warning is that of its first prediction that warned.
    warned = [prediction for _, prediction in sorted(predictions.items()) if prediction.verdict != "ok"]
    assert print_.warning_at == (warned[0].created_at if warned else None)
