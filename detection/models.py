"""The per-printer temporal statistics row: the one place predictions are counted."""

from django.db import models

from detection.temporal import TemporalStats
from detection.verdict import Verdict

VERDICT_CHOICES = [(v.value, v.value) for v in Verdict]


class PrinterStats(models.Model):
    """One row per printer, read and written only under the printer's row lock.

    This row is not locked itself: every predict, print start and print finish first takes the
    printer's lock (``printers.services.printer_lock``: ``SELECT ... FOR UPDATE`` on the printer's
    row; a predict's also filters on the owner), then reads this row and writes it once. Field
    meanings are in ``detection.temporal.TemporalStats``.
    """

    printer = models.OneToOneField("printers.Printer", on_delete=models.CASCADE, primary_key=True, related_name="stats")
    ewm_mean = models.FloatField(default=0.0)
    rolling_mean_short = models.FloatField(default=0.0)
    rolling_mean_long = models.FloatField(default=0.0)
    prediction_num = models.PositiveIntegerField(default=0)
    prediction_num_lifetime = models.PositiveBigIntegerField(default=0)
    last_p = models.FloatField(null=True, blank=True)
    last_predicted_at = models.DateTimeField(null=True, blank=True)
    # The verdict of the current print's latest prediction; blank before its first.
    last_verdict = models.CharField(max_length=8, blank=True, default="", choices=VERDICT_CHOICES)
    # The adaptive verdict's state (detection.verdict, detection.adaptation): the print's smoothed
    # discounted score, and the printer's memory of its clean frames, PrinterMemory.as_json().
    score_ewm = models.FloatField(default=0.0)
    memory = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "printer stats"

    def __str__(self) -> str:
        return f"stats of printer {self.printer_id}"

    def temporal_stats(self) -> TemporalStats:
        """The row's numbers as the pure value the statistics math works on."""
        return TemporalStats.of(self)

    def set_temporal_stats(self, stats: TemporalStats) -> None:
        """Copy the pure value's numbers onto the row (the caller saves it)."""
        for name, value in stats.as_dict().items():
            setattr(self, name, value)


class Prediction(models.Model):
    """One scored snapshot of a print: the history behind the admin chart and the timeline API."""

    print = models.ForeignKey("prints.Print", on_delete=models.CASCADE, related_name="predictions")
    created_at = models.DateTimeField(db_index=True)
    p = models.FloatField()
    ewm_mean = models.FloatField()
    rolling_mean_short = models.FloatField()
    rolling_mean_long = models.FloatField()
    prediction_num = models.PositiveIntegerField()
    prediction_num_lifetime = models.PositiveBigIntegerField()
    verdict = models.CharField(max_length=8, choices=VERDICT_CHOICES)
    # p after the printer's memory discounted what its camera always shows (detection.adaptation).
    score = models.FloatField(default=0.0)
    # The spec's [[confidence, [xc, yc, w, h]], ...] in pixels of the snapshot.
    detections = models.JSONField(default=list)

    class Meta:
        ordering = ["print_id", "prediction_num"]
        indexes = [models.Index(fields=["print", "prediction_num"])]

    def __str__(self) -> str:
        return f"prediction {self.prediction_num} of print {self.print_id}"
