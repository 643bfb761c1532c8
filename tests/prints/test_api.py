"""The prints endpoints: the caller's prints, newest first, paginated."""

import pytest
from rest_framework.fields import DateTimeField

from prints.models import Print
from tests.factories import PrinterFactory
from tests.fixtures.images import snapshot

pytestmark = pytest.mark.django_db


def run_print(api, printer, filename, predictions=0, status="success"):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": filename}, format="json")
    for _ in range(predictions):
        api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")
    if status:
        api.post(f"/api/v1/printers/{printer.id}/finish_print/", {"status": status}, format="json")
    return Print.objects.get(printer=printer, filename=filename)


def expected_print(print_, prediction_num):
    return {
        "id": print_.id,
        "printer_id": print_.printer_id,
        "filename": print_.filename,
        "status": print_.status,
        "started_at": DateTimeField().to_representation(print_.started_at),
        "ended_at": print_.ended_at and DateTimeField().to_representation(print_.ended_at),
        "prediction_num": prediction_num,
        "warning_at": None,
        "failure_at": None,
    }


def someone_elses_print(make_client):
    theirs = PrinterFactory()
    return run_print(make_client(theirs.owner), theirs, "theirs.gcode")


def test_list_prints_newest_first_with_their_prediction_counts(api, printer, make_client):
    first = run_print(api, printer, "first.gcode", predictions=2)
    second = run_print(api, printer, "second.gcode", predictions=1, status="cancelled")
    running = run_print(api, printer, "third.gcode", predictions=3, status=None)
    someone_elses_print(make_client)  # not listed

    response = api.get("/api/v1/prints/")

    assert response.status_code == 200
    assert response.json() == {
        "count": 3,
        "next": None,
        "previous": None,
        "results": [expected_print(running, 3), expected_print(second, 1), expected_print(first, 2)],
    }
    assert [p["status"] for p in response.json()["results"]] == ["printing", "cancelled", "finished"]


def test_list_prints_paginates_with_page_size(api, printer):
    for n in range(3):
        run_print(api, printer, f"{n}.gcode")

    page = api.get("/api/v1/prints/?page_size=2").json()
    last = api.get("/api/v1/prints/?page_size=2&page=2").json()

    assert page["count"] == 3
    assert [p["filename"] for p in page["results"]] == ["2.gcode", "1.gcode"]
    assert page["next"].endswith("/api/v1/prints/?page=2&page_size=2")
    assert [p["filename"] for p in last["results"]] == ["0.gcode"]
    assert api.get("/api/v1/prints/?page=9").status_code == 404
    for bad in ["page=", "page=abc", "page=0", "page_size=0", "page_size=201", "page_size="]:
        response = api.get(f"/api/v1/prints/?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"].startswith("page")


def test_page_links_are_built_from_the_public_base_url_whatever_host_the_list_is_asked_on(api, printer, settings):
    settings.PUBLIC_BASE_URL = "https://print.example.com"
    for n in range(3):
        run_print(api, printer, f"{n}.gcode")

    page = api.get("/api/v1/prints/?page_size=1&page=2", HTTP_HOST="localhost:1").json()

    assert page["next"] == "https://print.example.com/api/v1/prints/?page=3&page_size=1"
    assert page["previous"] == "https://print.example.com/api/v1/prints/?page_size=1"


def test_print_detail(api, printer):
    finished = run_print(api, printer, "benchy.gcode", predictions=2)

    response = api.get(f"/api/v1/prints/{finished.id}/")

    assert response.status_code == 200
    assert response.json() == expected_print(finished, 2)


def test_another_users_print_is_404(api, make_client):
    theirs = someone_elses_print(make_client)

    response = api.get(f"/api/v1/prints/{theirs.id}/")

    assert response.status_code == 404
    assert response.json() == {"error": "Print not found.", "code": "not_found"}
