"""Writes of printers."""

from django.core.exceptions import ValidationError
from django.db import transaction

from detection.models import PrinterStats
from detection.selectors import printer_stats_lock
from printers.models import Printer


@transaction.atomic
def printer_create(*, owner, name: str, sensitivity: float = 1.0) -> Printer:
    """Create a printer with its (zeroed) statistics row."""
    printer = Printer.objects.create(owner=owner, name=name, sensitivity=sensitivity)
    PrinterStats.objects.create(printer=printer)
    return printer


def printer_update(*, printer: Printer, name: str | None = None, sensitivity: float | None = None) -> Printer:
    """Change the printer's settings; only the given fields are written."""
    fields = []
    if name is not None:
        printer.name = name
        fields.append("name")
    if sensitivity is not None:
        printer.sensitivity = sensitivity
        fields.append("sensitivity")
    if fields:
        printer.save(update_fields=[*fields, "updated_at"])
    return printer


@transaction.atomic
def printer_delete(*, printer: Printer) -> None:
    """Delete an idle printer with its prints and statistics; a printing printer is refused."""
    stats = printer_stats_lock(printer_id=printer.pk)
    if stats.printer.current_print_id is not None:
        raise ValidationError("The printer is printing; finish the print before deleting it.", code="printing")
    stats.printer.delete()
