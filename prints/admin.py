from django.contrib import admin
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from detection.selectors import prediction_list
from printers.admin import PrinterAdmin
from printers.models import Printer
from prints.chart import SERIES, timeline_svg
from prints.models import Alert, Print
from prints.selectors import alert_snapshot_jpeg, print_prediction_count_annotate

# The printer page lists this many of its latest alerts.
PRINTER_PAGE_ALERTS = 50


def alert_image_url(alert: Alert) -> str:
    """The admin's own URL of an alert's snapshot with its boxes drawn (staff only; no signed link needed)."""
    return reverse("admin:prints_alert_tagged", args=[alert.pk])


NO_SNAPSHOT = "no snapshot stored"


def alert_thumbnail(alert: Alert, *, style: str) -> str:
    """The alert's picture, linked to itself; or a note when the alert was recorded without one."""
    if not alert.snapshot:
        return format_html("<em>{}</em>", NO_SNAPSHOT)
    url = alert_image_url(alert)
    return format_html('<a href="{}"><img src="{}" alt="alert {}" style="{}"></a>', url, url, alert.pk, style)


def alerts_table(alerts, *, with_print: bool = False) -> str:
    """An HTML table of alerts with their thumbnails; every value is escaped by format_html."""
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td><a href="{}">{}</a> {}<br>{}<br>p = {}{}</td></tr>',
        (
            (
                alert_thumbnail(alert, style="max-width:200px;max-height:150px"),
                reverse("admin:prints_alert_change", args=[alert.pk]),
                alert.level,
                alert.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                f"feedback: {alert.get_feedback_display() if alert.feedback else 'none'}",
                f"{alert.p:.2f}",
                f" · print {alert.print_id}" if with_print else "",
            )
            for alert in alerts
        ),
    )
    return format_html("<table>{}</table>", rows) if rows else ""


@admin.register(Print)
class PrintAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "filename",
        "printer",
        "status",
        "started_at",
        "ended_at",
        "prediction_count",
        "warning_at",
        "failure_at",
    ]
    list_filter = ["status", "printer"]
    list_select_related = ["printer"]
    search_fields = ["filename"]
    readonly_fields = [
        "printer",
        "application",
        "status",
        "started_at",
        "ended_at",
        "prediction_count",
        "warning_at",
        "failure_at",
    ]
    change_form_template = "admin/prints/print/change_form.html"

    def get_queryset(self, request):
        return print_prediction_count_annotate(queryset=super().get_queryset(request))

    # Not the model field, which holds the count only once the print has ended.
    @admin.display(description="Prediction num", ordering="prediction_count")
    def prediction_count(self, print_: Print) -> int:
        return print_.prediction_count

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rows, alerts = [], []
        if object_id and object_id.isdigit():
            rows = list(prediction_list(print_id=int(object_id)).values(*(key for key, _, _ in SERIES)))
            alerts = Alert.objects.filter(print_id=int(object_id)).order_by("-created_at", "-id")
        extra_context = {
            **(extra_context or {}),
            # timeline_svg renders numbers only.
            "timeline_svg": mark_safe(timeline_svg(rows)),  # noqa: S308
            "alerts_table": alerts_table(alerts),
        }
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "print", "level", "created_at", "p", "feedback"]
    list_filter = ["level", "feedback"]
    list_select_related = ["print"]
    readonly_fields = [
        "print",
        "level",
        "created_at",
        "p",
        "temporal_stats",
        "detections",
        "frame_width",
        "frame_height",
        "snapshot_bytes",
        "image",
        "feedback",
        "feedback_at",
    ]
    exclude = ["snapshot"]

    def has_add_permission(self, request):
        return False  # alerts are recorded by predictions only

    @admin.display(description="Snapshot")
    def image(self, alert):
        return alert_thumbnail(alert, style="max-width:100%")

    def get_urls(self):
        tagged = path(
            "<path:object_id>/tagged.jpg",
            self.admin_site.admin_view(self.tagged_view),
            name="prints_alert_tagged",
        )
        return [tagged, *super().get_urls()]

    def tagged_view(self, request, object_id):
        """The snapshot with its boxes drawn, to staff who may view the alert."""
        alert = self.get_object(request, object_id)
        if alert is None or not self.has_view_permission(request, alert):
            raise Http404("No such alert.")
        response = HttpResponse(alert_snapshot_jpeg(alert=alert), content_type="image/jpeg")
        response["Content-Disposition"] = f'inline; filename="alert-{alert.pk}.jpg"'
        return response


# The printer's page, with its alerts and false-alarm rate: Printer's one registration, here because
# printers is below prints and may not import it (printers.admin defines PrinterAdmin and registers nothing).
@admin.register(Printer)
class PrinterWithAlertsAdmin(PrinterAdmin):
    readonly_fields = [*PrinterAdmin.readonly_fields, "false_alarm_rate", "alerts"]

    @admin.display(description="False-alarm rate")
    def false_alarm_rate(self, printer) -> str:
        """False alarms over the alerts the owner answered."""
        if printer.pk is None:
            return "-"
        counts = Alert.objects.filter(print__printer=printer).aggregate(
            answered=Count("id", filter=~Q(feedback="")),
            false_alarms=Count("id", filter=Q(feedback=Alert.Feedback.FALSE_ALARM)),
            alerts=Count("id"),
        )
        if not counts["answered"]:
            return f"no feedback yet ({counts['alerts']} alerts)"
        rate = counts["false_alarms"] / counts["answered"]
        return (
            f"{rate:.0%} ({counts['false_alarms']} false alarms of {counts['answered']} answered; "
            f"{counts['alerts']} alerts)"
        )

    @admin.display(description=f"Latest {PRINTER_PAGE_ALERTS} alerts")
    def alerts(self, printer) -> str:
        if printer.pk is None:
            return "-"
        latest = Alert.objects.filter(print__printer=printer).order_by("-created_at", "-id")[:PRINTER_PAGE_ALERTS]
        return alerts_table(latest, with_print=True) or "No alerts."
