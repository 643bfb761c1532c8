"""The predict path's SQL, written once per process from the models' own fields.

Every predict runs the same four statements: lock the statistics row, read the printer and its
print, update the row, insert the history entry. Built by the ORM on each call they cost 2 to 3 ms
of Python a predict on a 2-core server, 7 to 10 % of the whole request (``bench/README.md``);
here each is built from ``_meta`` on first use, so a renamed column still follows its model, and
values go through the fields' own ``get_db_prep_save`` and the backend's converters, exactly as
the ORM would send and read them. Everything else in the service uses the ORM.
"""

# ruff: noqa: S608  (the SQL is built from model metadata only; every value is a bound parameter)
from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model

from detection.models import PrinterStats
from printers.models import Printer
from prints.models import Print


def stats_lock_row(*, printer_id: int, owner_id: int | None) -> PrinterStats | None:
    """``SELECT ... FOR UPDATE OF`` the statistics row (of ``owner_id``'s printer, if given), or None."""
    params = [printer_id] if owner_id is None else [printer_id, owner_id]
    with connection.cursor() as cursor:
        cursor.execute(_stats_lock_sql(connection.vendor, by_owner=owner_id is not None), params)
        row = cursor.fetchone()
    return None if row is None else _instance(PrinterStats, row)


def printer_with_current_print(*, printer_id: int) -> Printer:
    """The printer, its ``current_print`` loaded too (None when idle), in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_printer_sql(connection.vendor), [printer_id])
        row = cursor.fetchone()
    width = len(Printer._meta.concrete_fields)
    printer = _instance(Printer, row[:width])
    printer.current_print = None if row[width] is None else _instance(Print, row[width:])
    return printer


def update_fields(instance: Model, fields: list[str]) -> None:
    """``instance.save(update_fields=fields)`` for a row known to exist, without the ORM's compiler."""
    model_fields = [instance._meta.get_field(name) for name in fields]
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in model_fields]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(type(instance), tuple(fields), connection.vendor), [*values, instance.pk])


def insert(instance: Model) -> None:
    """Insert a new row for ``instance`` (its primary key is left to the database and not read back)."""
    fields = _insert_fields(type(instance))
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(instance), connection.vendor), values)


# The builders below are cached per process; their ``vendor`` argument is only part of the cache key,
# because quoting, FOR UPDATE and the converters depend on the database backend.


def _instance(model: type[Model], row) -> Model:
    """A model instance from a row of its concrete fields, as the ORM itself builds one."""
    attnames, converters = _loader(model, connection.vendor)
    values = list(row)
    for index, functions, column in converters:
        for function in functions:
            values[index] = function(values[index], column, connection)
    return model.from_db(connection.alias, attnames, values)


@cache
def _loader(model: type[Model], vendor: str) -> tuple[list[str], list[tuple]]:
    """The field names of a row, and the backend's and fields' value converters (SQLite's dates)."""
    attnames, converters = [], []
    for index, field in enumerate(model._meta.concrete_fields):
        attnames.append(field.attname)
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, functions, column))
    return attnames, converters


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(model: type[Model], alias: str) -> str:
    return ", ".join(f"{alias}.{_quote(field.column)}" for field in model._meta.concrete_fields)


@cache
def _stats_lock_sql(vendor: str, *, by_owner: bool) -> str:
    stats, printer = PrinterStats._meta, Printer._meta
    stats_pk = f"stats.{_quote(stats.pk.column)}"
    sql = f"SELECT {_columns(PrinterStats, 'stats')} FROM {_quote(stats.db_table)} stats"
    if by_owner:
        sql += f" INNER JOIN {_quote(printer.db_table)} printer ON printer.{_quote(printer.pk.column)} = {stats_pk}"
    sql += f" WHERE {stats_pk} = %s"
    if by_owner:
        sql += f" AND printer.{_quote(printer.get_field('owner').column)} = %s"
    if connection.features.has_select_for_update:
        # Only the statistics row is locked; SQLite has no row locks, and its IMMEDIATE
        # transactions already serialise the writers.
        of = ["stats"] if connection.features.has_select_for_update_of else []
        sql += " " + connection.ops.for_update_sql(of=of)
    return sql


@cache
def _printer_sql(vendor: str) -> str:
    printer, print_ = Printer._meta, Print._meta
    return (
        f"SELECT {_columns(Printer, 'printer')}, {_columns(Print, 'current')}"
        f" FROM {_quote(printer.db_table)} printer"
        f" LEFT OUTER JOIN {_quote(print_.db_table)} current"
        f" ON current.{_quote(print_.pk.column)} = printer.{_quote(printer.get_field('current_print').column)}"
        f" WHERE printer.{_quote(printer.pk.column)} = %s"
    )


@cache
def _update_sql(model: type[Model], fields: tuple[str, ...], vendor: str) -> str:
    meta = model._meta
    assignments = ", ".join(f"{_quote(meta.get_field(name).column)} = %s" for name in fields)
    return f"UPDATE {_quote(meta.db_table)} SET {assignments} WHERE {_quote(meta.pk.column)} = %s"


@cache
def _insert_fields(model: type[Model]) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


@cache
def _insert_sql(model: type[Model], vendor: str) -> str:
    fields = _insert_fields(model)
    columns = ", ".join(_quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
