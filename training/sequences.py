"""Failing print sequences from clean ones: a failure appears at an onset and grows, seen by a camera.

Issue 22: the alert, not the frame score, is what an owner gets, and it depends on how a failure
develops over snapshots and on the history before it. We have no real failing sequences, but we
have clean prints from two webcams (``webcam-clean``: camera ``p1``; ``webcam-clean-p2``: ``p2``),
clean photos and generated scenes, and failure regions cut from labelled photos. A failing sequence is
a clean print's frames in order, with a failure that becomes visible at ``onset`` and grows snapshot
after snapshot in place:

- ``blob``: a blob on the nozzle, a real failure region growing from 4 % of the frame's width;
- ``detached``: a part knocked loose that slides along the bed while it grows;
- ``strings``: thin strands (``strands.py``), a third of them at once, that multiply and lengthen;
- ``spaghetti``: a real spaghetti region growing on the bed from 8 % to 15-30 % of the width;
- ``clear_spaghetti``: a large tangle, full grown within 1-4 snapshots.

Half of the blob, detached and strings sequences turn into spaghetti 8-20 snapshots later. Each
sequence is shot through one camera (``camera.py``): the real camera as it is (a JPEG re-encode), or
a random ``CameraLook`` varying white balance, exposure, noise, blur, JPEG quality, lens, angle,
resolution and greyscale.

The same ``FailurePlan`` renders training composites (``failure_sample``) from the training splits
and held-out sequences (the CLI below) from the val splits, so no failure region of a held-out
sequence was trained on; whole cameras are held out by the folds of the ``cameras`` setting.

    python -m training.sequences --camera p2 --out /tmp/seqs        # a held-out camera's sequences

writes ``OUT/p2/<sequence>/frame_NNNNNN.jpg`` in snapshot order (identical snapshots are hard links),
``onset.txt`` (the first failing frame's file name) and ``meta.json`` (kind, onset, when the failure is
full grown, the look). ``manage.py evaluate_alerts`` replays such folders through the service.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from detection.image import decode_image
from training import camera, composite, dataset, strands, synthetic
from training.composite import Region


@dataclass(frozen=True)
class Zones:
    """Where failures appear in a camera's frames, as shares of the width and height.

    ``bed``: x range of a failure's centre and y range of its bottom edge (it lies on the bed);
    ``nozzle``: x and y ranges of a blob's centre. Read off each camera's prints by eye: the
    nozzle moves with the print, so its zone is tall.
    """

    bed_x: tuple[float, float] = (0.15, 0.85)
    bed_bottom: tuple[float, float] = (0.72, 0.92)
    nozzle_x: tuple[float, float] = (0.2, 0.8)
    nozzle_y: tuple[float, float] = (0.3, 0.7)


ZONES = {
    "p1": Zones(bed_x=(0.1, 0.85), bed_bottom=(0.72, 0.86), nozzle_x=(0.15, 0.75), nozzle_y=(0.4, 0.7)),
    "p2": Zones(bed_x=(0.1, 0.9), bed_bottom=(0.68, 0.9), nozzle_x=(0.3, 0.75), nozzle_y=(0.35, 0.62)),
    # Clean photos (close-ups, the print in the middle) and generated scenes.
    "photo": Zones(bed_x=(0.2, 0.8), bed_bottom=(0.55, 0.9), nozzle_x=(0.25, 0.75), nozzle_y=(0.3, 0.65)),
}

KINDS = ("blob", "detached", "strings", "spaghetti", "clear_spaghetti")
# Long side of the failure as a share of the frame's width: at onset, and full grown (a range).
# The onset is the first snapshot the failure is visible in (the yardstick counts from it), so a
# failure starts at a size a webcam frame shows: a blob the size of the nozzle, a few strings.
START_SIZE = {"blob": 0.04, "detached": 0.06, "strings": 0.08, "spaghetti": 0.08, "clear_spaghetti": 0.2}
END_SIZE = {
    "blob": (0.06, 0.12),
    "detached": (0.08, 0.16),
    "strings": (0.08, 0.18),
    "spaghetti": (0.15, 0.3),
    "clear_spaghetti": (0.25, 0.4),
}
# Snapshots from onset to full size (a range).
GROWTH = {"blob": (4, 15), "detached": (4, 12), "strings": (5, 15), "spaghetti": (4, 12), "clear_spaghetti": (1, 4)}
# Strings are visible from the onset: this share of their strands is drawn at once.
STRINGS_AT_ONSET = 0.3
SPAGHETTI_FOLLOWS_SHARE = 0.5
SPAGHETTI_FOLLOWS_AFTER = (8, 20)
# Clean snapshots before the onset, and failing snapshots after it (at least 10 past full growth).
LEAD_RANGE = (5, 60)
FAILING_SNAPSHOTS = 40
REAL_LOOK_SHARE = 0.5
# A pasted region keeps more of its own colours than composite.py's (0.5-1): a failure should stay visible.
MATCH_STRENGTH_RANGE = (0.3, 0.7)
# Spaghetti regions must be tangles this large (source pixels, longer side) to stay readable when shown.
MIN_TANGLE_REGION_PX = 120
HELDOUT_SEED = 20261207
REGION_HALVES = ("calibration", "test")
DEFAULT_COUNTS = {"blob": 20, "detached": 20, "strings": 20, "spaghetti": 20, "clear_spaghetti": 50}


@dataclass(frozen=True)
class FailurePlan:
    """One failure's whole course, in shares of the frame so that it fits every frame of a print.

    ``anchor`` is the centre x and, for a bed failure, the bottom y (for ``blob``, the centre y).
    ``drift`` moves it per snapshot (``detached``). ``region`` indexes the region pool; ``strands_seed``
    draws a tangle for ``strings``. ``follow`` is a spaghetti plan that starts ``follow_after``
    snapshots after the onset, or None.
    """

    kind: str
    grow: int
    start_size: float
    end_size: float
    anchor: tuple[float, float]
    drift: tuple[float, float] = (0.0, 0.0)
    region: int = 0
    strength: float = 0.75
    strands_seed: int = 0
    follow: FailurePlan | None = None
    follow_after: int = 0

    def progress(self, since_onset: int) -> float:
        """Share of full growth ``since_onset`` snapshots after the onset (0 = the onset snapshot)."""
        return min(1.0, (since_onset + 1) / self.grow)

    def size(self, since_onset: int) -> float:
        """Long side as a share of the width: geometric growth from ``start_size`` to ``end_size``."""
        return self.start_size * (self.end_size / self.start_size) ** self.progress(since_onset)

    def full_from(self) -> int:
        """Snapshots after the onset from which this failure (and what follows it) is full grown."""
        if self.follow is None:
            return self.grow - 1
        return max(self.grow - 1, self.follow_after + self.follow.full_from())


def region_choices(regions: list[Region], min_tangle_px: float = MIN_TANGLE_REGION_PX) -> dict[str, list[int]]:
    """Which regions each kind draws from: spaghetti from the spaghetti photos' larger tangles, the rest from any.

    ``roboflow-3dprinting``'s ``fail`` boxes also cover blobs, stringing and other defects, and small
    boxes shrink to a few unreadable pixels: neither makes a clear tangle.
    """
    tangles = [
        index
        for index, region in enumerate(regions)
        if "roboflow" not in region.source
        and max(region.box[2] - region.box[0], region.box[3] - region.box[1]) >= min_tangle_px
    ]
    everything = list(range(len(regions)))
    tangles = tangles or everything
    return {kind: tangles if kind in ("spaghetti", "clear_spaghetti") else everything for kind in KINDS}


def draw_plan(
    rng: np.random.Generator, kind: str, zones: Zones, choices: dict[str, list[int]], *, follow: bool = True
) -> FailurePlan:
    """A random failure of ``kind`` in ``zones``, its region drawn from ``choices[kind]`` (``region_choices``)."""
    if kind == "blob":
        anchor = (rng.uniform(*zones.nozzle_x), rng.uniform(*zones.nozzle_y))
    else:
        anchor = (rng.uniform(*zones.bed_x), rng.uniform(*zones.bed_bottom))
    drift = (0.0, 0.0)
    if kind == "detached":
        drift = (float(rng.choice([-1, 1]) * rng.uniform(0.002, 0.006)), 0.0)
    plan = FailurePlan(
        kind=kind,
        grow=int(rng.integers(GROWTH[kind][0], GROWTH[kind][1] + 1)),
        start_size=START_SIZE[kind],
        end_size=float(rng.uniform(*END_SIZE[kind])),
        anchor=(float(anchor[0]), float(anchor[1])),
        drift=drift,
        region=int(rng.choice(choices[kind])),
        strength=float(rng.uniform(*MATCH_STRENGTH_RANGE)),
        strands_seed=int(rng.integers(2**31)),
    )
    if follow and kind in ("blob", "detached", "strings") and rng.random() < SPAGHETTI_FOLLOWS_SHARE:
        spaghetti = draw_plan(rng, "spaghetti", zones, choices, follow=False)
        spaghetti = FailurePlan(**{**asdict_shallow(spaghetti), "anchor": (plan.anchor[0], spaghetti.anchor[1])})
        return FailurePlan(
            **{**asdict_shallow(plan), "follow": spaghetti, "follow_after": int(rng.integers(*SPAGHETTI_FOLLOWS_AFTER))}
        )
    return plan


def asdict_shallow(plan: FailurePlan) -> dict:
    """The plan's fields as a dict, nested plans kept as plans (``dataclasses.asdict`` would flatten them)."""
    return {name: getattr(plan, name) for name in plan.__dataclass_fields__}


def render(
    scene: Image.Image, plan: FailurePlan, since_onset: int, regions: list[Region]
) -> tuple[Image.Image, np.ndarray]:
    """``scene`` with the failure as it is ``since_onset`` snapshots after the onset, and its boxes ``[K, 4]``."""
    if since_onset < 0:
        return scene, np.zeros((0, 4), dtype=np.float32)
    width, height = scene.size
    boxes = []
    if plan.kind == "strings":
        image = scene.copy()
        rng = np.random.default_rng(plan.strands_seed)
        extent = plan.end_size * width
        anchor = (plan.anchor[0] * width, plan.anchor[1] * height - extent / 3)
        tangle = strands.make_tangle(rng, anchor, extent, strands=int(rng.integers(4, 13)), curl=rng.uniform(0.1, 0.2))
        box = tangle.draw(image, max(STRINGS_AT_ONSET, plan.progress(since_onset)))
        if box.size:
            boxes.append(box)
    else:
        frame = np.asarray(scene.convert("RGB"), dtype=np.uint8)
        region = regions[plan.region % len(regions)]
        long_side = plan.size(since_onset) * width
        patch_w, patch_h = composite.patch_size(frame, 1.0, region, long_side)
        centre_x = (plan.anchor[0] + plan.drift[0] * min(since_onset, plan.grow)) * width
        # A blob is centred on its anchor; a failure on the bed stands on it.
        top = plan.anchor[1] * height - (patch_h / 2 if plan.kind == "blob" else patch_h)
        left = round(float(np.clip(centre_x - patch_w / 2, 0, width - patch_w)))
        top = round(float(np.clip(top, 0, height - patch_h)))
        pixels, box = composite.paste_region_at(frame, region, (patch_w, patch_h), (left, top), plan.strength)
        image = Image.fromarray(pixels)
        boxes.append(box)
    if plan.follow is not None and since_onset >= plan.follow_after:
        image, more = render(image, plan.follow, since_onset - plan.follow_after, regions)
        boxes.extend(more)
    clipped = np.clip(np.asarray(boxes, dtype=np.float32).reshape(-1, 4), 0, [width, height, width, height])
    return image, clipped


# --- Backgrounds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    """A clean print as one camera saw it: frame files in order (one file for a still photo or scene)."""

    camera: str
    name: str
    frames: tuple[Path, ...] = ()
    scene_seed: int | None = None  # a generated scene (synthetic.make_scene) instead of files
    zones: Zones = field(default_factory=Zones)

    def frame(self, index: int) -> Image.Image:
        """The ``index``-th frame, decoded upright as the service decodes it."""
        if self.scene_seed is not None:
            return synthetic.make_scene(np.random.default_rng(self.scene_seed))
        decoded = decode_image(self.frames[index].read_bytes())
        return decoded.pixels.convert("RGB").resize((decoded.width, decoded.height))

    def frame_count(self) -> int:
        return max(1, len(self.frames))


def camera_backgrounds(root: Path, cam: str, *, split: str = "all") -> list[Background]:
    """The clean prints of a webcam (``dataset.camera_prints``'s ``split``) as backgrounds."""
    return [
        Background(cam, p.name, tuple(dataset.list_images(p)), zones=ZONES[cam])
        for p in dataset.camera_prints(root, cam, split)
    ]


def photo_backgrounds(root: Path, *, heldout: bool) -> list[Background]:
    """clean-prints photos, each a still "print" (the held-out or the training half)."""
    return [
        Background("cp", path.stem, (path,), zones=ZONES["photo"])
        for path in dataset.clean_prints(root, heldout=heldout)
    ]


def scene_backgrounds(count: int, seed: int) -> list[Background]:
    """Generated plain scenes (``synthetic.py``), each a still "print"."""
    seeds = np.random.default_rng(seed).integers(2**31, size=count)
    return [Background("syn", f"scene{i:03d}", scene_seed=int(s), zones=ZONES["photo"]) for i, s in enumerate(seeds)]


def val_regions(root: Path, half: str) -> list[Region]:
    """Failure regions of the val splits only (merged spaghetti boxes and roboflow's ``fail``), at full size.

    ``half`` "calibration" or "test": the val photos are split in two by their order, every other photo,
    so that the calibration and the verdict are fitted on failures the test sequences never show.
    """

    if half not in REGION_HALVES:
        raise ValueError(f"half must be one of {REGION_HALVES}")
    keep = REGION_HALVES.index(half)
    pairs = [(i, lbl, dataset.SPAGHETTI_CLASS) for i, lbl in dataset.spaghetti_split(root, "val")]
    pairs += [(i, lbl, 0) for i, lbl in dataset.roboflow_split(root, "val")]
    sources = [
        dataset.load_full_size_sample(image, label, class_id=class_id)
        for index, (image, label, class_id) in enumerate(pairs)
        if index % 2 == keep
    ]
    return composite.regions_from_samples(sources)


# --- Training samples --------------------------------------------------------------------------

# What a training composite shows: the kinds' shares, and where its background comes from.
TRAINING_KIND_SHARES = {"blob": 0.2, "detached": 0.15, "strings": 0.2, "spaghetti": 0.3, "clear_spaghetti": 0.15}
TRAINING_BACKGROUND_SHARES = {"camera": 0.6, "photo": 0.2, "scene": 0.2}
# Share of training samples shot through a random camera; the rest are the frame re-encoded as it is.
TRAINING_LOOK_SHARE = 0.8
# Share of training samples with clean patches pasted like failures (paste_distractors), and their size
# range (longer side, as a share of the frame's width).
DISTRACTOR_SHARE = 0.5
DISTRACTOR_SIZE = (0.05, 0.25)
# Training samples are cached at 400 px: shooting them wider than this only costs time (a 1080p shot
# took 4 times as long and its detail is averaged away by the cache's downscale).
TRAINING_MAX_WIDTH = 800


@dataclass(frozen=True)
class Scenes:
    """Clean backgrounds held in memory for training: webcam frames and photos (full size), with their zones."""

    camera_frames: tuple[tuple[Image.Image, Zones], ...]
    photos: tuple[Image.Image, ...]

    @classmethod
    def load(cls, root: Path, cameras: tuple[str, ...]) -> Scenes:
        """The training prints' frames of ``cameras`` and the training half of clean-prints."""
        frames = tuple(
            (background.frame(index), background.zones)
            for cam in cameras
            for background in camera_backgrounds(root, cam, split="train")
            for index in range(background.frame_count())
        )
        photos = tuple(background.frame(0) for background in photo_backgrounds(root, heldout=False))
        return cls(frames, photos)

    def draw(self, rng: np.random.Generator) -> tuple[Image.Image, Zones]:
        """A random clean background: a webcam frame, a photo or a generated scene."""
        source = rng.choice(list(TRAINING_BACKGROUND_SHARES), p=list(TRAINING_BACKGROUND_SHARES.values()))
        if source == "camera" and self.camera_frames:
            return self.camera_frames[int(rng.integers(len(self.camera_frames)))]
        if source == "photo" and self.photos:
            return self.photos[int(rng.integers(len(self.photos)))], ZONES["photo"]
        return synthetic.make_scene(rng), ZONES["photo"]


def paste_distractors(scene: Image.Image, zones: Zones, scenes: Scenes, rng: np.random.Generator) -> Image.Image:
    """``scene`` with one or two pieces of other clean scenes pasted where failures appear, as failures are.

    The composites teach the model that what is pasted on a frame is a failure; cut off from what it
    shows, the paste itself (its feathered edge, its light matched to the frame) would be enough, and
    a camera's clutter (a bag, a cable) out of place would alarm. A patch of a clean scene, pasted the
    same way with no label, takes that shortcut away.
    """
    frame = np.asarray(scene.convert("RGB"), dtype=np.uint8)
    height, width = frame.shape[:2]
    for _ in range(int(rng.integers(1, 3))):
        source, _ = scenes.draw(rng)
        source_w, source_h = source.size
        crop_w = max(8, round(source_w * rng.uniform(0.08, 0.4)))
        crop_h = max(8, min(source_h, round(crop_w * float(np.exp(rng.uniform(np.log(0.5), np.log(2)))))))
        crop_w = min(crop_w, source_w)
        left, top = int(rng.integers(0, source_w - crop_w + 1)), int(rng.integers(0, source_h - crop_h + 1))
        pixels = np.asarray(source.crop((left, top, left + crop_w, top + crop_h)).convert("RGB"), dtype=np.uint8)
        margin = composite.MARGIN_FRACTION / (1 + 2 * composite.MARGIN_FRACTION)
        inner = (crop_w * margin, crop_h * margin, crop_w * (1 - margin), crop_h * (1 - margin))
        piece = Region(pixels, inner, 1.0, "distractor")
        long_side = rng.uniform(*DISTRACTOR_SIZE) * width
        patch_w, patch_h = composite.patch_size(frame, 1.0, piece, long_side)
        if rng.random() < composite.NOZZLE_SHARE:
            centre_x, top = rng.uniform(*zones.nozzle_x) * width, rng.uniform(*zones.nozzle_y) * height - patch_h / 2
        else:
            centre_x, top = rng.uniform(*zones.bed_x) * width, rng.uniform(*zones.bed_bottom) * height - patch_h
        corner = (
            round(float(np.clip(centre_x - patch_w / 2, 0, width - patch_w))),
            round(float(np.clip(top, 0, height - patch_h))),
        )
        frame, _ = composite.paste_region_at(
            frame, piece, (patch_w, patch_h), corner, rng.uniform(*MATCH_STRENGTH_RANGE)
        )
    return Image.fromarray(frame)


def training_samples(
    scenes: Scenes,
    regions: list[Region],
    count: int,
    seed,
    cache_size: tuple[int, int],
    *,
    failing: bool,
    min_tangle_px: float = MIN_TANGLE_REGION_PX,
) -> list[dataset.Sample]:
    """``count`` samples drawn from ``seed``: clean backgrounds, with a failure at a random stage if ``failing``,
    shot through a random camera (``TRAINING_LOOK_SHARE`` of them) and decoded as the service decodes.

    A failure's stage is drawn towards full size (the square root of a uniform share of its growth),
    so tiny onsets, which no label can call visible, are a minority. ``DISTRACTOR_SHARE`` of the
    samples, clean and failing alike, also get pieces of clean scenes pasted the way failures are
    (``paste_distractors``), so that a pasted patch is not itself what makes a failure.
    """
    if not count:
        return []
    rng = np.random.default_rng(seed)
    choices = region_choices(regions, min_tangle_px)
    kinds, shares = list(TRAINING_KIND_SHARES), list(TRAINING_KIND_SHARES.values())
    samples = []
    for index in range(count):
        scene, zones = scenes.draw(rng)
        boxes = np.zeros((0, 4), dtype=np.float32)
        if rng.random() < DISTRACTOR_SHARE:
            scene = paste_distractors(scene, zones, scenes, rng)
        if failing:
            plan = draw_plan(rng, str(rng.choice(kinds, p=shares)), zones, choices)
            stage = round(plan.full_from() * float(np.sqrt(rng.random())))
            scene, boxes = render(scene, plan, stage, regions)
        look = (
            camera.random_look(rng)
            if rng.random() < TRAINING_LOOK_SHARE
            else camera.CameraLook.identity(int(rng.integers(60, 96)))
        )
        look = camera.at_most(look, scene.size, TRAINING_MAX_WIDTH)
        data = camera.shoot(scene, look, rng)
        out_w, out_h = look.output_size(scene.size)
        boxes = camera.transform_boxes(boxes, look, scene.size)
        decoded = decode_image(data, target_size=cache_size)
        pixels = decoded.pixels.resize(cache_size, Image.Resampling.BILINEAR)
        scale = np.array([cache_size[0] / out_w, cache_size[1] / out_h] * 2, dtype=np.float32)
        path = Path(f"camera-{'failure' if failing else 'clean'}/{index:04d}.jpg")
        samples.append(
            dataset.Sample(np.asarray(pixels, dtype=np.uint8), (boxes * scale).astype(np.float32), path, (out_w, out_h))
        )
    return samples


# --- Sequences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SequencePlan:
    """One failing sequence: a background print, its length, the onset, the failure and the camera."""

    background: Background
    snapshots: int
    onset: int
    plan: FailurePlan
    look: camera.CameraLook
    seed: int

    def frame_index(self, snapshot: int) -> int:
        """Which of the print's frames the camera sees at ``snapshot``: the print advances evenly."""
        return min(self.background.frame_count() - 1, snapshot * self.background.frame_count() // self.snapshots)


def draw_sequence(
    rng: np.random.Generator,
    background: Background,
    kind: str,
    choices: dict[str, list[int]],
    *,
    real_look_share: float,
) -> SequencePlan:
    """A failing sequence of ``kind`` on ``background``: its lead-in, failure and camera."""
    lead = int(rng.integers(LEAD_RANGE[0], LEAD_RANGE[1] + 1))
    real = background.camera in dataset.CAMERA_FOLDERS and rng.random() < real_look_share
    look = camera.CameraLook.identity(int(rng.integers(80, 93))) if real else camera.random_look(rng)
    plan = draw_plan(rng, kind, background.zones, choices)
    return SequencePlan(
        background=background,
        snapshots=lead + max(FAILING_SNAPSHOTS, plan.full_from() + 10),
        onset=lead,
        plan=plan,
        look=look,
        seed=int(rng.integers(2**31)),
    )


def write_sequence(sequence: SequencePlan, regions: list[Region], folder: Path, frames_set: Path) -> dict:
    """Write the sequence's snapshots as JPEGs in order (repeats hard-linked), ``onset.txt`` and ``meta.json``.

    The first full-grown snapshot also goes to ``frames_set`` (``images/`` + YOLO ``labels/``, class 1),
    the frame-level set ``evaluate.py`` scores.
    """
    folder.mkdir(parents=True, exist_ok=True)
    previous_key, previous_path = None, None
    frames: dict[int, Image.Image] = {}
    plan = sequence.plan
    full_from = sequence.onset + plan.full_from()
    for snapshot in range(sequence.snapshots):
        index = sequence.frame_index(snapshot)
        since_onset = snapshot - sequence.onset
        # Once full grown the failure no longer changes, so a repeated frame is the same snapshot.
        state = min(since_onset, plan.full_from()) if since_onset >= 0 else -1
        key = (index, state)
        path = folder / f"frame_{snapshot:06d}.jpg"
        if key == previous_key:
            os.link(previous_path, path)
            continue
        if index not in frames:
            frames = {index: sequence.background.frame(index)}
        scene, boxes = render(frames[index], plan, state, regions)
        # The sensor noise is drawn per (frame, failure state): a still scene repeats exactly.
        noise_rng = np.random.default_rng([sequence.seed, index, state + 1])
        path.write_bytes(camera.shoot(scene, sequence.look, noise_rng))
        previous_key, previous_path = key, path
        if snapshot == full_from:
            size = sequence.look.output_size(scene.size)
            write_labelled(
                frames_set, folder.name, path, camera.transform_boxes(boxes, sequence.look, scene.size), size
            )
    onset_name = f"frame_{sequence.onset:06d}.jpg"
    (folder / "onset.txt").write_text(onset_name + "\n")
    meta = {
        "kind": sequence.plan.kind,
        "camera": sequence.background.camera,
        "print": sequence.background.name,
        "onset": sequence.onset,
        "snapshots": sequence.snapshots,
        # The first snapshot showing the failure full grown: frame-level metrics count from here.
        "full_from": sequence.onset + sequence.plan.full_from(),
        "followed_by_spaghetti": sequence.plan.follow is not None,
        "look": "real" if sequence.look.size is None else "varied",
        "camera_look": asdict(sequence.look),
        "region": regions[sequence.plan.region % len(regions)].source if sequence.plan.kind != "strings" else None,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def write_labelled(frames_set: Path, name: str, image: Path, boxes: np.ndarray, size: tuple[int, int]) -> None:
    """Link ``image`` into ``frames_set/images/NAME.jpg`` with its boxes as ``labels/NAME.txt`` (class 1)."""
    (frames_set / "images").mkdir(parents=True, exist_ok=True)
    (frames_set / "labels").mkdir(parents=True, exist_ok=True)
    target = frames_set / "images" / f"{name}.jpg"
    target.unlink(missing_ok=True)
    os.link(image, target)
    width, height = size
    lines = [
        f"{dataset.SPAGHETTI_CLASS} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
        f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"
        for x1, y1, x2, y2 in boxes
    ]
    (frames_set / "labels" / f"{name}.txt").write_text("\n".join(lines) + "\n")


def build(
    backgrounds: list[Background],
    regions: list[Region],
    out: Path,
    frames_set: Path,
    *,
    counts: dict[str, int],
    seed,
    real_look_share: float = REAL_LOOK_SHARE,
) -> list[dict]:
    """Write ``counts[kind]`` failing sequences of each kind over ``backgrounds`` (taken in turn) under ``out``."""
    rng = np.random.default_rng(seed)
    choices = region_choices(regions)
    metas, turn = [], 0
    for kind in KINDS:
        for number in range(counts.get(kind, 0)):
            background = backgrounds[turn % len(backgrounds)]
            turn += 1
            sequence = draw_sequence(rng, background, kind, choices, real_look_share=real_look_share)
            name = f"{kind}-{number:03d}-{background.name}"
            metas.append({"sequence": name, **write_sequence(sequence, regions, out / name, frames_set)})
    return metas


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=dataset.DEFAULT_DATA_ROOT)
    parser.add_argument(
        "--out", type=Path, required=True, help="writes OUT/<camera>/<sequence>/ and OUT/<camera>-frames/"
    )
    parser.add_argument(
        "--camera",
        required=True,
        choices=[*dataset.CAMERAS, "cp", "syn"],
        help="backgrounds: a webcam's prints, the held-out clean-prints photos, or generated scenes",
    )
    parser.add_argument("--split", default="all", choices=["all", "train", "validation"], help="a webcam's prints")
    parser.add_argument(
        "--regions",
        default="test",
        choices=REGION_HALVES,
        help="which half of the val photos' failure regions: test sets and calibration sets never share one",
    )
    parser.add_argument("--seed", type=int, default=HELDOUT_SEED)
    parser.add_argument(
        "--counts", default=",".join(f"{k}={v}" for k, v in DEFAULT_COUNTS.items()), help="sequences of each kind"
    )
    parser.add_argument("--scenes", type=int, default=20, help="generated scenes for --camera syn")
    args = parser.parse_args(argv)
    counts = {kind: int(number) for kind, number in (item.split("=") for item in args.counts.split(","))}
    if args.camera in dataset.CAMERAS:
        backgrounds = camera_backgrounds(args.data_root, args.camera, split=args.split)
    elif args.camera == "cp":
        backgrounds = photo_backgrounds(args.data_root, heldout=True)
    else:
        backgrounds = scene_backgrounds(args.scenes, args.seed)
    name = args.camera if args.split == "all" else f"{args.camera}-{args.split}"
    seed = [args.seed, [*dataset.CAMERAS, "cp", "syn"].index(args.camera), REGION_HALVES.index(args.regions)]
    regions = val_regions(args.data_root, args.regions)
    metas = build(backgrounds, regions, args.out / name, args.out / f"{name}-frames", counts=counts, seed=seed)
    kinds = {kind: sum(m["kind"] == kind for m in metas) for kind in KINDS}
    print(json.dumps({"camera": name, "sequences": len(metas), "kinds": kinds, "regions": len(regions)}, indent=1))


if __name__ == "__main__":
    main()
