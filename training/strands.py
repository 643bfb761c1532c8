"""Procedural filament: strings and tangles drawn as thin, shaded, wandering curves.

Stringing and the first loose loops of spaghetti are a few thin strands of the print's own
filament, often too small in a webcam frame for a pasted photo region to look like them. A strand
here is a smooth random walk (its heading turns by a few degrees a step, with gravity pulling it
down), drawn 1-4 px wide with a lighter core where light catches it. A ``Tangle`` is a fixed set of
strands grown in order: ``draw(image, progress)`` shows the first ``progress`` share of them, each
drawn to its own share of its length, so a failure grows frame after frame from the same strands.
Pure: NumPy and Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# Filament colours seen on printers: white, black, greys, and the common PLA/PETG colours.
FILAMENT_COLOURS = (
    (235, 235, 230), (25, 25, 28), (120, 120, 125), (200, 30, 30), (240, 110, 20), (245, 210, 40),
    (40, 160, 60), (30, 80, 200), (120, 50, 160), (240, 120, 170), (170, 200, 210), (150, 95, 50),
)  # fmt: skip


@dataclass(frozen=True)
class Tangle:
    """Strands (each an ``[n, 2]`` polyline in frame pixels) with their widths and one colour."""

    strands: tuple[np.ndarray, ...]
    widths: tuple[int, ...]
    colour: tuple[int, int, int]

    def draw(self, image: Image.Image, progress: float) -> np.ndarray:
        """Draw the tangle grown to ``progress`` (0-1) onto ``image`` in place; returns its box ``[4]`` or empty."""
        shown = _shown(len(self.strands), progress)
        draw = ImageDraw.Draw(image)
        light = tuple(int(min(255, c * 1.35 + 40)) for c in self.colour)
        dark = tuple(int(c * 0.6) for c in self.colour)
        points = []
        for index in range(shown):
            strand = self.strands[index]
            # The last strand shown is still being drawn out.
            share = 1.0 if index < shown - 1 else min(1.0, progress * len(self.strands) - index)
            count = max(2, round(len(strand) * max(share, 0.2)))
            line = [tuple(p) for p in strand[:count]]
            width = self.widths[index]
            draw.line(line, fill=dark, width=width + 1, joint="curve")
            draw.line(line, fill=self.colour, width=width, joint="curve")
            if width >= 2:
                draw.line(line, fill=light, width=max(1, width // 2))
            points.append(strand[:count])
        if not points:
            return np.zeros(0, dtype=np.float32)
        stacked = np.concatenate(points)
        pad = max(self.widths[:shown])
        return np.array(
            [
                stacked[:, 0].min() - pad,
                stacked[:, 1].min() - pad,
                stacked[:, 0].max() + pad,
                stacked[:, 1].max() + pad,
            ],
            dtype=np.float32,
        )


def _shown(count: int, progress: float) -> int:
    """How many strands are visible at ``progress``: at least one once the failure has begun."""
    return int(np.clip(np.ceil(progress * count), 1, count))


def strand(
    rng: np.random.Generator, start: tuple[float, float], length: float, *, droop: float, curl: float
) -> np.ndarray:
    """One strand from ``start``: ``[n, 2]`` points about 2 px apart along a wandering path of ``length`` px.

    ``curl`` is how sharply the heading wanders (radians a step); ``droop`` how hard it is pulled down.
    """
    step = 2.0
    steps = max(2, int(length / step))
    heading = rng.uniform(0, 2 * np.pi)
    turn = 0.0
    points = np.empty((steps, 2), dtype=np.float32)
    x, y = start
    for index in range(steps):
        points[index] = (x, y)
        turn = 0.8 * turn + rng.normal(0, curl)
        heading += turn
        # Pull the heading towards straight down (pi / 2 in image coordinates).
        heading += droop * np.sin(np.pi / 2 - heading)
        x += step * np.cos(heading)
        y += step * np.sin(heading)
    return points


def make_tangle(
    rng: np.random.Generator,
    anchor: tuple[float, float],
    extent: float,
    *,
    strands: int,
    colour: tuple[int, int, int] | None = None,
    width_range: tuple[int, int] = (1, 3),
    curl: float = 0.25,
) -> Tangle:
    """``strands`` strands starting within ``extent`` / 3 of ``anchor``, each up to ``extent`` px long.

    Few strands with little curl are stringing; many with more curl are a tangle of spaghetti.
    """
    if colour is None:
        colour = FILAMENT_COLOURS[int(rng.integers(len(FILAMENT_COLOURS)))]
    drawn = []
    for _ in range(strands):
        start = (anchor[0] + rng.normal(0, extent / 6), anchor[1] + rng.normal(0, extent / 8))
        drawn.append(strand(rng, start, rng.uniform(0.4, 1.0) * extent, droop=rng.uniform(0.0, 0.08), curl=curl))
    widths = tuple(int(rng.integers(width_range[0], width_range[1] + 1)) for _ in range(strands))
    return Tangle(tuple(drawn), widths, colour)
