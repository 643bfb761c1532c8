"""An epoch's augmented batches: a torch Dataset whose items are whole batches, read through a DataLoader.

Item ``b`` is the batch of ``order[b * batch_size:(b + 1) * batch_size]``, each image cropped, flipped
and jittered (``dataset.Augmenter``), a ``mosaic`` share of them tiled with three more samples, with
the targets the loss reads (``loss.make_targets``). With ``workers`` the DataLoader's processes build
the batches, each from a seed the main generator draws, so a run is still fixed by its seed (but draws
differently from a run without workers, which augments in order with the main generator itself).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from training import dataset
from training.loss import make_targets


def make_batch(
    samples: list[dataset.Sample],
    pool: list[dataset.Sample],
    augment: dataset.Augmenter,
    grid: tuple[int, int],
    mosaic: float,
    box_region: str,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Augmented images ``[B, 3, H, W]`` and their stacked targets; ``mosaic`` of them tile 3 more from ``pool``."""
    images, heats, box_targets, box_weights = [], [], [], []
    for sample in samples:
        if augment.rng.random() < mosaic:
            others = augment.rng.choice(len(pool), size=3)
            image, boxes = augment.mosaic([sample, *(pool[i] for i in others)])
        else:
            image, boxes = augment(sample)
        heat, box_target, box_weight = make_targets(boxes, *grid, box_region=box_region)
        images.append(image)
        heats.append(heat)
        box_targets.append(box_target)
        box_weights.append(box_weight)
    return torch.from_numpy(np.stack(images)), tuple(
        torch.from_numpy(np.stack(t)) for t in (heats, box_targets, box_weights)
    )


class EpochBatches(Dataset):
    """The batches of one epoch over ``samples`` in ``order``.

    ``augment`` augments every batch in turn (no workers); otherwise ``seeds`` holds one seed a batch
    and each batch gets an augmenter of its own, wherever it is built.
    """

    def __init__(
        self,
        samples: list[dataset.Sample],
        order: np.ndarray,
        *,
        batch_size: int,
        grid: tuple[int, int],
        mosaic: float,
        box_region: str,
        input_size: tuple[int, int],
        channel_shuffle: float,
        augment: dataset.Augmenter | None = None,
        seeds: list[int] | None = None,
    ) -> None:
        if (augment is None) == (seeds is None):
            raise ValueError("give either one augmenter for every batch or a seed for each")
        self.samples = samples
        self.order = order
        self.batch_size = batch_size
        self.grid = grid
        self.mosaic = mosaic
        self.box_region = box_region
        self.input_size = input_size
        self.channel_shuffle = channel_shuffle
        self.augment = augment
        self.seeds = seeds

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __getitem__(self, index: int):
        indices = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        augment = self.augment
        if augment is None:
            rng = np.random.default_rng(self.seeds[index])
            augment = dataset.Augmenter(self.input_size, rng, channel_shuffle=self.channel_shuffle)
        batch = [self.samples[i] for i in indices]
        return make_batch(batch, self.samples, augment, self.grid, self.mosaic, self.box_region)


def _one_thread(_worker_id: int) -> None:
    torch.set_num_threads(1)


def epoch_loader(batches: EpochBatches, workers: int) -> DataLoader:
    """A DataLoader reading ``batches`` in order, in ``workers`` processes (0: in this one).

    Its own generator keeps it off torch's global one, which the model's stochastic depth draws from.
    """
    return DataLoader(
        batches,
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        worker_init_fn=_one_thread if workers else None,
        generator=torch.Generator().manual_seed(0),
    )
