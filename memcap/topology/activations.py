"""Activations (``model.activation``) and SIREN's initialization for ``sine``, for every task.

What an activation is applied to is the task's choice. In the pattern networks
(memcap.patterns.models.network) the output neurons always stay sigmoid (the
report's networks, and what the losses and the memorization criterion read);
what changes is what the recurrent network feeds back through R: step t adds
R f(a(t-1)) to the pre-activation, with f = sigmoid in the report. In the text
encoders (memcap.text.models) it is the hidden neurons' nonlinearity of the
Elman network and of the dense encoder (tanh there by default).

``sine`` is SIREN (Sitzmann et al. 2020): f(a) = sin(w0 a), and the weights
feeding a sine are drawn so that w0 a spans a few periods at the first layer
and keeps unit-scale activations after it: the first layer (fan-in n) from
U(-1/n, 1/n), later layers (fan-in n) from U(-sqrt(6/n)/w0, sqrt(6/n)/w0).
Biases keep their default initialization, as in SIREN's own code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


def activation(name: str, w0: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function f for ``model.activation`` (``w0`` is used by sine only)."""
    if name == "sine":
        return lambda a: torch.sin(w0 * a)
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name]


class Activation(nn.Module):
    """``activation(name, w0)`` as a module, for a layer stack (nn.Sequential) that names its nonlinearity."""

    def __init__(self, name: str, w0: float):
        super().__init__()
        self.name, self.function = name, activation(name, w0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return self.name


def siren_bound(fan_in: int, w0: float, first: bool) -> float:
    """Half-width of SIREN's uniform initialization for a layer with ``fan_in`` inputs."""
    return 1 / fan_in if first else math.sqrt(6 / fan_in) / w0
