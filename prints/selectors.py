"""Reads of prints. Ownership is part of every query."""

from django.db.models import Case, F, QuerySet, When
from django.http import Http404

from prints.models import Print


def print_list(*, user) -> QuerySet[Print]:
    """The user's prints, newest first, each annotated with ``prediction_count``.

    A finished print keeps the count it ended with; a print in progress reads its printer's live
    statistics, so predict writes one row only.
    """
    return Print.objects.filter(printer__owner=user).annotate(
        prediction_count=Case(
            When(status=Print.Status.PRINTING, then=F("printer__stats__prediction_num")),
            default=F("prediction_num"),
        )
    )


def print_get(*, user, print_id: int) -> Print:
    """One of the user's prints; another user's print is a 404 exactly like a missing one."""
    try:
        return print_list(user=user).get(pk=print_id)
    except Print.DoesNotExist:
        raise Http404("Print not found.") from None
