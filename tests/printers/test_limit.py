"""At most ``PRINTERS_MAX_PER_USER`` printers an owner, so the plain list of printers stays cheap.

The spec's ``GET /api/v1/printers/`` is a plain array, with no pages: with 5,000 printers one list
cost 10-15 ordinary predicts (issue 23). Creating one past the limit is a 400 that creates nothing,
and two creates at once cannot both pass the count.
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from printers import services
from printers.models import Printer
from printers.selectors import printer_list
from printers.serializers import PrinterOutputSerializer
from printers.services import TooManyPrinters, printer_create
from tests.factories import PrinterFactory, UserFactory
from tests.fixtures.images import snapshot

pytestmark = pytest.mark.django_db

LIMIT = 3
TOO_MANY = {
    "error": f"An account may have at most {LIMIT} printers; delete one to add another.",
    "code": "too_many_printers",
}


@pytest.fixture(autouse=True)
def limit(settings):
    settings.PRINTERS_MAX_PER_USER = LIMIT


def stats_rows():
    """All statistics rows, reached through ``Printer.stats`` (printers does not import detection's models)."""
    return Printer._meta.get_field("stats").related_model.objects


def test_the_printer_that_reaches_the_limit_is_created(api, user):
    PrinterFactory.create_batch(LIMIT - 1, owner=user)

    response = api.post("/api/v1/printers/", {"name": "Last one"}, format="json")

    assert response.status_code == 201
    assert Printer.objects.filter(owner=user).count() == LIMIT


def test_a_printer_past_the_limit_is_400_and_creates_nothing(api, user):
    PrinterFactory.create_batch(LIMIT, owner=user)
    stats_before = stats_rows().count()

    response = api.post("/api/v1/printers/", {"name": "One too many"}, format="json")

    assert response.status_code == 400
    assert response.json() == TOO_MANY
    assert Printer.objects.filter(owner=user).count() == LIMIT
    assert not Printer.objects.filter(name="One too many").exists()
    assert stats_rows().count() == stats_before


def test_other_owners_printers_do_not_count(api, user):
    PrinterFactory.create_batch(LIMIT, owner=UserFactory())

    response = api.post("/api/v1/printers/", {"name": "Mine"}, format="json")

    assert response.status_code == 201


def test_deleting_a_printer_makes_room_for_another(api, user):
    first, *_ = PrinterFactory.create_batch(LIMIT, owner=user)
    assert api.post("/api/v1/printers/", {"name": "Waiting"}, format="json").status_code == 400

    assert api.delete(f"/api/v1/printers/{first.id}/").status_code == 204
    response = api.post("/api/v1/printers/", {"name": "Waiting"}, format="json")

    assert response.status_code == 201


def test_the_service_refuses_past_the_limit_too(user):
    PrinterFactory.create_batch(LIMIT, owner=user)

    with pytest.raises(TooManyPrinters, match=f"at most {LIMIT} printers"):
        printer_create(owner=user, name="Through the service")

    assert Printer.objects.filter(owner=user).count() == LIMIT


def test_the_list_at_the_limit_is_one_query_and_serializing_it_queries_nothing(api, user, django_assert_num_queries):
    idle, never_predicted, printing = PrinterFactory.create_batch(LIMIT, owner=user)
    for printer in (never_predicted, printing):
        api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot()}, format="multipart")

    with django_assert_num_queries(1):
        printers = list(printer_list(user=user))
    with django_assert_num_queries(0):
        listed = PrinterOutputSerializer(printers, many=True).data

    assert [p["id"] for p in listed] == [idle.id, never_predicted.id, printing.id]
    assert [p["status"]["printing"] for p in listed] == [False, True, True]
    assert listed[2]["status"]["last_prediction"] is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's IMMEDIATE transactions serialise every writer")
@pytest.mark.django_db(transaction=True)
def test_two_creates_at_once_cannot_both_pass_the_limit(user, monkeypatch):
    """The second create waits for the first to commit, then counts its printer."""
    PrinterFactory.create_batch(LIMIT - 1, owner=user)

    outcomes = race_while_first_is_held(monkeypatch, lambda name: printer_create(owner=user, name=name))

    assert isinstance(outcomes["first"], Printer)
    assert isinstance(outcomes["second"], TooManyPrinters)
    assert not Printer.objects.filter(name="second").exists()
    assert Printer.objects.filter(owner=user).count() == LIMIT


def waits_for_a_lock(observer) -> bool:
    """Whether a query of this database waits for a lock now (its own connection, in autocommit)."""
    with observer.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def race_while_first_is_held(monkeypatch, attempt) -> dict[str, object]:
    """``attempt("first")`` and ``attempt("second")`` in two threads, each answer or exception by name.

    The first is held inside its transaction (after its count and insert, in ``printer_stats_create``)
    until the second is seen waiting for a lock, or has finished without waiting, as a create that
    only counted would.
    """
    first_inside, release_first = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}
    stats_create = services.printer_stats_create

    def held_stats_create(*, printer):
        if printer.name == "first":
            first_inside.set()
            release_first.wait(timeout=10)
        return stats_create(printer=printer)

    monkeypatch.setattr(services, "printer_stats_create", held_stats_create)

    def run(name: str) -> None:
        try:
            outcomes[name] = attempt(name)
        except Exception as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    second = threading.Thread(target=run, args=("second",))
    first.start()
    assert first_inside.wait(timeout=10)
    second.start()
    observer = connections.create_connection("default")
    try:
        deadline = time.monotonic() + 10
        while second.is_alive() and not waits_for_a_lock(observer) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        observer.close()
        release_first.set()
        first.join(timeout=10)
        second.join(timeout=10)
    return outcomes


# --- the Django admin ------------------------------------------------------------------------------
# It adds printers too (ModelAdmin), so it goes through the same service and the same locked count.

ADMIN_ADD = "/admin/printers/printer/add/"
ADMIN_TOO_MANY = f"An account may have at most {LIMIT} printers; delete one to add another."


def admin_form(owner, name: str, **fields) -> dict:
    """The admin's add or change form for a printer, as the browser posts it (no statistics forms)."""
    return {
        "owner": str(owner.pk),
        "name": name,
        "sensitivity": "1.0",
        "roi": "null",
        "stats-TOTAL_FORMS": "0",
        "stats-INITIAL_FORMS": "0",
        **fields,
    }


def test_the_admin_adds_a_printer_under_the_limit_through_the_service_with_its_statistics(admin_browser, user):
    PrinterFactory.create_batch(LIMIT - 1, owner=user)

    response = admin_browser.post(ADMIN_ADD, admin_form(user, "From the admin"))

    assert response.status_code == 302
    added = Printer.objects.get(name="From the admin")
    assert added.owner == user
    assert stats_rows().filter(printer=added).exists()  # predict needs it: printer_create makes it


def test_the_admin_refuses_a_printer_past_the_limit_with_a_form_error_and_creates_nothing(admin_browser, user):
    PrinterFactory.create_batch(LIMIT, owner=user)
    stats_before = stats_rows().count()

    response = admin_browser.post(ADMIN_ADD, admin_form(user, "One too many"))

    assert response.status_code == 200
    assert ADMIN_TOO_MANY in response.content.decode()
    assert not Printer.objects.filter(name="One too many").exists()
    assert Printer.objects.filter(owner=user).count() == LIMIT
    assert stats_rows().count() == stats_before


def test_the_admin_refuses_to_move_a_printer_to_an_owner_at_the_limit(admin_browser, user):
    PrinterFactory.create_batch(LIMIT, owner=user)
    printer = PrinterFactory(owner=UserFactory(), name="Moved")

    moved = admin_browser.post(f"/admin/printers/printer/{printer.pk}/change/", admin_form(user, "Moved"))
    renamed = admin_browser.post(f"/admin/printers/printer/{printer.pk}/change/", admin_form(printer.owner, "Renamed"))

    assert moved.status_code == 200
    assert ADMIN_TOO_MANY in moved.content.decode()
    assert renamed.status_code == 302  # its own owner's printer is not counted again
    printer.refresh_from_db()
    assert printer.owner != user
    assert Printer.objects.filter(owner=user).count() == LIMIT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's IMMEDIATE transactions serialise every writer")
@pytest.mark.django_db(transaction=True)
def test_two_admin_adds_at_once_cannot_both_pass_the_limit(user, django_user_model, monkeypatch):
    """As the service's test above, through two admin sessions: the second waits for the first's lock."""
    PrinterFactory.create_batch(LIMIT - 1, owner=user)
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-not-used")

    def add(name: str):
        browser = Client()
        browser.force_login(admin)
        return browser.post(ADMIN_ADD, admin_form(user, name))

    answers = race_while_first_is_held(monkeypatch, add)

    assert answers["first"].status_code == 302
    assert answers["second"].status_code == 200
    assert ADMIN_TOO_MANY in answers["second"].content.decode()
    assert not Printer.objects.filter(name="second").exists()
    assert Printer.objects.filter(owner=user).count() == LIMIT
