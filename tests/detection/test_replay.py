"""Sequences and replay outcomes (detection/replay.py): reading folders, repeats, histories, counting."""

import json

import pytest

from detection.replay import Outcome, Sequence, history_prints, read_sequences, summarise


def write_sequence(folder, frames, onset=None, meta=None):
    folder.mkdir(parents=True)
    for index in range(frames):
        (folder / f"frame_{index:03d}.jpg").write_bytes(b"")
    if onset is not None:
        (folder / "onset.txt").write_text(f"{onset}\n")
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta))


def test_read_sequences_takes_frames_in_name_order_and_the_onset_by_name_or_index(tmp_path):
    write_sequence(tmp_path / "a-clean", 3)
    write_sequence(
        tmp_path / "b-named", 5, onset="frame_002.jpg", meta={"kind": "blob", "print": "P1", "look": "varied"}
    )
    write_sequence(tmp_path / "c-index", 5, onset="4")
    (tmp_path / "empty").mkdir()

    clean, named, index = read_sequences(tmp_path, "cam")

    assert [f.name for f in clean.frames] == ["frame_000.jpg", "frame_001.jpg", "frame_002.jpg"]
    assert (clean.onset, clean.kind, clean.print_name) == (None, "clean", "a-clean")
    assert (named.onset, named.kind, named.print_name, named.look) == (2, "blob", "P1", "varied")
    assert (index.onset, index.kind) == (4, "failure")


def test_an_onset_that_names_no_frame_is_refused(tmp_path):
    write_sequence(tmp_path / "s", 3, onset="frame_009.jpg")

    with pytest.raises(ValueError, match=r"onset\.txt names no frame"):
        read_sequences(tmp_path, "cam")


def test_a_short_clean_sequence_repeats_each_frame_evenly():
    clean = Sequence("cam", "s", frames=tuple(f"f{i}" for i in range(3)))
    failing = Sequence("cam", "s", frames=tuple(f"f{i}" for i in range(3)), onset=1)

    assert clean.snapshots(7) == ["f0", "f0", "f0", "f1", "f1", "f2", "f2"]
    assert failing.snapshots(7) == ["f0", "f1", "f2"]


def test_histories_never_hold_the_print_being_judged():
    clean = [Sequence("cam", name, frames=(f"{name}0", f"{name}1"), print_name=name) for name in ("A", "B", "C")]
    judged = Sequence("cam", "blob-1", frames=("x",), onset=0, print_name="B")

    assert history_prints("new", judged, clean, 4) == []
    assert history_prints("short", judged, clean, 20) == [["A0"] * 10]
    assert history_prints("seasoned", judged, clean, 4) == [["A0", "A0", "A1", "A1"], ["C0", "C0", "C1", "C1"]]


@pytest.mark.parametrize(
    ("onset", "alerts", "false_alert", "delay"),
    [
        (None, [], False, None),
        (None, [(150, "warning")], True, None),
        (40, [(39, "warning")], True, None),
        (40, [(40, "warning")], False, 1),
        (40, [(45, "warning"), (47, "failure")], False, 6),
        (40, [], False, None),
    ],
)
def test_outcome_false_alert_and_delay(onset, alerts, false_alert, delay):
    outcome = Outcome("cam", "s", "new", "blob", "real", onset, 200, alerts)

    assert (outcome.false_alert, outcome.delay) == (false_alert, delay)


def test_summarise_counts_per_camera_and_history():
    outcomes = [
        Outcome("p2", "clean-a", "new", "clean", "real", None, 200, []),
        Outcome("p2", "clean-b", "new", "clean", "real", None, 200, [(10, "warning")]),
        Outcome("p2", "blob-1", "new", "blob", "real", 30, 70, [(33, "warning")]),  # delay 4
        Outcome("p2", "blob-2", "new", "blob", "varied", 30, 70, [(20, "warning"), (35, "failure")]),  # early
        Outcome("p2", "web-1", "seasoned", "spaghetti", "real", 30, 70, [(69, "failure")]),  # delay 40
        Outcome("p2", "web-2", "seasoned", "spaghetti", "real", 30, 70, []),  # missed
    ]

    summary = summarise(outcomes)

    assert set(summary) == {"p2/all", "p2/new", "p2/seasoned"}
    new = summary["p2/new"]
    assert (new["clean_prints"], new["clean_prints_falsely_alerted"], new["clean_snapshots"]) == (2, 1, 400)
    assert (new["failing"], new["false_alert_before_onset"], new["alerted_within_30"], new["missed"]) == (2, 1, 1, 0)
    assert new["median_delay"] is None  # one of two alerted: a false alert counts as never alerted
    assert new["by_look"]["real"]["median_delay"] == 4
    seasoned = summary["p2/seasoned"]
    assert (seasoned["alerted_within_30"], seasoned["missed"], seasoned["first_level_failure"]) == (0, 1, 1)
    assert summary["p2/all"]["failing"] == 4
