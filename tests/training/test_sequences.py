"""Failing sequences and training composites (training/sequences.py, strands.py)."""

import itertools
import json
import os

import numpy as np
import pytest
from PIL import Image

from detection.replay import read_sequences
from training import camera, sequences, strands
from training.composite import Region
from training.sequences import Background, FailurePlan, Scenes, Zones


def region(size=40, colour=(200, 30, 30)):
    pixels = np.zeros((size, size, 3), dtype=np.uint8)
    pixels[:] = colour
    margin = size * 0.15 / 1.3
    return Region(pixels, (margin, margin, size - margin, size - margin), 1.0, "spaghetti/val/x.jpg")


REGIONS = [region(), region(60, (20, 200, 40))]


def plan(kind="spaghetti", **changes):
    values = {
        "kind": kind,
        "grow": 10,
        "start_size": 0.04,
        "end_size": 0.3,
        "anchor": (0.5, 0.8),
        "region": 0,
        "strength": 0.5,
        "strands_seed": 3,
    }
    return FailurePlan(**{**values, **changes})


def test_a_failure_grows_geometrically_from_its_start_to_its_end_size():
    sizes = [plan().size(k) for k in range(12)]

    assert sizes[0] == pytest.approx(0.04 * (0.3 / 0.04) ** 0.1)
    assert sizes[9] == sizes[11] == pytest.approx(0.3)
    assert all(a < b for a, b in itertools.pairwise(sizes[:10]))


def test_full_from_waits_for_what_follows():
    follows = plan("blob", follow=plan(grow=8), follow_after=15)

    assert plan().full_from() == 9
    assert follows.full_from() == 15 + 7


@pytest.mark.parametrize("kind", sequences.KINDS)
@pytest.mark.parametrize("since_onset", [0, 4, 20])
def test_render_draws_the_failure_inside_its_box(kind, since_onset):
    scene = Image.new("RGB", (320, 240), (90, 90, 90))

    image, boxes = sequences.render(scene, plan(kind), since_onset, REGIONS)

    changed = np.abs(np.asarray(image, dtype=int) - 90).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    assert len(boxes) == 1
    assert changed.any()
    x1, y1, x2, y2 = boxes[0]
    # Every strongly changed pixel lies in the box (pasted regions feather a little beyond it).
    slack = 0.2 * max(x2 - x1, y2 - y1) + 3
    assert xs.min() >= x1 - slack
    assert xs.max() <= x2 + slack
    assert ys.min() >= y1 - slack
    assert ys.max() <= y2 + slack
    assert 0 <= x1 < x2 <= 320
    assert 0 <= y1 < y2 <= 240


def test_before_the_onset_the_scene_is_untouched():
    scene = Image.new("RGB", (64, 48), (90, 90, 90))

    image, boxes = sequences.render(scene, plan(), -1, REGIONS)

    assert image is scene
    assert boxes.shape == (0, 4)


def test_a_detached_part_slides_while_it_grows():
    scene = Image.new("RGB", (320, 240), (90, 90, 90))
    sliding = plan("detached", drift=(0.01, 0.0), start_size=0.1, end_size=0.1)

    _, early = sequences.render(scene, sliding, 0, REGIONS)
    _, late = sequences.render(scene, sliding, 8, REGIONS)

    assert late[0][0] - early[0][0] == pytest.approx(8 * 0.01 * 320, abs=2)


def test_strands_multiply_as_the_tangle_grows():
    rng = np.random.default_rng(0)
    tangle = strands.make_tangle(rng, (100, 60), 80, strands=8, colour=(250, 250, 250))

    def drawn(progress):
        image = Image.new("RGB", (200, 160))
        box = tangle.draw(image, progress)
        return (np.asarray(image).sum(axis=2) > 0).sum(), box

    (few, _), (more, box) = drawn(0.1), drawn(1.0)
    assert 0 < few < more
    image = Image.new("RGB", (200, 160))
    tangle.draw(image, 1.0)
    ys, xs = np.nonzero(np.asarray(image).sum(axis=2))
    assert box[0] <= xs.min()
    assert xs.max() <= box[2]
    assert box[1] <= ys.min()
    assert ys.max() <= box[3]


def test_region_choices_keep_clear_spaghetti_to_large_spaghetti_tangles():
    small = region(40)
    large = Region(np.zeros((200, 200, 3), dtype=np.uint8), (10, 10, 190, 190), 1.0, "spaghetti/val/big.jpg")
    roboflow = Region(np.zeros((200, 200, 3), dtype=np.uint8), (10, 10, 190, 190), 1.0, "roboflow-3dprinting/val/a.jpg")

    choices = sequences.region_choices([small, large, roboflow], min_tangle_px=120)

    assert choices["clear_spaghetti"] == choices["spaghetti"] == [1]
    assert choices["blob"] == [0, 1, 2]


@pytest.mark.slow
def test_a_written_sequence_reads_back_with_its_onset(tmp_path):
    background = Background("syn", "scene", scene_seed=7, zones=Zones())
    sequence = sequences.SequencePlan(
        background=background,
        snapshots=30,
        onset=12,
        plan=plan(grow=5),
        look=camera.CameraLook(size=(160, 120), jpeg_quality=80),
        seed=1,
    )

    meta = sequences.write_sequence(sequence, REGIONS, tmp_path / "seq", tmp_path / "frames")

    (read,) = read_sequences(tmp_path, "syn")
    assert read.onset == 12
    assert read.kind == "spaghetti"
    assert len(read.frames) == 30
    assert (tmp_path / "seq" / "onset.txt").read_text().strip() == "frame_000012.jpg"
    assert meta["full_from"] == 16 == json.loads((tmp_path / "seq" / "meta.json").read_text())["full_from"]
    inodes = [os.stat(frame).st_ino for frame in read.frames]
    # A still scene repeats exactly (hard links) before the onset and once full grown; growth makes new frames.
    assert len(set(inodes[:12])) == 1
    assert len(set(inodes[16:])) == 1
    assert len(set(inodes[12:17])) == 5
    label = (tmp_path / "frames" / "labels" / "seq.txt").read_text().split()
    assert label[0] == "1"
    assert len(label) == 5


SCENES = Scenes(((Image.new("RGB", (320, 240), (80, 80, 80)), Zones()),), (Image.new("RGB", (200, 200)),))


@pytest.mark.slow
def test_training_samples_are_seeded_and_their_boxes_fit_the_cache():
    first = sequences.training_samples(SCENES, REGIONS, 6, [0, 1], (100, 100), failing=True, min_tangle_px=10)
    again = sequences.training_samples(SCENES, REGIONS, 6, [0, 1], (100, 100), failing=True, min_tangle_px=10)
    clean = sequences.training_samples(SCENES, REGIONS, 3, [0, 2], (100, 100), failing=False)

    assert [s.pixels.tobytes() for s in first] == [s.pixels.tobytes() for s in again]
    assert all(s.pixels.shape == (100, 100, 3) for s in first + clean)
    assert all(len(s.boxes) == 0 for s in clean)
    boxes = np.concatenate([s.boxes for s in first])
    assert len(boxes)
    assert (boxes >= 0).all()
    assert (boxes <= 100).all()


def test_every_failure_is_labelled_when_the_camera_shows_the_whole_scene(monkeypatch):
    # A random camera may crop a failure out of view (then the sample is rightly clean); a plain one never does.
    monkeypatch.setattr(sequences, "TRAINING_LOOK_SHARE", 0.0)

    samples = sequences.training_samples(SCENES, REGIONS, 8, [0, 3], (100, 100), failing=True, min_tangle_px=10)

    assert all(len(s.boxes) >= 1 for s in samples)


def test_distractors_paste_pieces_of_clean_scenes_in_the_failure_zones():
    frame = Image.new("RGB", (320, 240), (80, 80, 80))
    source = Image.new("RGB", (200, 200), (250, 250, 250))
    scenes = Scenes(((source, Zones()),), ())
    rng = np.random.default_rng(4)
    rng_before = np.random.default_rng(4)

    pasted = sequences.paste_distractors(frame, Zones(bed_bottom=(0.9, 0.95), bed_x=(0.5, 0.5)), scenes, rng)

    changed = np.abs(np.asarray(pasted, dtype=int) - 80).sum(axis=2) > 30
    assert changed.any()
    assert not changed[: int(240 * 0.3)].any()  # nothing above the zones: pasted on the bed or at the nozzle
    assert pasted.size == frame.size
    assert rng.random() != rng_before.random()  # it drew from the generator it was given
