from django.contrib import admin
from django.utils.safestring import mark_safe

from detection.selectors import prediction_list
from prints.chart import SERIES, timeline_svg
from prints.models import Print


@admin.register(Print)
class PrintAdmin(admin.ModelAdmin):
    list_display = ["id", "filename", "printer", "status", "started_at", "ended_at", "warning_at", "failure_at"]
    list_filter = ["status", "printer"]
    list_select_related = ["printer"]
    search_fields = ["filename"]
    readonly_fields = [
        "printer",
        "application",
        "status",
        "started_at",
        "ended_at",
        "prediction_num",
        "warning_at",
        "failure_at",
    ]
    change_form_template = "admin/prints/print/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rows = []
        if object_id and object_id.isdigit():
            rows = list(prediction_list(print_id=int(object_id)).values(*(key for key, _, _ in SERIES)))
        # timeline_svg renders numbers only.
        extra_context = {**(extra_context or {}), "timeline_svg": mark_safe(timeline_svg(rows))}  # noqa: S308
        return super().change_view(request, object_id, form_url, extra_context=extra_context)
