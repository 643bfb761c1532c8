"""Reads of the detection statistics and history."""

from django.db.models import QuerySet

from detection import sql
from detection.models import Prediction, PrinterStats
from printers.models import Printer


def printer_current_print_id(*, printer_id: int, owner) -> int | None:
    """The id of the owner's printer's current print (None when idle); ``Printer.DoesNotExist`` if not the owner's.

    One indexed query, no lock: predict asks it before decoding an upload, so that nobody makes
    us decode an image for a printer that is not theirs or not printing. The locked read after
    the model (``printer_stats_lock``) stays the authority: the print may end in between.
    """
    return Printer.objects.values_list("current_print_id", flat=True).get(pk=printer_id, owner=owner)


def printer_stats_lock(*, printer_id: int, owner=None) -> PrinterStats:
    """Lock a printer's statistics row for the rest of the transaction and return it.

    This row is the per-printer lock: predict, print start and print finish all take it first.
    With ``owner``, only that user's printer matches (the join locks no printer row: ``FOR UPDATE
    OF`` the statistics only), so a caller never holds a lock on somebody else's printer.
    The printer and its current print are read by a second query, after the lock is granted.
    Joining them into the locking query would be wrong on PostgreSQL: a ``SELECT ... FOR UPDATE``
    that waited re-reads only the rows it locks, so the joined printer could still show a print
    that the lock holder had just finished (the soak benchmark caught exactly that).
    Both statements are in ``detection.sql``: they run on every predict.
    Must be called inside ``transaction.atomic()``; raises ``PrinterStats.DoesNotExist`` if the
    printer is gone or not the owner's.
    """
    stats = sql.stats_lock_row(printer_id=printer_id, owner_id=None if owner is None else owner.pk)
    if stats is None:
        raise PrinterStats.DoesNotExist("No statistics row for this printer (and owner).")
    stats.printer = sql.printer_with_current_print(printer_id=printer_id)
    return stats


def prediction_list(*, print_id: int) -> QuerySet[Prediction]:
    """A print's predictions in the order they were made (ownership is checked on the print)."""
    return Prediction.objects.filter(print_id=print_id).order_by("prediction_num", "id")
