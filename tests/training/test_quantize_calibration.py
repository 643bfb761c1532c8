"""The int8 calibration set is drawn from training images only, so the held-out numbers stay honest."""

from training import dataset
from training.quantize import calibration_images


def make_datasets(root):
    def touch(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")

    for split in ("train", "val"):
        for n in range(10):
            touch(root / "spaghetti" / split / "images" / f"{split}{n}.jpg")
    for n in range(1, 115):
        touch(root / "clean-prints" / "images" / f"success ({n}).jpg")
    for camera, folder in dataset.CAMERA_FOLDERS.items():
        for sequence in (*dataset.VALIDATION_PRINTS[camera], "Train1", "Train2"):
            touch(root / folder / "images" / sequence / "frame1.jpg")


def test_calibration_uses_training_images_only(tmp_path):
    make_datasets(tmp_path)

    images = calibration_images(tmp_path, photos=6, seed=0)

    held_out = set(dataset.clean_prints(tmp_path, heldout=True))
    held_out |= set(dataset.webcam_frames(tmp_path, dataset.CAMERAS, "validation"))
    assert not held_out & set(images)
    assert not [p for p in images if "val" in p.parts]
    assert len([p for p in images if "spaghetti" in p.parts]) == 6
    assert set(dataset.training_negatives(tmp_path)) <= set(images)


def test_the_calibration_sample_is_seeded(tmp_path):
    make_datasets(tmp_path)

    assert calibration_images(tmp_path, photos=5, seed=3) == calibration_images(tmp_path, photos=5, seed=3)
