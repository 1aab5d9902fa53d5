"""Activations of the hidden path (``model.activation``) and SIREN's initialization for ``sine``.

In the pattern networks the output neurons always stay sigmoid (the report's
networks, and what the losses and the memorization criterion read). What an
activation changes is what the recurrent network feeds back through R: step t
adds R f(a(t-1)) to the pre-activation, with f = sigmoid in the report. The
simple network has no such path, so it only takes ``sigmoid``
(``memcap.patterns.config.validate`` says so).

``sine`` is SIREN (Sitzmann et al. 2020): f(a) = sin(w0 a), and the weights
feeding a sine are drawn so that w0 a spans a few periods at the first layer
and keeps unit-scale activations after it: the first layer (W, fan-in N) from
U(-1/fan_in, 1/fan_in), later layers (R) from U(-sqrt(6/fan_in)/w0, sqrt(6/fan_in)/w0).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

ACTIVATIONS = ("sigmoid", "tanh", "relu", "sine")


def activation(name: str, w0: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function f for ``model.activation`` (``w0`` is used by sine only)."""
    if name == "sine":
        return lambda a: torch.sin(w0 * a)
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name]


def siren_bound(fan_in: int, w0: float, first: bool) -> float:
    """Half-width of SIREN's uniform initialization for a layer with ``fan_in`` inputs."""
    return 1 / fan_in if first else math.sqrt(6 / fan_in) / w0
