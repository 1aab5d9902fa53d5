"""When does a network count as having memorized a pattern?"""

from __future__ import annotations

import torch


def memorized(outputs: torch.Tensor, targets: torch.Tensor, bti: int = 0) -> torch.Tensor:
    """One bool per pattern: are the thresholded outputs equal to the targets?

    ``outputs`` are probabilities (sigmoid outputs), thresholded at 0.5 (>= 0.5 is 1),
    as in the report. With ``bti`` > 0 (the bce_ignore criterion) a pattern still
    counts when at most ``bti`` of its target-1 bits and at most ``bti`` of its
    target-0 bits are wrong. Works on any leading shape (..., N) -> (...).
    """
    on = targets > 0.5
    wrong = (outputs >= 0.5) != on
    wrong_on = (wrong & on).sum(-1)
    wrong_off = (wrong & ~on).sum(-1)
    return (wrong_on <= bti) & (wrong_off <= bti)
