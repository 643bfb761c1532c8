"""Prints: one run of one file on one printer, from start to finish."""

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
