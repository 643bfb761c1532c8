"""The printer's lock: ``printers.services.printer_lock``, taken by start, finish, predict and delete."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from detection.models import PrinterStats
from printers.models import Printer
from printers.services import printer_lock
from prints.models import Print
from tests.factories import PrinterFactory, UserFactory
from tests.fixtures.images import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def printing(printer):
    started = timezone.now() - timedelta(minutes=5)
    current = Print.objects.create(printer=printer, filename="a.gcode", started_at=started)
    printer.current_print = current
    printer.save(update_fields=["current_print"])
    return printer


def test_the_lock_returns_the_printer_with_its_print_and_statistics(printing, user):
    with transaction.atomic():
        locked = printer_lock(printer_id=printing.pk, owner=user)

    expected = Printer.objects.select_related("current_print", "stats").get(pk=printing.pk)
    assert [getattr(locked, f.attname) for f in Printer._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in Printer._meta.concrete_fields
    ]
    assert locked.created_at.tzinfo is not None
    assert locked.current_print == expected.current_print
    assert locked.current_print.started_at == expected.current_print.started_at
    for model, ours, orms in (
        (Print, locked.current_print, expected.current_print),
        (PrinterStats, locked.stats, expected.stats),
    ):
        assert [getattr(ours, f.attname) for f in model._meta.concrete_fields] == [
            getattr(orms, f.attname) for f in model._meta.concrete_fields
        ]
        assert not ours._state.adding
    assert locked.current_print.started_at.tzinfo is not None


def test_an_idle_printer_has_no_current_print(printer):
    with transaction.atomic():
        locked = printer_lock(printer_id=printer.pk)

    assert locked.current_print is None
    assert locked.current_print_id is None


def test_the_lock_matches_only_the_owners_printer(printer):
    with transaction.atomic(), pytest.raises(Printer.DoesNotExist):
        printer_lock(printer_id=printer.pk, owner=UserFactory())


def test_a_missing_printer_has_no_row_to_lock(db):
    with transaction.atomic(), pytest.raises(Printer.DoesNotExist):
        printer_lock(printer_id=987654)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: SQLite serialises whole transactions")
@pytest.mark.django_db(transaction=True)
def test_a_lock_that_waited_reads_the_printer_as_the_holder_committed_it(printing):
    """The read after the lock sees the finish that held the lock."""
    holder, observer = (connections.create_connection(DEFAULT_DB_ALIAS) for _ in range(2))
    result, errors = {}, []

    def wait_for_the_lock():
        try:
            with transaction.atomic():
                result["printer"] = printer_lock(printer_id=printing.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    waiter = threading.Thread(target=wait_for_the_lock)
    table, pk = Printer._meta.db_table, Printer._meta.pk.column
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute(f"SELECT {pk} FROM {table} WHERE {pk} = %s FOR UPDATE", [printing.pk])  # noqa: S608
            waiter.start()
            wait_until_a_query_waits_for_a_lock(observer)
            # The holder ends the print while the other transaction waits for the row.
            column = Printer._meta.get_field("current_print").column
            end_the_print = f"UPDATE {table} SET {column} = NULL WHERE {pk} = %s"  # noqa: S608 (names from the model)
            cursor.execute(end_the_print, [printing.pk])
        holder.commit()
        waiter.join(timeout=10)
    finally:
        holder.close()
        observer.close()

    assert errors == []
    assert result["printer"].current_print is None


def wait_until_a_query_waits_for_a_lock(observer, seconds=10.0):
    # Its own connection in autocommit: within one transaction pg_stat_activity does not change.
    deadline = time.monotonic() + seconds
    with observer.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no query waited for the printer's lock")


def test_other_owners_printers_are_untouched_by_a_predict(api, printing, user):
    other = PrinterFactory()
    before = PrinterStats.objects.get(pk=other.pk)

    answer = api.post(f"/api/v1/printers/{printing.pk}/predict/", {"img": snapshot()}, format="multipart")

    assert answer.status_code == 200
    after = PrinterStats.objects.get(pk=other.pk)
    assert after.prediction_num_lifetime == before.prediction_num_lifetime
    assert PrinterStats.objects.get(pk=printing.pk).prediction_num_lifetime == 1
