"""The report's pattern networks as an ensemble of independent members.

simple (steps = 1): z = sigmoid(W x + b), W: N x N, b: N.
recurrent (steps = T >= 2): the same input is given at every step, and step t
adds R z(t-1) to the pre-activation; R's diagonal is held at zero (the report's
"connections between the same output neurons were always kept at zero").

All members live in stacked tensors (members, N, N) so one batched matmul
advances all of them: tiny networks like these waste a GPU, and drown a CPU in
per-call overhead, when trained one at a time.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _uniform(shape: tuple[int, ...], bound: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


class PatternEnsemble(nn.Module):
    """``len(seeds)`` networks with N inputs and N sigmoid outputs, taking ``steps`` steps.

    Member i is initialized from ``seeds[i]`` alone (as torch.nn.Linear does:
    U(-1/sqrt(N), 1/sqrt(N))), so it does not matter which other members share
    the ensemble.
    """

    def __init__(self, N: int, steps: int, seeds: list[int]):
        super().__init__()
        self.N, self.steps = N, steps
        bound = 1 / math.sqrt(N)
        W, b, R = [], [], []
        for seed in seeds:
            gen = torch.Generator().manual_seed(int(seed))
            W.append(_uniform((N, N), bound, gen))
            b.append(_uniform((N,), bound, gen))
            if steps > 1:
                R.append(_uniform((N, N), bound, gen).fill_diagonal_(0.0))
        self.W = nn.Parameter(torch.stack(W))
        self.b = nn.Parameter(torch.stack(b))
        if steps > 1:
            self.R = nn.Parameter(torch.stack(R))
            # Multiplying by the mask in forward gives the diagonal zero gradient,
            # so Adam never moves it from its initial zero.
            self.register_buffer("off_diagonal", 1 - torch.eye(N), persistent=False)

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
                logits = drive + torch.bmm(torch.sigmoid(logits), R)
        return logits

    def num_parameters(self) -> int:
        """Trainable parameters of one member: N^2 + N (simple), 2 N^2 (recurrent).

        The recurrent diagonal is held at zero and not counted (the report's eq. 5).
        """
        count = self.N * self.N + self.N
        if self.steps > 1:
            count += self.N * self.N - self.N
        return count
