"""Writes of printers, and the printer's lock."""

import enum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from detection.region import Region
from detection.services import printer_stats_create
from obico_api.errors import ErrorCode, InvalidInput, ServiceError
from printers.models import Printer


class Unchanged(enum.Enum):
    """The type of ``UNCHANGED``: a field left out of an update, where None has a meaning of its own."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


class TooManyPrinters(ServiceError):
    """The owner has ``PRINTERS_MAX_PER_USER`` printers already; nothing was created."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.TOO_MANY_PRINTERS)


def printer_lock(*, printer_id: int, owner=None) -> Printer:
    """Take the printer's lock for the rest of the transaction and return the printer as it is now.

    The printer's row is the per-printer lock: print start, print finish, predict and delete all
    take it first, so a printer's print and statistics are only ever changed by one transaction
    at a time. With ``owner``, only that user's printer matches, so a caller never holds a lock on
    somebody else's printer. The printer, its current print and its statistics are read by a
    second query, after the lock is granted: a
    ``SELECT ... FOR UPDATE`` that waited re-reads only the rows it locks, so rows joined into it
    could still show what the lock holder just changed (the soak benchmark caught exactly that).
    On SQLite, which has no row locks, the project's IMMEDIATE transactions serialise the writers.
    Must be called inside ``transaction.atomic()``; raises ``Printer.DoesNotExist`` if the printer is
    gone or not the owner's.
    """
    printers = Printer.objects.filter(pk=printer_id)
    if owner is not None:
        printers = printers.filter(owner=owner)
    if not printers.select_for_update().values_list("pk", flat=True):
        raise Printer.DoesNotExist("No such printer (of this owner).")
    return Printer.objects.select_related("current_print", "stats").get(pk=printer_id)


def printer_capacity_lock(*, owner) -> None:
    """Lock ``owner``'s printers for the rest of the transaction; ``TooManyPrinters`` if one more is too many.

    Whatever gives the owner a printer (``printer_create``, the admin's form) calls this first, inside
    the transaction that then creates it, so two at once cannot both pass the count. Outside a
    transaction the lock would end at once: Django refuses ``select_for_update`` there.
    """
    # FOR NO KEY UPDATE: two creates for one owner queue here, while rows that merely refer to the
    # owner (tokens, sign-in records) can still be written meanwhile.
    list(get_user_model().objects.select_for_update(no_key=True).filter(pk=owner.pk).values_list("pk"))
    limit = settings.PRINTERS_MAX_PER_USER
    if Printer.objects.filter(owner=owner).count() >= limit:
        raise TooManyPrinters(f"An account may have at most {limit} printers; delete one to add another.")


@transaction.atomic
def printer_create(*, owner, name: str, sensitivity: float = 1.0, roi: Region | None = None) -> Printer:
    """Create a printer with its (zeroed) statistics row; ``roi`` None scores the whole frame.

    An owner has at most ``PRINTERS_MAX_PER_USER`` printers (``TooManyPrinters`` past it): the
    spec's list of printers is one array, with no pages, so its cost grows with their number. The
    count is taken under a lock on the owner's row, so two creates at once cannot both pass it; on
    SQLite, which has no row locks, the project's IMMEDIATE transactions serialise the writers.
    """
    printer_capacity_lock(owner=owner)
    printer = Printer.objects.create(
        owner=owner, name=name, sensitivity=sensitivity, roi=None if roi is None else roi.as_dict()
    )
    printer_stats_create(printer=printer)
    return printer


def printer_update(
    *,
    printer: Printer,
    name: str | None = None,
    sensitivity: float | None = None,
    roi: Region | Unchanged | None = UNCHANGED,
) -> Printer:
    """Change the printer's settings; only the given fields are written. ``roi=None`` clears the region."""
    fields = []
    if name is not None:
        printer.name = name
        fields.append("name")
    if sensitivity is not None:
        printer.sensitivity = sensitivity
        fields.append("sensitivity")
    if roi is not UNCHANGED:
        printer.roi = None if roi is None else roi.as_dict()
        fields.append("roi")
    if fields:
        printer.save(update_fields=[*fields, "updated_at"])
    return printer


@transaction.atomic
def printer_delete(*, printer: Printer) -> None:
    """Delete an idle printer with its prints and statistics; a printing printer is refused."""
    printer = printer_lock(printer_id=printer.pk)
    if printer.current_print_id is not None:
        raise InvalidInput(
            "The printer is printing; finish the print before deleting it.", code=ErrorCode.PRINTER_PRINTING
        )
    printer.delete()
