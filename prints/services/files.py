"""Alert files: deleted when the transaction that wrote them fails, pruned with their alerts past
retention, and swept when no alert names them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from prints.models import ALERT_FILES_FOLDER, Alert

logger = logging.getLogger(__name__)

# A file younger than this may belong to a transaction still running; never swept.
ORPHAN_FILE_MIN_AGE = timedelta(hours=1)
_PRUNE_BATCH = 500


def alert_files_delete(*, names: list[str]) -> None:
    """Delete these files from the storage; one that cannot be deleted is logged and left to the sweep."""
    storage = Alert._meta.get_field("snapshot").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # the sweep (alert_files_sweep) removes it later
            logger.exception("Could not delete the alert file %s", name)


@contextmanager
def files_deleted_on_error() -> Iterator[list[str]]:
    """A list for the names of the files a block writes: if the block raises, they are deleted.

    Wraps a transaction that writes files before the rows naming them: when it rolls back (or its
    commit fails), the files go too. The block adds each name as soon as it has one. A process
    killed in between leaves files no row names, which ``alert_files_sweep`` deletes an hour later.
    """
    written: list[str] = []
    try:
        yield written
    except BaseException:
        alert_files_delete(names=written)
        raise


def alert_prune(*, now: datetime | None = None) -> int:
    """Delete alerts older than ``PREDICTION_RETENTION_DAYS`` with their files; returns how many.

    The rows go first, in batches, then their files: a crash in between leaves files no row names
    (the sweep's), never a row whose files are gone.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted = 0
    while batch := list(Alert.objects.filter(created_at__lt=cutoff).values_list("pk", "snapshot")[:_PRUNE_BATCH]):
        Alert.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
        alert_files_delete(names=[name for _, name in batch if name])
        deleted += len(batch)
    return deleted


def alert_files_sweep(*, now: datetime | None = None) -> int:
    """Delete files in the alerts folder that no alert names and that are over an hour old; returns how many.

    They are left by a process killed between writing an alert's files and committing its row, by a
    rollback of an enclosing transaction, by prints deleted with their printer, and by the tagged
    copies alerts kept before migration ``prints.0004`` (now drawn when served).
    """
    storage = Alert._meta.get_field("snapshot").storage
    try:
        _, files = storage.listdir(ALERT_FILES_FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = (now or timezone.now()) - ORPHAN_FILE_MIN_AGE
    deleted = 0
    for start in range(0, len(files), _PRUNE_BATCH):
        names = [f"{ALERT_FILES_FOLDER}/{file}" for file in files[start : start + _PRUNE_BATCH]]
        named = set(Alert.objects.filter(snapshot__in=names).values_list("snapshot", flat=True))
        orphans = [name for name in names if name not in named and _modified_before(storage, name, cutoff)]
        alert_files_delete(names=orphans)
        deleted += len(orphans)
    return deleted


def _modified_before(storage, name: str, cutoff: datetime) -> bool:
    """Whether the file was last written before ``cutoff``; False if it is gone already."""
    try:
        return storage.get_modified_time(name) < cutoff
    except FileNotFoundError:
        return False
