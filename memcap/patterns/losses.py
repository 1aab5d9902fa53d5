"""Losses over an ensemble of pattern networks.

Every loss takes pre-activations ``logits`` and binary ``targets`` of shape
(members, DS, N) plus a (members, DS) float ``weight`` that is 1 for real
patterns and 0 for padding, and returns one loss per member. Summing the
members' losses keeps each member's gradient exactly its own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "bce_ignore", "hinge", "log_hinge")
# The defaults of loss.margin and loss.tau (memcap.patterns.config.LossConfig reads them from here).
MARGIN, TAU = 1.0, 10.0


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


def _mean_per_member(per_pattern: torch.Tensor, weight: torch.Tensor, bits: int) -> torch.Tensor:
    # Mean over each member's real patterns and bits (padding has weight 0),
    # matching torch's default "mean" reduction for a member trained alone.
    return (per_pattern * weight).sum(-1) / (weight.sum(-1) * bits).clamp_min(1)


def ensemble_loss(
    name: str, logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor, bti: int,
    margin: float = MARGIN, tau: float = TAU,
) -> torch.Tensor:
    """Loss per member, shape (members,).

    bce: binary cross-entropy on the sigmoid output (computed from logits for stability).
    bce_ignore: bce with the report's #bti worst bits per group dropped (``drop_worst``).
    hinge: max(0, margin - (2y-1) a) on the pre-activation a: the hinge-loss LP's
        objective (memcap.patterns.oracle), a perceptron-style loss that stops pushing a bit once
        it is right by ``margin``, unlike bce, which pulls on every bit forever.
    log_hinge: per pattern, tau * log(1 + H / tau) with H the pattern's hinge summed over
        its bits, averaged per bit like the others. Counting memorized patterns is a
        per-pattern 0/1 objective, and the hinge optimum spreads its errors thinly, about
        one wrong bit on each of many patterns (N=200, DS=700: the exact hinge LP solution
        memorizes 506 patterns, the LP oracle that drops its worst patterns 685;
        scripts/oracle_check.py). The log makes a pattern's gradient weight
        1 / (1 + H / tau) fall as the pattern becomes hopeless, so training gives up a few
        patterns to store the rest: a smooth analogue of the oracle's greedy removal. ``tau`` is the summed slack at which a pattern
        starts to count as hopeless (docs/recipe.md measures it).
    """
    if name in ("bce", "bce_ignore"):
        per_bit = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        if name == "bce_ignore":
            per_bit = drop_worst(per_bit, targets, bti)
        per_pattern = per_bit.sum(-1)
    elif name in ("hinge", "log_hinge"):
        per_pattern = F.relu(margin - (2 * targets - 1) * logits).sum(-1)
        if name == "log_hinge":
            per_pattern = tau * torch.log1p(per_pattern / tau)
    else:
        raise ValueError(f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}")
    return _mean_per_member(per_pattern, weight, logits.shape[-1])
