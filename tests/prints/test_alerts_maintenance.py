"""Pruning alerts with their files and sweeping orphan files; exporting the answered alerts as a dataset."""

import io
import json
import os
import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command, get_commands
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from PIL import Image

from prints.feedback_export import yolo_label_lines
from prints.models import Alert
from tests.factories import ALERT_DETECTIONS, AlertFactory, PrintFactory
from training import dataset

pytestmark = pytest.mark.django_db


def quietly(*args):
    call_command(*args, stdout=io.StringIO())


def files_of(alert: Alert) -> list[str]:
    return [alert.snapshot.name]


def orphan(media_root, name: str, *, age: timedelta):
    """A file in the alerts folder that no alert names, last modified ``age`` ago."""
    path = media_root / "alerts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    moment = time.time() - age.total_seconds()
    os.utime(path, (moment, moment))
    return f"alerts/{name}"


def test_prune_predictions_is_the_prints_command_that_also_prunes_alerts():
    assert get_commands()["prune_predictions"] == "prints"


def test_prune_deletes_alerts_past_retention_with_their_files_and_old_orphans(settings, media_root):
    settings.PREDICTION_RETENTION_DAYS = 7
    old = AlertFactory(created_at=timezone.now() - timedelta(days=8))
    recent = AlertFactory(created_at=timezone.now() - timedelta(days=6))
    old_files, recent_files = files_of(old), files_of(recent)
    stale = orphan(media_root, "0" * 32 + ".jpg", age=timedelta(hours=2))
    in_flight = orphan(media_root, "1" * 32 + ".jpg", age=timedelta(minutes=5))  # a transaction may still name it

    out = io.StringIO()
    call_command("prune_predictions", stdout=out)

    assert list(Alert.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not any(default_storage.exists(name) for name in [*old_files, stale])
    assert all(default_storage.exists(name) for name in [*recent_files, in_flight])
    assert "Deleted 1 alerts with their snapshots, and 1 orphan snapshot files." in out.getvalue()


def test_files_of_a_deleted_print_are_swept_once_old(media_root):
    alert = AlertFactory()
    names = files_of(alert)
    alert.print.delete()  # as when the printer is deleted: the rows go, the files stay
    an_hour_ago = time.time() - 3700
    for name in names:
        os.utime(media_root / name, (an_hour_ago, an_hour_ago))

    quietly("prune_predictions")

    assert not any(default_storage.exists(name) for name in names)


def test_prune_with_no_alerts_folder_does_nothing():
    quietly("prune_predictions")


# --- export_feedback ----------------------------------------------------------------------------


@pytest.fixture
def answered():
    """A confirmed failure, a false alarm, an unanswered alert, and a confirmed failure with no box."""
    print_ = PrintFactory()
    alerts = {
        "failure": AlertFactory(print=print_, feedback="failure", level="failure"),
        "false_alarm": AlertFactory(print=print_, feedback="false_alarm"),
        "unanswered": AlertFactory(print=print_),
        "boxless": AlertFactory(print=print_, feedback="failure", detections=[]),
        "unstored": AlertFactory(print=print_, feedback="failure"),
    }
    Alert.objects.filter(pk=alerts["unstored"].pk).update(snapshot="", snapshot_bytes=0)  # as past the quota
    return alerts


def test_export_feedback_writes_a_dataset_the_training_code_loads(answered, tmp_path):
    folder = tmp_path / "export"
    failure, false_alarm, boxless, unstored = (
        answered[key] for key in ("failure", "false_alarm", "boxless", "unstored")
    )

    out = io.StringIO()
    call_command("export_feedback", str(folder), stdout=out)

    assert "Wrote 1 failures and 1 false alarms" in out.getvalue()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == {
        "alerts": [
            {
                "alert_id": failure.pk,
                "print_id": failure.print_id,
                "level": "failure",
                "outcome": "failure",
                "image": f"spaghetti/train/images/alert-{failure.pk}.jpg",
                "label": f"spaghetti/train/labels/alert-{failure.pk}.txt",
            },
            {
                "alert_id": false_alarm.pk,
                "print_id": false_alarm.print_id,
                "level": "warning",
                "outcome": "false_alarm",
                "image": f"clean-prints/images/alert-{false_alarm.pk}.jpg",
                "label": None,
            },
        ],
        "skipped": [
            {
                "alert_id": boxless.pk,
                "print_id": boxless.print_id,
                "level": "warning",
                "outcome": "failure",
                "reason": "no detection to label",
            },
            {
                "alert_id": unstored.pk,
                "print_id": unstored.print_id,
                "level": "warning",
                "outcome": "failure",
                "reason": "no snapshot was stored",
            },
        ],
    }
    # The untagged snapshot, byte for byte.
    assert (folder / manifest["alerts"][0]["image"]).read_bytes() == failure.snapshot.open("rb").read()
    assert (folder / manifest["alerts"][0]["label"]).read_text() == "1 0.300000 0.300000 0.200000 0.200000\n"

    # training/dataset.py reads them as a failure photo with its box and a clean negative.
    ((image, label),) = dataset.spaghetti_split(folder, "train")
    sample = dataset.load_sample(image, label, (320, 240))
    np.testing.assert_allclose(sample.boxes, [[64, 48, 128, 96]], atol=1e-3)  # ALERT_DETECTIONS at 320x240
    assert sample.source_size == (640, 480)
    (negative,) = dataset.training_negatives(folder)
    assert negative.name == f"alert-{false_alarm.pk}.jpg"
    assert dataset.load_sample(negative, None, (320, 240)).boxes.shape == (0, 4)
    with Image.open(negative) as picture:
        assert picture.format == "JPEG"


def test_export_labels_are_the_detections_normalised_and_clipped_to_the_frame():
    detections = [*ALERT_DETECTIONS, [0.5, [630.0, 10.0, 40.0, 40.0]], [0.3, [700.0, 10.0, 10.0, 10.0]]]

    assert yolo_label_lines(detections, width=640, height=480) == [
        "1 0.300000 0.300000 0.200000 0.200000",
        "1 0.976562 0.031250 0.046875 0.062500",  # cut at the right and top edges; the box outside is dropped
    ]


# --- the migration to one stored copy ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_migration_keeps_the_snapshot_counts_its_bytes_and_leaves_the_tagged_copy_to_the_sweep(media_root):
    before, after = [("prints", "0003_alert")], [("prints", "0004_alert_one_stored_snapshot")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    print_ = PrintFactory()  # prints and printers are as they are now: the migration changes alerts only
    files = {"snapshot": b"s" * 1234, "tagged": b"t" * 999, "gone": b""}
    names = {}
    for key, content in files.items():
        names[key] = f"alerts/{key}.jpg"
        if content:
            default_storage.save(names[key], io.BytesIO(content))
    old_alert = old_apps.get_model("prints", "Alert")
    common = {"print_id": print_.pk, "level": "warning", "created_at": timezone.now(), "p": 1.0, "temporal_stats": {}}
    common |= {"frame_width": 640, "frame_height": 480}
    kept = old_alert.objects.create(**common, snapshot=names["snapshot"], tagged=names["tagged"])
    missing = old_alert.objects.create(**common, snapshot=names["gone"], tagged=names["gone"])

    MigrationExecutor(connection).migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # and any later one, as the other tests expect

    assert {a.pk: (a.snapshot.name, a.snapshot_bytes) for a in Alert.objects.all()} == {
        kept.pk: (names["snapshot"], 1234),
        missing.pk: (names["gone"], 0),  # its file was gone already: it counts nothing
    }
    assert default_storage.exists(names["tagged"])  # the migration deletes no file ...
    an_hour_ago = time.time() - 3700
    for key in ("snapshot", "tagged"):
        os.utime(media_root / names[key], (an_hour_ago, an_hour_ago))
    quietly("prune_predictions")
    assert not default_storage.exists(names["tagged"])  # ... the sweep does, since no alert names it now
    assert default_storage.exists(names["snapshot"])
