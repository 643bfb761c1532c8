"""Reads of the detection statistics and history."""

from django.db.models import QuerySet

from detection.models import Prediction, PrinterStats


def printer_stats_lock(*, printer_id: int) -> PrinterStats:
    """Lock a printer's statistics row for the rest of the transaction and return it.

    This row is the per-printer lock: predict, print start and print finish all take it first, so
    the printer and its current print (read in the same query) cannot change under them. Must be
    called inside ``transaction.atomic()``; raises ``PrinterStats.DoesNotExist`` if the printer is gone.
    """
    return (
        PrinterStats.objects.select_for_update(of=("self",))
        .select_related("printer", "printer__current_print")
        .get(printer_id=printer_id)
    )


def prediction_list(*, print_id: int) -> QuerySet[Prediction]:
    """A print's predictions in the order they were made (ownership is checked on the print)."""
    return Prediction.objects.filter(print_id=print_id).order_by("prediction_num", "id")
