"""Reads of the detection statistics."""

from detection.models import PrinterStats


def printer_stats_lock(*, printer_id: int) -> PrinterStats:
    """Lock a printer's statistics row for the rest of the transaction and return it.

    This row is the per-printer lock: predict, print start and print finish all take it first, so
    the printer (read in the same query) cannot change its current print under them. Must be
    called inside ``transaction.atomic()``; raises ``PrinterStats.DoesNotExist`` if the printer is gone.
    """
    return PrinterStats.objects.select_for_update(of=("self",)).select_related("printer").get(printer_id=printer_id)
