"""The per-neuron LPs and the greedy heuristic: the lower end of the oracle's interval.

Each output neuron is a perceptron on its own column of Y, and whether it can
store that column is one LP (strict separability as the feasibility of
(2y_i - 1)(x_i·w + b) >= 1: ``memcap.patterns.oracle.separability``). When not all
patterns fit, ``lp_memorized`` solves each neuron's hinge LP (re-solved warm,
``_WarmHingeLPs``) and drops the worst pattern greedily: weights that recall
what it counts, so the optimum is at least that.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from scipy.optimize import linprog

from memcap.patterns.metrics import memorized

log = logging.getLogger("memcap")

# HiGHS's default primal feasibility tolerance: slack below it is solver noise.
_FEASIBILITY_TOL = 1e-7
# A bit counts as stored only with margin >= 1/2 (the LPs ask for 1), so that
# float32 rounding of the returned weights cannot flip it.
_STORED_MARGIN = 0.5


@dataclass
class LPResult:
    """``memorized`` of the DS patterns are recalled by W (N_out, N_in), b (N_out,); ``mask`` says which."""

    memorized: int
    W: torch.Tensor
    b: torch.Tensor
    mask: torch.Tensor

    @classmethod
    def recalled(cls, X: np.ndarray, Y: np.ndarray, W: np.ndarray, b: np.ndarray, bti: int) -> LPResult:
        """What W, b recall as float32 weights, counted by ``memcap.patterns.metrics.memorized``: the count
        every heuristic and witness reports is one that weights achieve."""
        W_t, b_t = torch.from_numpy(W).float(), torch.from_numpy(b).float()
        mask = memorized(torch.sigmoid(torch.from_numpy(X).float() @ W_t.T + b_t), torch.from_numpy(Y).float(), bti)
        return cls(memorized=int(mask.sum()), W=W_t, b=b_t, mask=mask)


def _as_array(A) -> np.ndarray:
    if isinstance(A, torch.Tensor):
        A = A.detach().cpu().numpy()
    return np.asarray(A, dtype=np.float64)


def _margin_matrix(X: sp.csr_matrix, sign: np.ndarray, slacks: bool) -> sp.csc_matrix:
    """The rows -s_i (x_i·w + b) [- ξ_i] <= -1 of the margin LP, over the variables [w, b] or [w, b, ξ]."""
    blocks = [sp.diags(-sign) @ X, sp.csr_matrix(-sign[:, None])]
    if slacks:
        blocks.append(-sp.identity(X.shape[0]))
    return sp.hstack(blocks, format="csc")


def decided_linprog(cost: np.ndarray, attempts: tuple[tuple[str, dict], ...], **problem):
    """``linprog`` with each (method, options) of ``attempts`` in turn until one answers solved (status 0) or
    infeasible (2); RuntimeError when none does. HiGHS's presolve answers "unknown" (its status 15) on some of
    the oracle's LPs (margin LPs at N=100, DS=340; Farkas LPs at N=200): the dual simplex without presolve,
    then the interior point method (with crossover: a vertex) decide them."""
    for method, options in attempts:
        res = linprog(cost, **problem, method=method, options=options)
        if res.status in (0, 2):
            return res
    raise RuntimeError(f"linprog failed: {res.message}")


WITHOUT_PRESOLVE = (("highs-ds", {"presolve": False}), ("highs-ipm", {}))  # when presolve does not decide


def _margin_lp(X: sp.csr_matrix, sign: np.ndarray, hinge: bool):
    """Solve sign_i (x_i·w + b) >= 1 over w, b (free).

    Without ``hinge`` this is a pure feasibility problem (zero objective). With
    it, every constraint gets a slack ξ_i >= 0 and the LP minimizes Σ ξ_i: the
    hinge loss, the tightest convex surrogate of the number of wrong bits, and
    zero exactly when the points are strictly separable. Variables: [w, b, ξ].
    """
    M, N = X.shape
    cost = np.zeros(N + 1)
    bounds = [(None, None)] * (N + 1)
    if hinge:
        cost = np.concatenate([cost, np.ones(M)])
        bounds += [(0, None)] * M
    return decided_linprog(cost, (("highs", {}), *WITHOUT_PRESOLVE), A_ub=_margin_matrix(X, sign, hinge),
                           b_ub=-np.ones(M), bounds=bounds)


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


_PARKING = threading.Lock()  # file descriptor 1 is the process's: one thread parks it at a time


def _silent_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing: HiGHS writes its banner to file descriptor 1 as it is
    constructed, before any option can be set (ERGO-Code/HiGHS#1932), so stdout is parked for that moment
    (under a lock: two threads parking it at once would leave it parked)."""
    with _PARKING:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    highs.setOptionValue("output_flag", False)
    return highs


class _WarmHingeLPs:
    """Each output neuron's hinge LP over all DS patterns, re-solved from its last optimal basis.

    The greedy removes one pattern (or bit) at a time and re-solves. Here a
    removed constraint stays in the model and its slack's cost drops to 0, so
    it binds nothing (the same optimum as leaving it out); the neuron's last
    optimal basis then stays primal feasible and primal simplex goes on from
    it instead of starting over. At N=500, DS=2130 (Table 1's largest job) a
    re-solve takes 0.38 s against 2.29 s cold (medians, ``python
    scripts/bench.py --oracle-lp``). A model that size takes about 40 MB
    inside HiGHS, too much to keep one per neuron, so one instance takes each
    neuron's model in turn, with that neuron's saved basis.
    """

    def __init__(self, X: sp.csr_matrix, sign: np.ndarray):
        self.X, self.sign = X, sign
        self.bases: dict[int, highspy.HighsBasis] = {}
        self.highs = _silent_highs()

    def _model(self, j: int, cost: np.ndarray) -> highspy.HighsLp:
        """Variables [w, b, ξ]: -s_i (x_i·w + b) - ξ_i <= -1, cost Σ c_i ξ_i (c_i = 0: pattern i not enforced)."""
        DS, n_in = self.X.shape
        A = _margin_matrix(self.X, self.sign[:, j], slacks=True)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_in + 1 + DS, DS
        lp.col_cost_ = np.concatenate([np.zeros(n_in + 1), np.asarray(cost, dtype=float)])
        lp.col_lower_ = np.concatenate([np.full(n_in + 1, -highspy.kHighsInf), np.zeros(DS)])
        lp.col_upper_ = np.full(n_in + 1 + DS, highspy.kHighsInf)
        lp.row_lower_, lp.row_upper_ = np.full(DS, -highspy.kHighsInf), -np.ones(DS)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        return lp

    def solve(self, j: int, cost: np.ndarray) -> np.ndarray:
        """Neuron j's optimal [w, b] with each bit's slack weighted by ``cost`` (DS,): bools (the enforced bits)
        or weights (the tolerance witness makes some bits dearer)."""
        highs = self.highs
        highs.passModel(self._model(j, cost))
        warm = j in self.bases
        if warm:
            highs.setBasis(self.bases[j])
        # Primal simplex from a primal feasible basis; for a cold start HiGHS's own choice.
        highs.setOptionValue("simplex_strategy", 4 if warm else 0)
        highs.run()
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS: neuron {j}'s hinge LP ended {highs.modelStatusToString(status)}")
        self.bases[j] = highs.getBasis()
        return np.asarray(highs.getSolution().col_value[: self.X.shape[1] + 1])


def lp_memorized(X, Y, bti: int = 0, progress: bool = True, greedy: bool = True,
                 log_every: float = 60.0) -> LPResult:
    """A lower bound on the patterns a one-layer network can memorize, with weights that reach it.

    Storing the largest subset of patterns exactly is NP-hard (it asks for the
    fewest points to delete to make every column separable), so we settle for a
    greedy bound. Each neuron solves the hinge LP (min Σ slack, see
    ``_margin_lp``; re-solved warm, ``_WarmHingeLPs``); its solution is exact when the column is separable and
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

    It can take many minutes (at N=500, DS=2130 over 95 a dataset with cold re-solves): a line goes to
    the log at most every ``log_every`` seconds, what a log file or ``memcap status`` shows beside the
    terminal's bar.
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
    lps = _WarmHingeLPs(Xs, sign)
    start = last = time.monotonic()
    with _progress_bar(progress) as bar:
        task = bar.add_task("hinge LPs")
        for round_ in itertools.count(1):
            bar.reset(task, total=len(todo), description=f"hinge LPs ({DS - kept.sum()} dropped)")
            enforced = kept[:, None] & ~waived
            for done, j in enumerate(todo, 1):
                x = lps.solve(j, enforced[:, j])
                W[j], b[j] = x[: X.shape[1]], x[X.shape[1]]
                bar.advance(task)
                if time.monotonic() - last >= log_every:
                    last = time.monotonic()
                    log.info("  oracle: hinge LPs, round %d: neuron %d/%d, %d patterns dropped, %d bits waived, "
                             "%.0fs", round_, done, len(todo), DS - kept.sum(), waived.sum(), last - start)
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
    return LPResult.recalled(X, Y, W, b, bti)
