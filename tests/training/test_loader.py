"""An epoch's batches through the DataLoader (training/loader.py): in order, whole, the same in a worker."""

import numpy as np
import pytest
import torch

from training.dataset import Augmenter, Sample
from training.loader import EpochBatches, epoch_loader

INPUT_SIZE = (64, 64)


def samples(count: int) -> list[Sample]:
    rng = np.random.default_rng(0)
    return [
        Sample(rng.integers(0, 255, (80, 80, 3), dtype=np.uint8), np.array([[10, 10, 50, 40]], np.float32), None)
        for _ in range(count)
    ]


def batches(**augmentation) -> EpochBatches:
    return EpochBatches(
        samples(7),
        np.random.default_rng(1).permutation(7),
        batch_size=3,
        grid=(4, 4),
        mosaic=0.5,
        box_region="box",
        input_size=INPUT_SIZE,
        channel_shuffle=0.0,
        **augmentation,
    )


def test_an_epoch_is_its_samples_in_batches_of_the_batch_size_the_last_one_short():
    loaded = list(epoch_loader(batches(augment=Augmenter(INPUT_SIZE, np.random.default_rng(2))), workers=0))

    assert [images.shape[0] for images, _ in loaded] == [3, 3, 1]
    assert loaded[0][0].shape[1:] == (3, 64, 64)
    assert [target.shape[0] for target in loaded[0][1]] == [3, 3, 3]


def test_a_seeded_batch_is_the_same_built_in_a_worker_process():
    seeded = batches(seeds=[5, 6, 7])

    here = list(epoch_loader(seeded, workers=0))
    in_a_worker = list(epoch_loader(seeded, workers=1))

    for (images, targets), (worker_images, worker_targets) in zip(here, in_a_worker, strict=True):
        assert torch.equal(images, worker_images)
        assert all(torch.equal(a, b) for a, b in zip(targets, worker_targets, strict=True))


def test_reading_an_epoch_leaves_torchs_global_generator_alone():
    state = torch.get_rng_state()

    list(epoch_loader(batches(seeds=[5, 6, 7]), workers=0))

    assert torch.equal(torch.get_rng_state(), state)


def test_batches_take_one_augmenter_or_seeds():
    with pytest.raises(ValueError, match="either one augmenter"):
        batches()
