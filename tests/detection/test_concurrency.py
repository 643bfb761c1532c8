"""Many workers predicting for one printer at once never lose an update.

Real threads with their own database connections, through the whole HTTP stack; on PostgreSQL
(``.ci/run``) this exercises ``select_for_update``, on SQLite the IMMEDIATE transactions.
"""

import threading

import pytest
from django.db import connection

from detection import judge
from detection.adaptation import PrinterMemory
from detection.conf import detection_settings
from detection.models import Prediction, PrinterStats
from detection.postprocess import Detection
from prints.models import Print
from tests.fixtures.images import make_image_bytes, snapshot

CONCURRENT_PREDICTS = 16


@pytest.mark.django_db(transaction=True)
def test_concurrent_predicts_on_one_printer_are_all_counted_exactly(api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "race.gcode"}, format="json")
    images = [make_image_bytes(color=(255, 255, 255) if n % 2 else (0, 0, 0), image_format="PNG") for n in range(2)]
    barrier = threading.Barrier(CONCURRENT_PREDICTS)
    results, errors = [], []

    def worker(n):
        try:
            barrier.wait()
            response = api.post(
                f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(images[n % 2])}, format="multipart"
            )
            results.append((response.status_code, response.json()))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONCURRENT_PREDICTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [status for status, _ in results] == [200] * CONCURRENT_PREDICTS
    counts = sorted(body["result"]["temporal_stats"]["prediction_num"] for _, body in results)
    assert counts == list(range(1, CONCURRENT_PREDICTS + 1))  # each update saw the one before it
    ps = [body["result"]["p"] for _, body in results]
    stats = PrinterStats.objects.get(printer=printer)
    assert stats.prediction_num == CONCURRENT_PREDICTS
    assert stats.prediction_num_lifetime == CONCURRENT_PREDICTS
    assert stats.rolling_mean_short == pytest.approx(sum(ps) / CONCURRENT_PREDICTS)
    assert stats.rolling_mean_long == pytest.approx(sum(ps) / CONCURRENT_PREDICTS)
    # The printer's memory and the verdict's state are exactly those of the predictions replayed one
    # by one in the order they were counted: none was lost or applied twice.
    assert stats_after_replaying_in_order(printer) == (stats.memory, pytest.approx(stats.score_ewm), stats.last_verdict)


def stats_after_replaying_in_order(printer):
    state = judge.print_started(judge.PrinterState())
    for prediction in Prediction.objects.filter(print__printer=printer).order_by("prediction_num"):
        detections = [Detection(conf, *box) for conf, box in prediction.detections]
        judgement = judge.judge_snapshot(
            state,
            p=prediction.p,
            detections=detections,
            width=640,
            height=480,
            sensitivity=printer.sensitivity,
            rules=detection_settings.rules(),
        )
        assert judgement.verdict == prediction.verdict
        state = judgement.state
    return PrinterMemory.from_json(state.memory.as_json()).as_json(), state.score_ewm, state.last_verdict


@pytest.mark.django_db(transaction=True)
def test_a_finish_racing_predicts_keeps_every_count_in_the_print_it_belongs_to(api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "race.gcode"}, format="json")
    image = make_image_bytes(image_format="PNG")
    barrier = threading.Barrier(CONCURRENT_PREDICTS + 1)
    statuses, errors = [], []

    def predictor():
        try:
            barrier.wait()
            response = api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(image)}, format="multipart")
            statuses.append(response.status_code)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def finisher():
        try:
            barrier.wait()
            statuses.append(
                ("finish", api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json").status_code)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=predictor) for _ in range(CONCURRENT_PREDICTS)]
    threads.insert(CONCURRENT_PREDICTS // 2, threading.Thread(target=finisher))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert ("finish", 200) in statuses
    predict_statuses = [s for s in statuses if not isinstance(s, tuple)]
    assert set(predict_statuses) <= {200, 404}
    finished = Print.objects.get()
    stats = PrinterStats.objects.get(printer=printer)
    counted = predict_statuses.count(200)
    assert finished.prediction_num == counted == Prediction.objects.filter(print=finished).count()
    assert stats.prediction_num_lifetime == counted
