"""Printers: owned by a user, printing at most one print at a time."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Obico's range for "detective sensitivity": 0.5 halves and 2.0 doubles the smoothed score.
SENSITIVITY_MIN = 0.5
SENSITIVITY_MAX = 2.0


class Printer(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="printers")
    name = models.CharField(max_length=255)
    sensitivity = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(SENSITIVITY_MIN), MaxValueValidator(SENSITIVITY_MAX)],
        help_text="Scales the smoothed failure score before the verdict thresholds (0.5 to 2.0).",
    )
    # The print in progress, if any; set and cleared only by prints.services under the printer's lock.
    current_print = models.OneToOneField(
        "prints.Print", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
