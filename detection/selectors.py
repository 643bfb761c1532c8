"""Reads of the detection history."""

from django.db.models import QuerySet

from detection.models import Prediction


def prediction_list(*, print_id: int) -> QuerySet[Prediction]:
    """A print's predictions in the order they were made (ownership is checked on the print)."""
    return Prediction.objects.filter(print_id=print_id).order_by("prediction_num", "id")
