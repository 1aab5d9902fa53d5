"""The optimizer's learning-rate schedules (memcap.fitting.adam)."""

import pytest
import torch

from memcap.fitting import WARMUP_FRACTION, adam


def lrs(schedule: str, max_steps: int) -> list[float]:
    """The lr of each of ``max_steps`` steps."""
    params = [torch.nn.Parameter(torch.zeros(1))]
    made = adam(params, 0.1, schedule, max_steps)
    if schedule == "constant":
        return [made.param_groups[0]["lr"]] * max_steps
    (optimizer,), (scheduler,) = made
    seen = []
    for _ in range(max_steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


def test_cosine_decays_from_the_lr_to_zero():
    seen = lrs("cosine", 200)
    assert seen[0] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(seen, seen[1:]))
    assert seen[-1] < 1e-4


def test_warmup_cosine_rises_linearly_then_decays():
    steps = 200
    warm = round(WARMUP_FRACTION * steps)
    seen = lrs("warmup_cosine", steps)
    assert seen[0] == pytest.approx(0.001)  # lr / 100
    rise = seen[: warm + 1]
    assert all(b > a for a, b in zip(rise, rise[1:]))
    assert seen[warm] == pytest.approx(0.1)  # the peak, where the decay starts
    fall = seen[warm:]
    assert all(a >= b for a, b in zip(fall, fall[1:]))
    assert seen[-1] < 1e-4
