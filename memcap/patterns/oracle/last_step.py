"""The recurrent network's last step solved exactly, the rest of its weights as trained (2 time steps).

At 2 time steps the output pre-activation is a = d + R f(d), with d = W x + b and R's diagonal held at zero
(memcap.patterns.models.network). With W and b at their trained values, d and f(d) are fixed numbers per
pattern, and neuron i's pre-activation is linear in R's row i: which row gets bit i of every pattern right
is an LP, one per neuron, as for the one-layer network (memcap.patterns.oracle.separability).

``certify`` solves each neuron's hinge LP (every bit right by ``margin`` where it can be, the shortfall
summed where it cannot), puts the rows into the network and counts the patterns it then recalls, with the
project's own criterion in float32: a realized count, checked, not a bound. Where every neuron's LP has zero
slack, the trained W and b already store the whole dataset and only the optimizer's R fell short. The LP
optimum spreads its errors over patterns rather than giving up a few (the one-layer oracle's greedy drop
does that), so below DS the count is a floor of what the rows can do, not their best.

At 3 time steps or more R also shapes the state it multiplies, so the last step is not linear in it:
refused, as are masked networks (``model.density``, pruning), whose zero weights the rows would not keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import linprog
from torch.nn.utils import prune

from memcap.patterns.losses import MARGIN
from memcap.patterns.metrics import memorized

LP_METHODS = ("highs", "highs-ipm", "highs-ds")  # scipy's HiGHS solvers, tried in turn
NUMERICAL_DIFFICULTIES = 4  # scipy.optimize.linprog's status for it


@dataclass
class Certified:
    count: int  # patterns the network recalls with the LP's rows of R (float32, the project's criterion)
    trained: int  # patterns it recalls as trained
    whole_neurons: int  # neurons whose LP has zero slack: every bit right by the margin
    R: torch.Tensor  # (N, N): the rows found, diagonal zero


def certify(network, member: int, X: torch.Tensor, Y: torch.Tensor, margin: float = MARGIN) -> Certified:
    """Member ``member`` of ``network`` (memcap.patterns.models.PatternEnsemble) on its data (X, Y), each
    neuron's row of R solved by an LP with W and b held; see the module docstring."""
    if network.steps != 2:
        raise ValueError(f"the last step is linear in R only at 2 time steps; this network takes {network.steps}")
    if prune.is_pruned(network):
        raise ValueError("a masked network (model.density < 1, pruning) is not certified: the LP's rows would "
                         "not keep its zero weights")
    X64, Y64 = X.to(torch.float64).cpu(), Y.to(torch.float64).cpu()
    with torch.no_grad():
        W, b = network.W[member].detach().double().cpu(), network.b[member].detach().double().cpu()
        drive = (X64 @ W.T + b).numpy()
        state = network.feedback(torch.from_numpy(drive)).numpy()
    solved = [_row(drive[:, i], state, 2 * Y64[:, i].numpy() - 1, i, margin) for i in range(network.N)]
    R = torch.from_numpy(np.stack([row for row, _ in solved])).to(network.R.dtype)
    return Certified(count=_recalled(network, member, X, Y, R), trained=_recalled(network, member, X, Y, None),
                     whole_neurons=sum(slack <= 1e-9 for _, slack in solved), R=R)


def _row(offset: np.ndarray, state: np.ndarray, sign: np.ndarray, neuron: int, margin: float) -> tuple[np.ndarray, float]:
    """Neuron ``neuron``'s row r of R (r[neuron] = 0) minimizing the summed slack s of
    sign_p (offset_p + r . state_p) >= margin - s_p, s >= 0, by HiGHS; (r, the optimal summed slack)."""
    DS, N = state.shape
    A = sp.hstack([sp.csr_matrix(-sign[:, None] * state), -sp.identity(DS, format="csr")], format="csr")
    bounds = [(None, None)] * N + [(0, None)] * DS
    bounds[neuron] = (0, 0)  # R's diagonal stays zero
    # Weights trained long can be large enough for HiGHS's default choice to report numerical difficulties
    # (status 4); its other two solvers are tried before giving up.
    for method in LP_METHODS:
        result = linprog(np.r_[np.zeros(N), np.ones(DS)], A_ub=A, b_ub=sign * offset - margin, bounds=bounds,
                         method=method)
        if result.status == 0:
            return result.x[:N], float(result.fun)
        if result.status != NUMERICAL_DIFFICULTIES:
            break
    raise RuntimeError(f"neuron {neuron}'s LP ended with status {result.status}: {result.message}")


def _recalled(network, member: int, X: torch.Tensor, Y: torch.Tensor, R: torch.Tensor | None) -> int:
    """Patterns member ``member`` recalls, with its R replaced by ``R`` (None: as trained), in the network's
    own forward pass."""
    with torch.no_grad():
        saved = network.R[member].clone()
        try:
            if R is not None:
                network.R[member] = R.to(network.R.device)
            logits = network(X.unsqueeze(0).expand(network.members, *X.shape).to(network.W.device))[member]
        finally:
            network.R[member] = saved
    return int(memorized(torch.sigmoid(logits), Y.to(logits.device)).sum())
