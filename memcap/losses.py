"""Losses over an ensemble of pattern networks.

Every loss takes pre-activations ``logits`` and binary ``targets`` of shape
(members, DS, N) plus a (members, DS) float ``weight`` that is 1 for real
patterns and 0 for padding, and returns one loss per member. Summing the
members' losses keeps each member's gradient exactly its own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "bce_ignore", "hinge")


def bits_to_ignore(N: int, s: float) -> int:
    """The report's #bti = int(N * s * 0.1) (eq. 3): wrong bits tolerated per group."""
    return int(N * s * 0.1)


def drop_worst(per_bit: torch.Tensor, targets: torch.Tensor, bti: int) -> torch.Tensor:
    """Zero the ``bti`` largest losses among each pattern's target-1 bits and among its target-0 bits.

    This is the report's custom loss: per pattern, 2 * #bti output neurons with
    the worst loss are "disabled" by setting their loss to 0.
    """
    if bti == 0:
        return per_bit
    drop = torch.zeros_like(per_bit, dtype=torch.bool)
    for group in (targets > 0.5, targets <= 0.5):
        worst = per_bit.masked_fill(~group, float("-inf")).topk(bti, dim=-1).indices
        drop.scatter_(-1, worst, True)
    return per_bit.masked_fill(drop, 0.0)


def _mean_per_member(per_bit: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    # Mean over each member's real patterns and bits (padding has weight 0),
    # matching torch's default "mean" reduction for a member trained alone.
    per_pattern = per_bit.sum(-1) * weight
    return per_pattern.sum(-1) / (weight.sum(-1) * per_bit.shape[-1]).clamp_min(1)


def ensemble_loss(
    name: str, logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor, bti: int, margin: float = 1.0
) -> torch.Tensor:
    """Loss per member, shape (members,).

    bce: binary cross-entropy on the sigmoid output (computed from logits for stability).
    bce_ignore: bce with the report's #bti worst bits per group dropped (``drop_worst``).
    hinge: max(0, margin - (2y-1) a) on the pre-activation a: the hinge-loss LP's
        objective (memcap.oracle), a perceptron-style loss that stops pushing a bit once
        it is right by ``margin``. Being linear (an L1 penalty on the slack), it tends to
        leave a few patterns badly wrong rather than many slightly wrong, which is what
        counting whole memorized patterns rewards.
    """
    if name in ("bce", "bce_ignore"):
        per_bit = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        if name == "bce_ignore":
            per_bit = drop_worst(per_bit, targets, bti)
    elif name == "hinge":
        per_bit = F.relu(margin - (2 * targets - 1) * logits)
    else:
        raise ValueError(f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}")
    return _mean_per_member(per_bit, weight)
