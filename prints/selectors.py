"""Reads of prints. Ownership is part of every query."""

from django.db.models import Case, F, QuerySet, When
from django.http import Http404

from prints.alert_images import alert_snapshot_tagged
from prints.models import Alert, Print


def print_prediction_count_annotate(*, queryset: QuerySet[Print]) -> QuerySet[Print]:
    """``queryset`` with each print's ``prediction_count``: the one place that count is read.

    A finished print keeps the count it ended with; a print in progress reads its printer's live
    statistics (``Print.prediction_num`` is only copied at the end), so predict writes one row only.
    The API and the admin both read it here.
    """
    return queryset.annotate(
        prediction_count=Case(
            When(status=Print.Status.PRINTING, then=F("printer__stats__prediction_num")),
            default=F("prediction_num"),
        )
    )


def print_list(*, user) -> QuerySet[Print]:
    """The user's prints, newest first, each annotated with ``prediction_count``."""
    return print_prediction_count_annotate(queryset=Print.objects.filter(printer__owner=user))


def print_get(*, user, print_id: int) -> Print:
    """One of the user's prints; another user's print is a 404 exactly like a missing one."""
    try:
        return print_list(user=user).get(pk=print_id)
    except Print.DoesNotExist:
        raise Http404("Print not found.") from None


ALERT_NOT_FOUND = "Alert not found."


def alert_list(*, print_id: int) -> QuerySet[Alert]:
    """A print's alerts, newest first (ownership is checked on the print, with ``print_get``)."""
    return Alert.objects.filter(print_id=print_id).order_by("-created_at", "-id")


def alert_get(*, user, alert_id: int) -> Alert:
    """One of the user's alerts; another user's alert is a 404 exactly like a missing one."""
    try:
        return Alert.objects.get(pk=alert_id, print__printer__owner=user)
    except Alert.DoesNotExist:
        raise Http404(ALERT_NOT_FOUND) from None


def alert_get_for_signed_link(*, alert_id: int) -> Alert:
    """Any active user's alert, for a request that holds a valid signed link to it (``prints.signing``).

    A deactivated owner's links stop working with their tokens, and work again if they are reactivated.
    """
    try:
        return Alert.objects.get(pk=alert_id, print__printer__owner__is_active=True)
    except Alert.DoesNotExist:
        raise Http404(ALERT_NOT_FOUND) from None


def alert_snapshot_jpeg(*, alert: Alert) -> bytes:
    """The alert's stored snapshot with its detections drawn (``prints.alert_images``), as a JPEG.

    Raises ``Http404`` for an alert recorded without a snapshot or whose file is gone.
    """
    if not alert.snapshot:
        raise Http404("This alert was recorded without a snapshot.")
    try:
        with alert.snapshot.open("rb") as stored:
            snapshot = stored.read()
    except FileNotFoundError:
        raise Http404("The snapshot of this alert is missing.") from None
    return alert_snapshot_tagged(snapshot, alert.detections, frame_size=(alert.frame_width, alert.frame_height))
