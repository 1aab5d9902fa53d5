"""Masked weights: fixed random sparse connectivity (``model.density``) and counting what a mask keeps.

A mask lives where torch.nn.utils.prune puts it: ``W_orig`` is the parameter,
``W_mask`` a buffer, and a forward pre-hook computes W = W_orig * W_mask. A
masked weight therefore gets zero gradient, so Adam never moves it, and it adds
nothing to the network's function; both sparse-from-the-start networks and
pruned ones (memcap.patterns.prune) are masks of this kind, and further pruning of a
sparse network multiplies its mask in (prune's PruningContainer).

Every member of an ensemble keeps the same number of weights (masks are drawn
and pruned by exact counts), so one member's count is the network's.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune


def random_mask(allowed: torch.Tensor, density: float, gen: torch.Generator) -> torch.Tensor:
    """A 0/1 mask keeping exactly round(density * allowed.sum()) of the ``allowed`` entries, at random."""
    positions = allowed.flatten().nonzero().squeeze(1)
    keep = positions[torch.randperm(len(positions), generator=gen)[: round(density * len(positions))]]
    mask = torch.zeros(allowed.numel())
    mask[keep] = 1.0
    return mask.view_as(allowed)


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Mask each named weight of ``model`` (stacked over members) with torch.nn.utils.prune."""
    for name, mask in masks.items():
        prune.custom_from_mask(model, name, mask.to(getattr(model, name).device))


def parameter(model: nn.Module, name: str) -> torch.Tensor:
    """The trainable tensor behind weight ``name``: ``name_orig`` once a mask reparametrizes it."""
    masked = getattr(model, f"{name}_orig", None)
    return masked if masked is not None else getattr(model, name)


def effective(model: nn.Module, name: str) -> torch.Tensor:
    """The weight as the network uses it, computed now (prune's ``model.W`` is only refreshed by a forward)."""
    mask = getattr(model, f"{name}_mask", None)
    return parameter(model, name) if mask is None else parameter(model, name) * mask


def mask_of(model: nn.Module, name: str, allowed: torch.Tensor) -> torch.Tensor:
    """The weight's current mask (members, ...): its prune buffer, or ``allowed`` where it has none yet."""
    mask = getattr(model, f"{name}_mask", None)
    return mask if mask is not None else allowed.expand_as(getattr(model, name)).to(getattr(model, name).dtype)


def kept(model: nn.Module, name: str, allowed: torch.Tensor) -> int:
    """Weights of one member that ``name``'s mask keeps (entries outside ``allowed`` are never counted)."""
    return int((mask_of(model, name, allowed)[0] * allowed).sum())
