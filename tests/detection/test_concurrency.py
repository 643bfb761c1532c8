"""Many workers predicting for one printer at once never lose an update.

Real threads with their own database connections, through the whole HTTP stack; on PostgreSQL
(``.ci/run``) this exercises ``select_for_update``, on SQLite the IMMEDIATE transactions.
"""

import threading

import pytest
from django.db import connection

from detection.models import Prediction, PrinterStats
from prints.models import Print
from tests.conftest import make_image_bytes, snapshot

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
