"""Masked weights: fixed random sparse connectivity (``model.density``) and counting what a mask keeps.

A mask lives where torch.nn.utils.prune puts it: ``W_orig`` is the parameter,
``W_mask`` a buffer, and a forward pre-hook computes W = W_orig * W_mask. A
masked weight therefore gets zero gradient, so Adam never moves it, and it adds
nothing to the network's function; both sparse-from-the-start networks and
pruned ones (memcap.patterns.prune) are masks of this kind, and further pruning of a
sparse network multiplies its mask in (prune's PruningContainer).

The pattern networks stack their members in one tensor; every member keeps the
same number of weights (masks are drawn and pruned by exact counts), so one
member's count is the network's. The text encoders are one network per module:
``mask_matrices`` masks every weight matrix of one, ``unmasked_parameters`` counts
what it keeps.
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


def mask_matrices(module: nn.Module, density: float, gen: torch.Generator) -> None:
    """Mask every weight matrix (every parameter of two or more dimensions, biases and gains left whole) of
    ``module`` with its own random mask keeping round(density * entries), in registration order from ``gen``.

    prune's hook refreshes a masked weight only when its owner runs, and some owners' weights are read without
    that (nn.MultiheadAttention reads ``out_proj.weight`` without calling ``out_proj``): a stale product, from an
    earlier step's graph. So ``module`` itself refreshes every masked weight before each of its forwards. The hook
    finds the weights by name, so a copy of ``module`` refreshes its own.
    """
    masked = []
    for path, owner in module.named_modules():
        for name, weight in list(owner.named_parameters(recurse=False)):
            if weight.dim() >= 2:
                apply_masks(owner, {name: random_mask(torch.ones(weight.shape), density, gen)})
                masked.append((path, name))

    def refresh(root: nn.Module, _inputs) -> None:
        for path, name in masked:
            owner = root.get_submodule(path)
            setattr(owner, name, effective(owner, name))

    module.register_forward_pre_hook(refresh)


def unmasked_parameters(module: nn.Module) -> int:
    """Trainable entries of ``module`` that no mask holds at zero: the nonzero parameters it computes with."""
    masked = sum(int((buffer == 0).sum()) for owner in module.modules()
                 for name, buffer in owner.named_buffers(recurse=False)
                 if name.endswith("_mask") and getattr(owner, name[: -len("_mask")] + "_orig", None) is not None)
    return sum(p.numel() for p in module.parameters() if p.requires_grad) - masked
