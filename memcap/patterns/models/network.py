"""The report's pattern networks as an ensemble of independent members.

simple (steps = 1): z = sigmoid(W x + b), W: N x N, b: N.
recurrent (steps = T >= 2): the same input is given at every step, and step t
adds R f(a(t-1)) to the pre-activation a, with f = sigmoid (the report) or
``model.activation`` (memcap.topology.activations); R's diagonal is held at zero
(the report's "connections between the same output neurons were always kept at
zero"). ``model.density`` < 1 masks every weight matrix with fixed random
connectivity (memcap.topology.masks).

All members live in stacked tensors (members, N, N) so one batched matmul
advances all of them: tiny networks like these waste a GPU, and drown a CPU in
per-call overhead, when trained one at a time.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from memcap.topology.activations import activation as activation_function
from memcap.topology.activations import siren_bound
from memcap.topology.masks import apply_masks, kept, random_mask


def _uniform(shape: tuple[int, ...], bound: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


class PatternEnsemble(nn.Module):
    """``len(seeds)`` networks with N inputs and N sigmoid outputs, taking ``steps`` steps.

    Member i is initialized from ``seeds[i]`` alone (as torch.nn.Linear does:
    U(-1/sqrt(N), 1/sqrt(N)); SIREN's ranges for ``activation="sine"``), and so
    is its connectivity mask when ``density`` < 1, so it does not matter which
    other members share the ensemble.
    """

    def __init__(self, N: int, steps: int, seeds: list[int], activation: str = "sigmoid", w0: float = 30.0,
                 density: float = 1.0):
        super().__init__()
        self.N, self.steps = N, steps
        self.feedback = activation_function(activation, w0)
        self.weight_names = ("W", "R") if steps > 1 else ("W",)
        # Multiplying R by this in forward gives the diagonal zero gradient,
        # so Adam never moves it from its initial zero.
        self.register_buffer("off_diagonal", 1 - torch.eye(N), persistent=False)
        bound = 1 / math.sqrt(N)
        sine = activation == "sine"
        W, b, R, masks = [], [], [], {name: [] for name in self.weight_names}
        for seed in seeds:
            gen = torch.Generator().manual_seed(int(seed))
            W.append(_uniform((N, N), siren_bound(N, w0, first=True) if sine else bound, gen))
            b.append(_uniform((N,), bound, gen))
            if steps > 1:
                R.append(_uniform((N, N), siren_bound(N, w0, first=False) if sine else bound, gen).fill_diagonal_(0.0))
            if density < 1:
                for name in self.weight_names:
                    masks[name].append(random_mask(self.allowed(name), density, gen))
        self.W = nn.Parameter(torch.stack(W))
        self.b = nn.Parameter(torch.stack(b))
        if steps > 1:
            self.R = nn.Parameter(torch.stack(R))
        if density < 1:
            apply_masks(self, {name: torch.stack(member_masks) for name, member_masks in masks.items()})

    @property
    def members(self) -> int:
        return self.W.shape[0]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Pre-activations of the last step, (members, DS, N), for inputs X (members, DS, N)."""
        drive = torch.baddbmm(self.b.unsqueeze(1), X, self.W.transpose(1, 2))
        logits = drive
        if self.steps > 1:
            R = (self.R * self.off_diagonal).transpose(1, 2)
            for _ in range(self.steps - 1):
                logits = drive + torch.bmm(self.feedback(logits), R)
        return logits

    def allowed(self, name: str) -> torch.Tensor:
        """Where weight ``name`` may be nonzero: everywhere in W, off the diagonal in R."""
        return self.off_diagonal if name == "R" else torch.ones_like(self.off_diagonal)

    def num_parameters(self) -> int:
        """Trainable parameters of one member: N^2 + N (simple), 2 N^2 (recurrent), unmasked.

        The recurrent diagonal is held at zero and not counted (the report's eq. 5);
        neither is a weight masked by ``density`` or by pruning (memcap.topology.masks).
        """
        return self.N + sum(kept(self, name, self.allowed(name)) for name in self.weight_names)
