from django.contrib import admin

from prints.models import Print


@admin.register(Print)
class PrintAdmin(admin.ModelAdmin):
    list_display = ["id", "filename", "printer", "status", "started_at", "ended_at", "prediction_num"]
    list_filter = ["status", "printer"]
    list_select_related = ["printer"]
    search_fields = ["filename"]
    readonly_fields = ["printer", "started_at", "ended_at", "prediction_num"]
