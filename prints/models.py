"""Prints: one run of one file on one printer, from start to finish, and the alerts it raised."""

import uuid

from django.db import models


class Print(models.Model):
    class Status(models.TextChoices):
        PRINTING = "printing"
        FINISHED = "finished"
        CANCELLED = "cancelled"

    printer = models.ForeignKey("printers.Printer", on_delete=models.CASCADE, related_name="prints")
    filename = models.CharField(max_length=255)
    # The OAuth application that started the print receives its webhooks.
    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PRINTING)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Copied from the printer's statistics when the print ends; while printing the live count
    # comes from the statistics row (see prints.selectors).
    prediction_num = models.PositiveIntegerField(default=0)
    # When the server's verdict first reached each level during this print.
    warning_at = models.DateTimeField(null=True, blank=True)
    failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["printer", "-started_at"])]
        constraints = [
            # The database itself refuses a second print in progress on one printer.
            models.UniqueConstraint(
                fields=["printer"],
                condition=models.Q(status="printing"),
                name="one_print_in_progress_per_printer",
            ),
        ]

    def __str__(self) -> str:
        return self.filename


# Every alert file lies directly in this folder of the default storage (prints.services.files.alert_files_sweep).
ALERT_FILES_FOLDER = "alerts"


def alert_file_name(instance, filename: str) -> str:
    """``alerts/<random hex>.jpg``: a name nobody can guess, whatever the file was called."""
    return f"{ALERT_FILES_FOLDER}/{uuid.uuid4().hex}.jpg"


class Alert(models.Model):
    """A print's verdict rising into warning or failure: the frame that did it, kept with its snapshot.

    Recorded by ``prints.services.alerts.print_escalate``; its webhook event carries a signed link to the
    snapshot, whose boxes are drawn when it is served. The owner's ``feedback`` silences later alerts
    of its level in the same print (``false_alarm``) and feeds ``manage.py export_feedback``.
    """

    class Level(models.TextChoices):
        WARNING = "warning"
        FAILURE = "failure"

    class Feedback(models.TextChoices):
        NONE = "", "none"
        FAILURE = "failure"
        FALSE_ALARM = "false_alarm"

    print = models.ForeignKey(Print, on_delete=models.CASCADE, related_name="alerts")
    level = models.CharField(max_length=8, choices=Level.choices)
    created_at = models.DateTimeField(db_index=True)
    p = models.FloatField()
    # The prediction's statistics, keyed by detection.temporal.STATS_FIELDS.
    temporal_stats = models.JSONField()
    # The spec's [[confidence, [xc, yc, w, h]], ...] in pixels of the uploaded frame.
    detections = models.JSONField(default=list)
    # The uploaded frame's upright size, the frame of the detections (the boxes are drawn, and
    # export_feedback normalises, by it); null when the frame was not decoded again (no snapshot).
    frame_width = models.PositiveIntegerField(null=True, blank=True)
    frame_height = models.PositiveIntegerField(null=True, blank=True)
    # The frame downscaled to at most 1280 px on its longer side, without boxes. Empty when none was
    # stored: past the owner's ALERT_STORAGE_QUOTA_BYTES, or when the storage could not write it.
    snapshot = models.FileField(upload_to=alert_file_name, blank=True)
    # The stored file's size: what it counts against the owner's quota.
    snapshot_bytes = models.PositiveIntegerField(default=0)
    feedback = models.CharField(max_length=16, choices=Feedback.choices, blank=True, default="")
    feedback_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["print", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.level} alert of print {self.print_id}"
