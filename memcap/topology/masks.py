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
``mask_matrices`` masks weight matrices of one (``random_matrix_masks``: fixed random
connectivity; memcap.text.state.prune: pruning rounds), ``unmasked_parameters`` counts what it
keeps. ``MemberwiseUnstructured`` is the pruning method of both tasks.
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


class MemberwiseUnstructured(prune.BasePruningMethod):
    """Remove ``amount`` of each member's unpruned entries: those of lowest importance.

    ``t`` holds importance scores with the members along dim 0 (|w| for the
    lottery, uniform noise for the control); every member loses
    round(amount * its remaining entries), whatever the others hold. A single
    network (a text encoder) is one member: its matrices flattened into one row.
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: float):
        self.amount = amount

    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        mask = default_mask.clone()
        order = t.masked_fill(default_mask == 0, torch.inf).flatten(1).argsort(dim=1, stable=True)
        for member, remaining in enumerate(default_mask.flatten(1).sum(1).tolist()):
            mask.view(len(mask), -1)[member, order[member, : round(self.amount * remaining)]] = 0
        return mask


Matrix = tuple[str, str]  # (the owner's path in the module, the weight's name)


def weight_matrices(module: nn.Module) -> list[Matrix]:
    """Every weight matrix of ``module`` (each parameter of two or more dimensions; biases and gains are not),
    masked or not, in registration order."""
    found = []
    for path, owner in module.named_modules():
        for name, weight in owner.named_parameters(recurse=False):
            if weight.dim() >= 2:
                found.append((path, name.removesuffix("_orig")))
    return found


def matrix_mask(module: nn.Module, matrix: Matrix) -> torch.Tensor:
    """The matrix's current mask: its prune buffer, or ones where it has none."""
    owner = module.get_submodule(matrix[0])
    mask = getattr(owner, f"{matrix[1]}_mask", None)
    return mask if mask is not None else torch.ones_like(parameter(owner, matrix[1]))


def random_matrix_masks(module: nn.Module, density: float, gen: torch.Generator) -> dict[Matrix, torch.Tensor]:
    """A random mask for every weight matrix of ``module``, keeping round(density * entries) each, drawn from
    ``gen`` in registration order."""
    return {matrix: random_mask(torch.ones(parameter(module.get_submodule(matrix[0]), matrix[1]).shape), density, gen)
            for matrix in weight_matrices(module)}


def mask_matrices(module: nn.Module, masks: dict[Matrix, torch.Tensor]) -> None:
    """Mask weight matrices of ``module`` (a matrix masked before gets the product: prune's PruningContainer).

    prune's hook refreshes a masked weight only when its owner runs, and some owners' weights are read without
    that (nn.MultiheadAttention reads ``out_proj.weight`` without calling ``out_proj``): a stale product, from an
    earlier step's graph. So ``module`` itself refreshes every masked weight before each of its forwards. The hook
    finds the weights by name, so a copy of ``module`` refreshes its own.
    """
    for (path, name), mask in masks.items():
        apply_masks(module.get_submodule(path), {name: mask})
    first = not hasattr(module, "masked_matrices")
    module.masked_matrices = sorted(set(getattr(module, "masked_matrices", [])) | set(masks))
    if not first:
        return

    def refresh(root: nn.Module, _inputs) -> None:
        for path, name in root.masked_matrices:
            owner = root.get_submodule(path)
            setattr(owner, name, effective(owner, name))

    module.register_forward_pre_hook(refresh)


def unmasked_parameters(module: nn.Module) -> int:
    """Trainable entries of ``module`` that no mask holds at zero: the nonzero parameters it computes with."""
    masked = sum(int((buffer == 0).sum()) for owner in module.modules()
                 for name, buffer in owner.named_buffers(recurse=False)
                 if name.endswith("_mask") and getattr(owner, name[: -len("_mask")] + "_orig", None) is not None)
    return sum(p.numel() for p in module.parameters() if p.requires_grad) - masked
