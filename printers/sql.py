"""Predict's read after the printer's lock, as one statement built once per process from the models.

``printer_lock`` locks the printer with the ORM, then reads the printer, its current print and its
statistics again. Built by the ORM on every call, that read (``select_related`` over three models)
costs about 1 ms of Python a predict on a 2-core server (``bench/README.md``, "Where the time goes").
Here the same ``SELECT`` is built once from the models' ``_meta``, so a renamed column still follows
its model, and the row is read as the ORM would: the backend's and the fields' converters, then
``from_db``. This is the only hand-built SQL in the service.
"""

# ruff: noqa: S608  (the SQL is built from model metadata only; the value is a bound parameter)
from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model

from printers.models import Printer


def printer_with_print_and_stats(printer_id: int) -> Printer:
    """``Printer.objects.select_related("current_print", "stats").get(pk=printer_id)``, without the compiler."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor), [printer_id])
        row = cursor.fetchone()
    if row is None:
        raise Printer.DoesNotExist("No such printer.")
    print_model, stats_model = _related_models()
    printer_end = len(Printer._meta.concrete_fields)
    print_end = printer_end + len(print_model._meta.concrete_fields)
    printer = _instance(Printer, row[:printer_end])
    printer.current_print = None if row[printer_end] is None else _instance(print_model, row[printer_end:print_end])
    printer.stats = _instance(stats_model, row[print_end:])
    return printer


def _related_models() -> tuple[type[Model], type[Model]]:
    """The print and statistics models, found through the printer's relations (no upward import)."""
    return Printer._meta.get_field("current_print").related_model, Printer._meta.get_field("stats").related_model


def _instance(model: type[Model], row) -> Model:
    """A model instance from a row of its concrete fields, as the ORM itself builds one."""
    attnames, converters = _loader(model, connection.vendor)
    values = list(row)
    for index, functions, column in converters:
        for function in functions:
            values[index] = function(values[index], column, connection)
    return model.from_db(connection.alias, attnames, values)


# Cached per process; ``vendor`` is only part of the key: quoting and converters depend on the backend.


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


@cache
def _sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    print_model, stats_model = _related_models()
    printer, print_, stats = Printer._meta, print_model._meta, stats_model._meta

    def columns(model: type[Model], alias: str) -> str:
        return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)

    printer_pk = f"printer.{quote(printer.pk.column)}"
    return (
        f"SELECT {columns(Printer, 'printer')}, {columns(print_model, 'current')}, {columns(stats_model, 'stats')}"
        f" FROM {quote(printer.db_table)} printer"
        f" LEFT OUTER JOIN {quote(print_.db_table)} current"
        f" ON current.{quote(print_.pk.column)} = printer.{quote(printer.get_field('current_print').column)}"
        f" INNER JOIN {quote(stats.db_table)} stats ON stats.{quote(stats.pk.column)} = {printer_pk}"
        f" WHERE {printer_pk} = %s"
    )
