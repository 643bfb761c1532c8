from django.contrib import admin

from detection.models import PrinterStats
from detection.temporal import STATS_FIELDS
from printers.models import Printer


class PrinterStatsInline(admin.StackedInline):
    model = PrinterStats
    can_delete = False
    readonly_fields = [*STATS_FIELDS, "last_p", "last_predicted_at", "last_verdict"]


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "owner", "current_print", "sensitivity", "created_at"]
    list_select_related = ["owner", "current_print"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["current_print", "created_at", "updated_at"]
    inlines = [PrinterStatsInline]
