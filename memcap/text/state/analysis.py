"""Where the information sits in a trained state, on the held-out strings.

- ``position_accuracy``: held-out character accuracy at each position (the forgetting curve: which
  characters the final state keeps);
- ``ablation``: the accuracy lost when one state number is held at its mean over the held-out strings,
  for each number (a linear decoder: one rank-one change of the logits per number, no new forward pass);
- ``participation_ratio``: the state's effective dimension, (sum of covariance eigenvalues)^2 / sum of squares:
  1 when one direction carries all the variance, the state size when every direction carries the same.
"""

from __future__ import annotations

import torch
from torch import nn


def position_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> list[float]:
    return (logits.argmax(-1) == targets).float().mean(0).tolist()


@torch.no_grad()
def ablation(decoder: nn.Module, state: torch.Tensor, targets: torch.Tensor, base: float) -> list[float]:
    """For each state number j: ``base`` minus the char accuracy with state[:, j] replaced by its mean."""
    mean = state.mean(0)
    linear = isinstance(getattr(decoder, "net", None), nn.Linear)
    logits = decoder(state)
    drops = []
    for j in range(state.shape[1]):
        if linear:
            weight = decoder.net.weight[:, j].view(1, decoder.length, decoder.classes)
            changed = logits + (mean[j] - state[:, j]).view(-1, 1, 1) * weight
        else:
            held = state.clone()
            held[:, j] = mean[j]
            changed = decoder(held)
        drops.append(base - (changed.argmax(-1) == targets).float().mean().item())
    return drops


@torch.no_grad()
def participation_ratio(state: torch.Tensor) -> float:
    centred = state - state.mean(0)
    eig = torch.linalg.eigvalsh(centred.T @ centred / max(1, state.shape[0] - 1)).clamp(min=0)
    total = eig.sum().item()
    return total ** 2 / (eig ** 2).sum().item() if total > 0 else 0.0
