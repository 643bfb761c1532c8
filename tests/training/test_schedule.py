"""The training schedule: phases and their learning-rate cycles (training/schedule.py)."""

import pytest

from training.schedule import FINAL_LR_SHARE, phase_at, plan_phases

MAIN = {"peak_lr": 2e-3, "warmup_epochs": 1.0, "negative_repeats": 3, "composites": 100}
FINAL = {"peak_lr": 1e-3, "warmup_epochs": 0.5, "negative_repeats": 6, "composites": 30}


def test_one_phase_without_final_epochs():
    (main,) = plan_phases(epochs=20, final_epochs=0, main=MAIN, final=FINAL)
    assert (main.name, main.first_epoch, main.epochs, main.composites) == ("main", 0, 20, 100)


def test_final_phase_takes_the_last_epochs_with_its_own_mix():
    main, final = plan_phases(epochs=20, final_epochs=6, main=MAIN, final=FINAL)
    assert (main.first_epoch, main.epochs) == (0, 14)
    assert (final.first_epoch, final.epochs, final.negative_repeats, final.composites) == (14, 6, 6, 30)
    assert [phase_at((main, final), epoch).name for epoch in (0, 13, 14, 19)] == ["main", "main", "final", "final"]


@pytest.mark.parametrize("final_epochs", [-1, 20, 21])
def test_final_phase_must_leave_a_main_phase(final_epochs):
    with pytest.raises(ValueError, match="final epochs"):
        plan_phases(epochs=20, final_epochs=final_epochs, main=MAIN, final=FINAL)


def test_epoch_outside_the_plan_is_refused():
    phases = plan_phases(epochs=4, final_epochs=1, main=MAIN, final=FINAL)
    with pytest.raises(ValueError, match="outside"):
        phase_at(phases, 4)


def test_each_phase_warms_up_then_decays_to_the_floor():
    main, final = plan_phases(epochs=20, final_epochs=6, main=MAIN, final=FINAL)
    steps = 10
    # Main: one epoch of linear warm-up reaching the peak on its last step.
    assert main.lr_factor(0, 0, steps) == pytest.approx(1 / 10)
    assert main.lr_factor(0, 9, steps) == pytest.approx(1.0)
    # Final: restarts at its first epoch with a half-epoch warm-up, whatever the main phase ended at.
    assert final.lr_factor(14, 0, steps) == pytest.approx(1 / 5)
    assert final.lr_factor(14, 4, steps) == pytest.approx(1.0)
    # Halfway through the decay the cosine is midway between peak and floor: with 12 steps an epoch the
    # final phase has 72 steps, 6 of warm-up, so step 6 + 33 (epoch 14 + 3, batch 3) is the middle.
    assert final.lr_factor(17, 3, 12) == pytest.approx(FINAL_LR_SHARE + (1 - FINAL_LR_SHARE) / 2)
    # The last step of each phase sits just above the floor and never below it.
    for phase in (main, final):
        last_epoch = phase.first_epoch + phase.epochs - 1
        assert FINAL_LR_SHARE <= phase.lr_factor(last_epoch, steps - 1, steps) < FINAL_LR_SHARE + 0.001


def test_factor_never_rises_after_the_warm_up():
    (main,) = plan_phases(epochs=5, final_epochs=0, main=MAIN, final=FINAL)
    factors = [main.lr_factor(epoch, index, 7) for epoch in range(5) for index in range(7)]
    peak = factors.index(max(factors))
    assert peak == 6
    assert all(a >= b for a, b in zip(factors[peak:], factors[peak + 1 :], strict=False))
