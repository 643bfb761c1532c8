"""List endpoints issue a constant number of queries, however many printers or prints there are."""

import pytest

from tests.factories import AlertFactory, PrinterFactory, PrintFactory
from tests.fixtures.images import snapshot

pytestmark = pytest.mark.django_db

# The token lookup, then one query (two for a paginated list: the count and the page).
LIST_QUERIES = {"/api/v1/printers/": 2, "/api/v1/prints/": 3}


def busy_printers(api, user, count):
    """``count`` printers, each with a finished print and a running one with a prediction."""
    for _ in range(count):
        printer = PrinterFactory(owner=user)
        url = f"/api/v1/printers/{printer.id}"
        api.post(f"{url}/start_print/", {"filename": "done.gcode"}, format="json")
        api.post(f"{url}/finish_print/", {}, format="json")
        api.post(f"{url}/start_print/", {"filename": "running.gcode"}, format="json")
        api.post(f"{url}/predict/", {"img": snapshot()}, format="multipart")


@pytest.mark.parametrize("path", list(LIST_QUERIES))
@pytest.mark.parametrize("count", [1, 12])
def test_list_queries_do_not_grow_with_the_rows(api, user, django_assert_num_queries, path, count):
    busy_printers(api, user, count)

    with django_assert_num_queries(LIST_QUERIES[path]):
        response = api.get(path)

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 12])
def test_prediction_timeline_queries_do_not_grow(api, user, django_assert_num_queries, count):
    printer = PrinterFactory(owner=user)
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    for _ in range(count):
        api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")
    print_id = printer.prints.get().id

    # The token, the print (ownership), the count, the page.
    with django_assert_num_queries(4):
        response = api.get(f"/api/v1/prints/{print_id}/predictions/")

    assert len(response.json()["results"]) == count


def test_predict_hot_path_queries(api, printer, django_assert_num_queries):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    # Token; the printer's ownership and current print (one query, before the image is decoded);
    # then, after the model, one transaction: the printer's row locked where it is the owner's
    # (printer_lock: SELECT ... FOR UPDATE on the printer), the printer with its current print and
    # statistics read after the lock, the statistics update and the history insert.
    # Inside the test's own transaction that transaction is a savepoint, which adds SAVEPOINT and
    # RELEASE: 6 + 2.
    with django_assert_num_queries(8):
        response = api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 12])
def test_alert_list_queries_do_not_grow(api, printer, django_assert_num_queries, count):
    print_ = PrintFactory(printer=printer)
    AlertFactory.create_batch(count, print=print_)

    # The token, the print (ownership), the count, the page.
    with django_assert_num_queries(4):
        response = api.get(f"/api/v1/prints/{print_.id}/alerts/")

    assert len(response.json()["results"]) == count
