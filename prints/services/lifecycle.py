"""The one place a print starts and ends."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from detection.services import printer_stats_print_start
from obico_api.errors import ErrorCode, InvalidInput
from printers.models import Printer
from printers.selectors import PRINTER_NOT_PRINTING
from printers.services import printer_lock
from prints.models import Print
from prints.services.events import EVENT_PRINT_FINISHED, EVENT_PRINT_STARTED, print_event_enqueue


@transaction.atomic
def print_start(*, printer: Printer, filename: str, application=None) -> Printer:
    """Start a print on an idle printer and reset the per-print statistics.

    A printer that is already printing is refused, never silently restarted (the spec's 400).
    ``application`` is the OAuth app starting it: the print's webhooks go to that app.
    """
    printer = printer_lock(printer_id=printer.pk)
    if printer.current_print_id is not None:
        raise InvalidInput("The printer is already printing; finish that print first.", code=ErrorCode.ALREADY_PRINTING)
    new_print = Print.objects.create(
        printer=printer, filename=filename, started_at=timezone.now(), application=application
    )
    printer.current_print = new_print
    printer.save(update_fields=["current_print", "updated_at"])
    printer_stats_print_start(stats=printer.stats)
    print_event_enqueue(EVENT_PRINT_STARTED, new_print)
    return printer


@transaction.atomic
def print_finish(*, printer: Printer, status: str) -> Printer:
    """End the printer's current print as ``finished`` or ``cancelled``, keeping its count."""
    printer = printer_lock(printer_id=printer.pk)
    ending = printer.current_print
    if ending is None:
        raise Http404(PRINTER_NOT_PRINTING)
    ending.status = status
    ending.ended_at = timezone.now()
    ending.prediction_num = printer.stats.prediction_num
    ending.save(update_fields=["status", "ended_at", "prediction_num"])
    printer.current_print = None
    printer.save(update_fields=["current_print", "updated_at"])
    print_event_enqueue(EVENT_PRINT_FINISHED, ending)
    return printer
