"""Printers: owned by a user, printing at most one print at a time."""

from django.conf import settings
from django.db import models


class Printer(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="printers")
    name = models.CharField(max_length=255)
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
