"""The predict path's hand-built statements read and write exactly what the ORM would."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from detection import sql
from detection.models import Prediction, PrinterStats
from detection.selectors import printer_stats_lock
from printers.models import Printer
from prints.models import Print
from tests.conftest import snapshot
from tests.factories import PrinterFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def printing(printer):
    started = timezone.now() - timedelta(minutes=5)
    current = Print.objects.create(printer=printer, filename="a.gcode", started_at=started)
    printer.current_print = current
    printer.save(update_fields=["current_print"])
    return printer


def test_the_lock_reads_the_same_rows_as_the_orm(printing, user):
    with transaction.atomic():
        stats = printer_stats_lock(printer_id=printing.pk, owner=user)

    expected = PrinterStats.objects.select_related("printer__current_print").get(pk=printing.pk)
    assert [getattr(stats, f.attname) for f in PrinterStats._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in PrinterStats._meta.concrete_fields
    ]
    assert stats.printer == expected.printer
    assert stats.printer.sensitivity == expected.printer.sensitivity
    assert stats.printer.created_at == expected.printer.created_at  # aware datetimes, as the ORM reads them
    assert stats.printer.current_print == expected.printer.current_print
    assert stats.printer.current_print.started_at == expected.printer.current_print.started_at
    assert stats.printer.current_print.started_at.tzinfo is not None
    assert not stats._state.adding
    assert not stats.printer.current_print._state.adding


def test_an_idle_printer_has_no_current_print(printer):
    with transaction.atomic():
        stats = printer_stats_lock(printer_id=printer.pk)

    assert stats.printer.current_print is None
    assert stats.printer.current_print_id is None


def test_the_lock_matches_only_the_owners_printer(printer):
    with transaction.atomic(), pytest.raises(PrinterStats.DoesNotExist):
        printer_stats_lock(printer_id=printer.pk, owner=UserFactory())


def test_a_missing_printer_has_no_row_to_lock(db):
    with transaction.atomic(), pytest.raises(PrinterStats.DoesNotExist):
        printer_stats_lock(printer_id=987654)


def test_update_fields_writes_only_those_fields(printing):
    stats = PrinterStats.objects.get(pk=printing.pk)
    now = timezone.now()
    stats.ewm_mean, stats.prediction_num, stats.last_predicted_at = 0.25, 7, now
    stats.rolling_mean_long = 0.9  # changed, but not named: must not be written

    sql.update_fields(stats, ["ewm_mean", "prediction_num", "last_predicted_at"])

    stored = PrinterStats.objects.get(pk=printing.pk)
    assert (stored.ewm_mean, stored.prediction_num, stored.last_predicted_at) == (0.25, 7, now)
    assert stored.rolling_mean_long == 0.0


def test_insert_stores_what_create_would(printing):
    now = timezone.now()
    fields = dict(
        print=printing.current_print,
        created_at=now,
        p=0.5,
        verdict="warning",
        detections=[[0.5, [10.0, 20.0, 3.5, 4.0]]],
        ewm_mean=0.1,
        rolling_mean_short=0.2,
        rolling_mean_long=0.3,
        prediction_num=4,
        prediction_num_lifetime=9,
    )

    sql.insert(Prediction(**fields))
    Prediction.objects.create(**fields)

    by_sql, by_orm = Prediction.objects.order_by("id")
    columns = [f.attname for f in Prediction._meta.concrete_fields if not f.primary_key]
    assert [getattr(by_sql, c) for c in columns] == [getattr(by_orm, c) for c in columns]
    assert by_sql.created_at == now
    assert by_sql.detections == fields["detections"]
    # Filters and ordering on the timestamp agree too (SQLite compares the stored text).
    assert Prediction.objects.filter(created_at__lt=now + timedelta(microseconds=1)).count() == 2
    assert Prediction.objects.filter(created_at__gt=now).count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: SQLite serialises whole transactions")
@pytest.mark.django_db(transaction=True)
def test_a_lock_that_waited_reads_the_printer_as_the_holder_committed_it(printing):
    """The read after the lock sees the finish that held the lock."""
    holder, observer = (connections.create_connection(DEFAULT_DB_ALIAS) for _ in range(2))
    result, errors = {}, []

    def wait_for_the_lock():
        try:
            with transaction.atomic():
                result["stats"] = printer_stats_lock(printer_id=printing.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    waiter = threading.Thread(target=wait_for_the_lock)
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute(sql._stats_lock_sql(holder.vendor, by_owner=False), [printing.pk])
            waiter.start()
            wait_until_a_query_waits_for_a_lock(observer)
            # The holder ends the print while the other transaction waits for the row.
            table, pk = Printer._meta.db_table, Printer._meta.pk.column
            column = Printer._meta.get_field("current_print").column
            end_the_print = f"UPDATE {table} SET {column} = NULL WHERE {pk} = %s"  # noqa: S608 (names from the model)
            cursor.execute(end_the_print, [printing.pk])
        holder.commit()
        waiter.join(timeout=10)
    finally:
        holder.close()
        observer.close()

    assert errors == []
    assert result["stats"].printer.current_print is None


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
    raise AssertionError("no query waited for the statistics lock")


def test_other_owners_printers_are_untouched_by_a_predict(api, printing, user):
    other = PrinterFactory()
    before = PrinterStats.objects.get(pk=other.pk)

    answer = api.post(f"/api/v1/printers/{printing.pk}/predict/", {"img": snapshot()}, format="multipart")

    assert answer.status_code == 200

    after = PrinterStats.objects.get(pk=other.pk)
    assert after.prediction_num_lifetime == before.prediction_num_lifetime
    assert PrinterStats.objects.get(pk=printing.pk).prediction_num_lifetime == 1
