"""Reads of printers. Ownership is part of every query."""

from django.db.models import QuerySet
from django.http import Http404

from detection.region import Region, parse_region
from printers.models import Printer

# Another user's printer reads exactly like a missing one, wherever ownership is checked.
PRINTER_NOT_FOUND = "Printer not found."
PRINTER_NOT_PRINTING = "The printer is not printing."


def printer_list(*, user) -> QuerySet[Printer]:
    """The user's printers with their current print and statistics, in one query."""
    return Printer.objects.filter(owner=user).select_related("current_print", "stats")


def printer_get(*, user, printer_id: int) -> Printer:
    """One of the user's printers; another user's printer is a 404 exactly like a missing one."""
    try:
        return printer_list(user=user).get(pk=printer_id)
    except Printer.DoesNotExist:
        raise Http404(PRINTER_NOT_FOUND) from None


def printer_current_print_id_and_roi(*, printer_id: int, owner) -> tuple[int | None, Region | None]:
    """The owner's printer's current print id (None when idle) and region of interest (None: the whole frame).

    ``Printer.DoesNotExist`` if the printer is not the owner's. One indexed query, no lock: predict
    asks it before decoding an upload, so that nobody makes us decode an image for a printer that
    is not theirs or not printing, and so that it knows which part of the image to score. The
    locked read after the model (``printers.services.printer_lock``) stays the authority: the print
    may end in between.
    """
    current_print_id, roi = Printer.objects.values_list("current_print_id", "roi").get(pk=printer_id, owner=owner)
    return current_print_id, parse_region(roi)
