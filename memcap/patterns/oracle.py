"""The true capacity of the one-layer network, computed by linear programming.

z = sigmoid(X Wᵀ + b) recalls a pattern when every pre-activation a = x·w_j + b_j
has the target's sign (a >= 0 reads as 1). The output neurons share no
parameters, so each one is a perceptron on its own column of Y, and "can some
W, b store all patterns" splits into one question per neuron: is that column
linearly separable? Since w and b can be scaled freely, strict separability is
exactly the feasibility of the linear constraints (2y_i - 1)(x_i·w + b) >= 1,
which HiGHS (``scipy.optimize.linprog``) decides up to its floating-point
tolerances, free of the step sizes, epochs and initializations that make
gradient training only a lower bound. The oracle thus tells apart "the
architecture cannot store this" from "training did not find it".
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from scipy.optimize import linprog

from memcap.patterns.metrics import memorized

# HiGHS's default primal feasibility tolerance: slack below it is solver noise.
_FEASIBILITY_TOL = 1e-7
# A bit counts as stored only with margin >= 1/2 (the LPs ask for 1), so that
# float32 rounding of the returned weights cannot flip it.
_STORED_MARGIN = 0.5


@dataclass
class PerfectRecall:
    """Whether some W, b store every pattern; ``failing``: the neurons that cannot."""

    ok: bool
    failing: list[int]


@dataclass
class LPResult:
    """``memorized`` of the DS patterns are recalled by W (N_out, N_in), b (N_out,); ``mask`` says which."""

    memorized: int
    W: torch.Tensor
    b: torch.Tensor
    mask: torch.Tensor


def _as_array(A) -> np.ndarray:
    if isinstance(A, torch.Tensor):
        A = A.detach().cpu().numpy()
    return np.asarray(A, dtype=np.float64)


def _margin_lp(X: sp.csr_matrix, sign: np.ndarray, hinge: bool):
    """Solve sign_i (x_i·w + b) >= 1 over w, b (free).

    Without ``hinge`` this is a pure feasibility problem (zero objective). With
    it, every constraint gets a slack ξ_i >= 0 and the LP minimizes Σ ξ_i: the
    hinge loss, the tightest convex surrogate of the number of wrong bits, and
    zero exactly when the points are strictly separable. Variables: [w, b, ξ].
    """
    M, N = X.shape
    blocks = [sp.diags(-sign) @ X, sp.csr_matrix(-sign[:, None])]
    cost = np.zeros(N + 1)
    bounds = [(None, None)] * (N + 1)
    if hinge:
        blocks.append(-sp.identity(M))
        cost = np.concatenate([cost, np.ones(M)])
        bounds += [(0, None)] * M
    res = linprog(cost, A_ub=sp.hstack(blocks, format="csc"), b_ub=-np.ones(M), bounds=bounds, method="highs")
    if res.status not in (0, 2):  # 0: solved, 2: infeasible; anything else is a solver failure
        raise RuntimeError(f"linprog failed: {res.message}")
    return res


def _separable(X: sp.csr_matrix, y: np.ndarray) -> bool:
    return _margin_lp(X, 2.0 * (y > 0.5) - 1, hinge=False).status == 0


def separable(X, y) -> bool:
    """Is the labeling y (DS,) of the rows of X (DS, N) strictly linearly separable with a bias?

    Feasibility of (2y_i - 1)(x_i·w + b) >= 1: any strict separator can be
    scaled to margin 1, so the LP is feasible iff one exists.
    """
    return _separable(sp.csr_matrix(_as_array(X)), _as_array(y))


def perfect_recall(X, Y) -> PerfectRecall:
    """Can a one-layer network store all DS pairs (X, Y) exactly? One LP per output neuron."""
    Xs, Y = sp.csr_matrix(_as_array(X)), _as_array(Y)
    failing = [j for j in range(Y.shape[1]) if not _separable(Xs, Y[:, j])]
    return PerfectRecall(ok=not failing, failing=failing)


def _progress_bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not (enabled and sys.stderr.isatty()),
        transient=True,
    )


def lp_memorized(X, Y, bti: int = 0, progress: bool = True, greedy: bool = True) -> LPResult:
    """A lower bound on the patterns a one-layer network can memorize, with weights that reach it.

    Storing the largest subset of patterns exactly is NP-hard (it asks for the
    fewest points to delete to make every column separable), so we settle for a
    greedy bound. Each neuron solves the hinge LP (min Σ slack, see
    ``_margin_lp``); its solution is exact when the column is separable and
    otherwise concentrates the errors on a few patterns. While some kept
    pattern has a wrong bit, the worst one (most wrong bits, then largest total
    slack) is dropped and only the neurons for which it had positive slack are
    re-solved: for the others its constraint was satisfied and their solution
    stays feasible. With the bce_ignore tolerance ``bti`` > 0, wrong bits of a
    pattern that stays within budget (at most ``bti`` wrong target-1 and
    ``bti`` wrong target-0 bits) are waived instead: their constraints leave
    the LPs, freeing the neuron for the other patterns. Each round drops a
    pattern or waives a bit, so the loop ends.

    The returned count is that of ``memcap.patterns.metrics.memorized`` on sigmoid(X Wᵀ + b)
    over all DS patterns with the returned float32 weights, so it is achieved
    by them and never exceeds DS; kept patterns hold every enforced bit with
    margin >= 1/2, and dropped ones may be recalled by chance. ``greedy=False``
    stops after the first solve: the count of the plain hinge optimum, which
    shows how much the removal adds (docs/recipe.md).
    """
    X, Y = _as_array(X), _as_array(Y)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and Y must be (DS, N) arrays with the same DS, got {X.shape} and {Y.shape}")
    DS, n_out = Y.shape
    Xs, on = sp.csr_matrix(X), Y > 0.5
    sign = 2.0 * on - 1
    kept = np.ones(DS, dtype=bool)
    waived = np.zeros((DS, n_out), dtype=bool)
    W, b = np.zeros((n_out, X.shape[1])), np.zeros(n_out)
    todo = np.arange(n_out)
    with _progress_bar(progress) as bar:
        task = bar.add_task("hinge LPs")
        while True:
            bar.reset(task, total=len(todo), description=f"hinge LPs ({DS - kept.sum()} dropped)")
            enforced = kept[:, None] & ~waived
            for j in todo:
                rows = np.flatnonzero(enforced[:, j])
                x = _margin_lp(Xs[rows], sign[rows, j], hinge=True).x
                W[j], b[j] = x[: X.shape[1]], x[X.shape[1]]
                bar.advance(task)
            margin = sign * (Xs @ W.T + b)
            wrong = enforced & (margin < _STORED_MARGIN)
            if not wrong.any() or not greedy:
                break
            slack = np.where(enforced, np.maximum(1 - margin, 0), 0)
            lost = waived | wrong
            within = ((lost & on).sum(1) <= bti) & ((lost & ~on).sum(1) <= bti)
            tolerated = wrong & within[:, None]
            waived |= tolerated
            changed = tolerated.any(0)
            over = np.flatnonzero(wrong.any(1) & ~within)
            if len(over):
                worst = over[np.lexsort((slack[over].sum(1), wrong[over].sum(1)))[-1]]
                kept[worst] = False
                changed |= slack[worst] > _FEASIBILITY_TOL
            todo = np.flatnonzero(changed)
    W_t, b_t = torch.from_numpy(W).float(), torch.from_numpy(b).float()
    outputs = torch.sigmoid(torch.from_numpy(X).float() @ W_t.T + b_t)
    mask = memorized(outputs, torch.from_numpy(Y).float(), bti)
    return LPResult(memorized=int(mask.sum()), W=W_t, b=b_t, mask=mask)


def oracle_metrics(cfg, DS: int, memorized_runs: list[int], progress: bool = True) -> dict:
    """``search.oracle``: the LP count on each run's dataset at ``DS``, and trained / oracle."""
    from memcap.patterns.config import criterion_bti
    from memcap.patterns.engine import member_data
    bti = criterion_bti(cfg)
    oracle = [lp_memorized(*member_data(cfg, DS, run), bti=bti, progress=progress).memorized
              for run in range(len(memorized_runs))]
    ratios = [trained / best for trained, best in zip(memorized_runs, oracle)]
    return {
        "oracle_memorized": float(np.mean(oracle)),
        "oracle_memorized_runs": oracle,
        "oracle_ratio": float(np.mean(ratios)),
        "oracle_ratio_runs": ratios,
    }
