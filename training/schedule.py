"""The training schedule as plain arithmetic (no torch, so CI tests it).

A run is one or two phases of epochs. Each phase has its own sample mix (how often each clean image
is seen, how many composites are pasted) and its own learning-rate cycle: a linear warm-up, then a
cosine decay to 2 % of the phase's peak. The optional final phase is a short fine-tune folded into
the same command: it restarts from the averaged weights with a lower peak, fewer composites and
more clean repeats, which measured to win back the clean-frame false alarms that the composites
teach (docs/experiments/detectors-run3-to-v2.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The cosine ends at this share of the peak rather than at 0, so the last epochs still move.
FINAL_LR_SHARE = 0.02


@dataclass(frozen=True)
class Phase:
    """Epochs ``first_epoch`` to ``first_epoch + epochs - 1`` (0-based) and how they train."""

    name: str
    first_epoch: int
    epochs: int
    peak_lr: float
    warmup_epochs: float
    negative_repeats: int
    composites: int

    def lr_factor(self, epoch: int, batch_index: int, steps_per_epoch: int) -> float:
        """The share of ``peak_lr`` at this step of the phase: linear warm-up, then cosine decay."""
        step = (epoch - self.first_epoch) * steps_per_epoch + batch_index
        total_steps = self.epochs * steps_per_epoch
        warmup_steps = max(1, round(self.warmup_epochs * steps_per_epoch))
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return FINAL_LR_SHARE + (1 - FINAL_LR_SHARE) * 0.5 * (1 + math.cos(math.pi * progress))


def plan_phases(*, epochs: int, final_epochs: int, main: dict, final: dict) -> tuple[Phase, ...]:
    """The main phase, then (if ``final_epochs``) the final one; ``main``/``final`` hold the other Phase fields."""
    if not 0 <= final_epochs < epochs:
        raise ValueError(f"final epochs must be at least 0 and fewer than all {epochs} epochs, not {final_epochs}")
    phases = [Phase(name="main", first_epoch=0, epochs=epochs - final_epochs, **main)]
    if final_epochs:
        phases.append(Phase(name="final", first_epoch=epochs - final_epochs, epochs=final_epochs, **final))
    return tuple(phases)


def phase_at(phases: tuple[Phase, ...], epoch: int) -> Phase:
    """The phase that ``epoch`` (0-based) belongs to."""
    for phase in phases:
        if phase.first_epoch <= epoch < phase.first_epoch + phase.epochs:
            return phase
    raise ValueError(f"epoch {epoch} is outside the plan")
