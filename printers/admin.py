from django import forms
from django.contrib import admin

from detection.models import PrinterStats
from detection.region import parse_region
from detection.temporal import STATS_FIELDS
from printers.models import Printer
from printers.services import TooManyPrinters, printer_capacity_lock, printer_create


class PrinterStatsInline(admin.StackedInline):
    model = PrinterStats
    can_delete = False
    readonly_fields = [*STATS_FIELDS, "last_p", "last_predicted_at", "last_verdict"]


class PrinterAdminForm(forms.ModelForm):
    """The admin's printer form: a printer added, or moved to another owner, counts against the owner's limit."""

    class Meta:
        model = Printer
        fields = ["owner", "name", "sensitivity", "roi"]

    def clean(self):
        cleaned_data = super().clean()
        owner = cleaned_data.get("owner")
        if owner is not None and (self.instance.pk is None or self.instance.owner_id != owner.pk):
            try:
                # The owner stays locked until the admin's transaction (changeform_view) commits the save.
                printer_capacity_lock(owner=owner)
            except TooManyPrinters as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return cleaned_data


# Registered by prints.admin, the one registration of Printer: the printer's page shows its alerts,
# and prints is above printers, so printers may not import it.
class PrinterAdmin(admin.ModelAdmin):
    form = PrinterAdminForm
    list_display = ["id", "name", "owner", "current_print", "sensitivity", "created_at"]
    list_select_related = ["owner", "current_print"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["current_print", "created_at", "updated_at"]
    inlines = [PrinterStatsInline]

    def get_inlines(self, request, obj):
        # A printer's statistics row is made with it, by printer_create: nothing to fill in on the add page.
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Added as the API adds one: under the owner's lock (again), with its statistics row.
        created = printer_create(owner=obj.owner, name=obj.name, sensitivity=obj.sensitivity, roi=parse_region(obj.roi))
        # The admin goes on with ``obj`` (its history entry, the redirect): make it the printer just added.
        obj.pk = created.pk
        obj.refresh_from_db()
