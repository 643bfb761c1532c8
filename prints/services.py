"""Writes of prints: the one place a print starts and the one place it ends."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from detection import temporal
from detection.models import PrinterStats
from detection.selectors import printer_stats_lock
from printers.models import Printer
from printers.selectors import PRINTER_NOT_PRINTING
from prints.models import Print
from webhooks.services import EVENT_PRINT_FINISHED, EVENT_PRINT_STARTED, webhook_event_enqueue


@transaction.atomic
def print_start(*, printer: Printer, filename: str, application=None) -> Printer:
    """Start a print on an idle printer and reset the per-print statistics.

    A printer that is already printing is refused, never silently restarted (the spec's 400).
    ``application`` is the OAuth app starting it: the print's webhooks go to that app.
    """
    stats = printer_stats_lock(printer_id=printer.pk)
    printer = stats.printer
    if printer.current_print_id is not None:
        raise ValidationError("The printer is already printing; finish that print first.", code="already_printing")
    new_print = Print.objects.create(
        printer=printer, filename=filename, started_at=timezone.now(), application=application
    )
    printer.current_print = new_print
    printer.save(update_fields=["current_print", "updated_at"])
    stats.set_temporal_stats(temporal.start_print(stats.temporal_stats()))
    stats.last_verdict = ""
    stats.save(update_fields=[*PrinterStats.STATS_FIELDS, "last_verdict"])
    webhook_event_enqueue(event=EVENT_PRINT_STARTED, print_=new_print)
    return printer


@transaction.atomic
def print_finish(*, printer: Printer, status: str) -> Printer:
    """End the printer's current print as ``finished`` or ``cancelled``, keeping its count."""
    stats = printer_stats_lock(printer_id=printer.pk)
    printer = stats.printer
    ending = printer.current_print
    if ending is None:
        raise Http404(PRINTER_NOT_PRINTING)
    ending.status = status
    ending.ended_at = timezone.now()
    ending.prediction_num = stats.prediction_num
    ending.save(update_fields=["status", "ended_at", "prediction_num"])
    printer.current_print = None
    printer.save(update_fields=["current_print", "updated_at"])
    webhook_event_enqueue(event=EVENT_PRINT_FINISHED, print_=ending)
    return printer
