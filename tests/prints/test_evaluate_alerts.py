"""``manage.py evaluate_alerts``: sequences replayed through the service's own predict path, alerts counted.

The tiny model scores a white frame p = 0.7 (two detections) and a black one 0, so each sequence's
alerts are known numbers.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from detection.models import PrinterStats
from prints.models import Alert, Print
from tests.fixtures.images import make_image_bytes

WHITE = make_image_bytes(size=(64, 48), color=(255, 255, 255), image_format="PNG")
BLACK = make_image_bytes(size=(64, 48), color=(0, 0, 0), image_format="PNG")


def write(folder, frames, onset=None, meta=None):
    folder.mkdir(parents=True)
    for index, data in enumerate(frames):
        (folder / f"frame_{index:03d}.png").write_bytes(data)
    if onset is not None:
        (folder / "onset.txt").write_text(f"frame_{onset:03d}.png\n")
    if meta:
        (folder / "meta.json").write_text(json.dumps(meta))


@pytest.fixture
def folders(tmp_path):
    clean = tmp_path / "clean"
    write(clean / "PrintA", [BLACK] * 3)
    write(clean / "PrintB", [BLACK] * 2)
    failing = tmp_path / "failing"
    write(failing / "spaghetti-1", [BLACK] * 20 + [WHITE] * 10, onset=20, meta={"kind": "spaghetti", "print": "PrintA"})
    write(failing / "spaghetti-2", [BLACK] * 12 + [WHITE] * 8, onset=12, meta={"kind": "spaghetti", "print": "PrintB"})
    return clean, failing


def evaluate(*args):
    out = StringIO()
    call_command("evaluate_alerts", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_failing_sequences_alert_within_snapshots_and_clean_ones_never(folders, tmp_path):
    clean, failing = folders

    report = evaluate(
        f"cam={failing}",
        f"cam={clean}",
        f"--history=cam={clean}",
        "--min-snapshots=40",
        f"--details={tmp_path / 'd.json'}",
        "--set=ADAPTIVE_WARNING=0.5",
    )

    overall = report["summary"]["cam/all"]
    assert report["overrides"] == {"ADAPTIVE_WARNING": 0.5}
    assert report["replays"] == 4 * 3  # two failing and two clean sequences, on new, short and seasoned printers
    assert (overall["clean_prints"], overall["clean_prints_falsely_alerted"], overall["clean_snapshots"]) == (6, 0, 240)
    assert (overall["failing"], overall["alerted_within_30"], overall["false_alert_before_onset"]) == (6, 6, 0)
    # p = 0.7 from the onset: the EWM of span 8 is 0.16, 0.28, 0.37, 0.44, then 0.501 over a warning at 0.5
    assert overall["median_delay"] == 5
    details = json.loads((tmp_path / "d.json").read_text())
    assert {(d["sequence"], d["history"], d["delay"]) for d in details if d["onset"] is not None} == {
        (name, history, 5) for name in ("spaghetti-1", "spaghetti-2") for history in ("new", "short", "seasoned")
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_obicos_rule_can_be_replayed_and_the_run_leaves_no_rows(folders):
    _clean, failing = folders

    report = evaluate(f"cam={failing}", "--rule=obico", "--histories=new")

    # Obico's rule never alarms before a print's 30th snapshot, and its baseline climbs with the failure.
    assert report["summary"]["cam/new"]["missed"] == 2
    assert not Print.objects.exists()
    assert not Alert.objects.exists()
    assert not PrinterStats.objects.exists()
