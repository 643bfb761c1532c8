"""Printers: owned by a user, printing at most one print at a time."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from detection.region import InvalidRegion, parse_region

# Obico's range for "detective sensitivity": the verdict's thresholds are raised to its power
# (detection.verdict.threshold_at): 2.0 squares them, 0.5 takes their square root.
SENSITIVITY_MIN = 0.5
SENSITIVITY_MAX = 2.0


def validate_roi(value) -> None:
    """The model's check of ``roi`` (admin forms): the API's rules, from ``detection.region.parse_region``."""
    try:
        parse_region(value)
    except InvalidRegion as exc:
        raise ValidationError(str(exc), code="invalid") from None


class Printer(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="printers")
    name = models.CharField(max_length=255)
    sensitivity = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(SENSITIVITY_MIN), MaxValueValidator(SENSITIVITY_MAX)],
        help_text="How readily the verdict rises (0.5 to 2.0): its thresholds are raised to this power.",
    )
    # {"x1", "y1", "x2", "y2"} as fractions of the frame, written by printers.services only after
    # detection.region.parse_region accepted it; null is the whole frame.
    roi = models.JSONField(
        null=True,
        blank=True,
        default=None,
        validators=[validate_roi],
        help_text='Region of interest: {"x1", "y1", "x2", "y2"} as fractions of the frame; empty is the whole frame.',
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
