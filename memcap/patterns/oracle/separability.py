"""Is each output neuron's column of labels linearly separable? Decided exactly, cheapest proof first.

Perfect recall of a dataset by the one-layer network is N such questions, one per output neuron, all on
the same rows [x_i, 1]. So the dataset's LP is built once (``DatasetLPs``): the constraint matrix [X, 1]
never changes, and a neuron's labels only set the row bounds (x_i·w + b >= 1 for a 1, <= -1 for a 0).
Each neuron is then decided by the cheapest means that proves its answer:

1. **rank**: when [X, 1] has full row rank (DS <= N + 1 patterns in general position), every labeling is
   separable: no LP at all.
2. **a first-order certificate**: HiGHS's PDLP, stopped after ``PDLP_ITERATIONS`` iterations (a count,
   so the work is the same on any machine), returns approximate weights; they count only if every row
   holds with margin >= ``_STORED_MARGIN`` in float64, which proves the labels separable (any strict
   separator scales to margin 1). Near Table 1's perfect-recall DS a neuron takes a median 27 ms at N=300
   against 329 ms for scipy's linprog, 77 ms against 2.3 s at N=500 (``python scripts/bench.py --solver``).
3. **the dual simplex**, which decides either way (optimal: separable; infeasible: not), started from the
   previous neuron's basis; if HiGHS answers neither, cold, then with presolve, then by interior point.

The answer never depends on which step gave it: only certified weights or the simplex's verdict count.
With ``workers`` > 1 the neurons are split among that many threads, each with its own ``DatasetLPs``: HiGHS
releases the GIL while it solves, so the threads use as many cores, with no process to start and no data to
copy; the verdicts, the neurons checked and the steps counted are those of one thread, neuron by neuron.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from memcap.patterns.oracle.lp import _STORED_MARGIN, LPResult, _as_array, _silent_highs, _WarmHingeLPs

# PDLP iterations before the simplex takes over: enough for almost every separable neuron near capacity
# at N <= 500 (N=200, DS=620: all of 60 neurons by 5000, 57 by 200).
PDLP_ITERATIONS = 5000

# Option sets for the simplex, in turn, until HiGHS answers optimal or infeasible.
_SIMPLEX_ATTEMPTS = ({"presolve": "off"}, {"presolve": "off", "cold": True}, {"presolve": "on", "cold": True},
                     {"solver": "ipm", "cold": True})


@dataclass
class PerfectRecall:
    """Whether some W, b store every pattern; ``failing``: the neurons found not separable; ``checked``: the
    neurons decided (all of them, unless the check stopped at the first failure); ``W``, ``b``: separating
    weights for the separable neurons among them (rows of the others are zero); ``by``: how many neurons
    each step decided (rank, pdlp, simplex)."""

    ok: bool
    failing: list[int]
    checked: int
    W: np.ndarray
    b: np.ndarray
    by: dict[str, int] = field(default_factory=dict)

    def require_complete(self, user: str) -> None:
        """Refuse a check that stopped at its first failure: ``user`` builds weights for every neuron."""
        if self.checked < len(self.b):
            raise ValueError(f"{user} needs every neuron checked (perfect_recall(..., first_failure=False))")


class DatasetLPs:
    """One dataset's separability LP, [X, 1] built once; ``decide(y)`` for each neuron's labels."""

    def __init__(self, X):
        X = _as_array(X)
        self.DS, self.n_in = X.shape
        dense = np.hstack([X, np.ones((self.DS, 1))])
        self.A = sp.csc_matrix(dense)
        self.full_rank = self.DS <= self.n_in + 1 and np.linalg.matrix_rank(dense) == self.DS
        self.pinv = np.linalg.pinv(dense) if self.full_rank else None
        self.rows = np.arange(self.DS, dtype=np.int32)
        self.pdlp, self.simplex = self._highs(solver="pdlp"), self._highs(presolve="off")
        self.pdlp.setOptionValue("pdlp_iteration_limit", PDLP_ITERATIONS)

    def _highs(self, **options) -> highspy.Highs:
        n, inf = self.n_in + 1, highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, self.DS
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.zeros(n), np.full(n, -inf), np.full(n, inf)
        lp.row_lower_, lp.row_upper_ = np.full(self.DS, -inf), np.full(self.DS, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.A.indptr, self.A.indices, self.A.data
        highs = _silent_highs()
        highs.passModel(lp)
        for key, value in options.items():
            highs.setOptionValue(key, value)
        return highs

    def _bounds(self, highs: highspy.Highs, on: np.ndarray) -> None:
        inf = highspy.kHighsInf
        highs.changeRowsBounds(self.DS, self.rows, np.where(on, 1.0, -inf), np.where(on, inf, -1.0))

    def _certified(self, x, sign: np.ndarray) -> np.ndarray | None:
        x = np.asarray(x)
        return x if len(x) == self.n_in + 1 and (sign * (self.A @ x)).min() >= _STORED_MARGIN else None

    def decide(self, y) -> tuple[bool, np.ndarray | None, str]:
        """(separable, [w, b] with margin >= 1/2 when separable, which step decided) for labels y (DS,)."""
        on = _as_array(y) > 0.5
        sign = np.where(on, 1.0, -1.0)
        if self.full_rank:  # [X, 1] x = sign has an exact solution
            x = self.pinv @ sign
            if self._certified(x, sign) is not None:
                return True, x, "rank"
        self.pdlp.clearSolver()  # a cold start: the same iterations whatever was solved before
        self._bounds(self.pdlp, on)
        self.pdlp.run()
        x = self._certified(self.pdlp.getSolution().col_value, sign)
        if x is not None:
            return True, x, "pdlp"
        self._bounds(self.simplex, on)
        for options in _SIMPLEX_ATTEMPTS:
            for key, value in options.items():
                if key == "cold":
                    self.simplex.clearSolver()
                else:
                    self.simplex.setOptionValue(key, value)
            self.simplex.run()
            status = self.simplex.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                return False, None, "simplex"
            if status == highspy.HighsModelStatus.kOptimal:
                x = np.asarray(self.simplex.getSolution().col_value)
                return True, x, "simplex"
        raise RuntimeError(f"HiGHS decided neither way: {self.simplex.modelStatusToString(status)}")


def perfect_recall(X, Y, first_failure: bool = False, workers: int = 1) -> PerfectRecall:
    """Can a one-layer network store all DS pairs (X, Y) exactly? One LP per output neuron (``DatasetLPs``);
    ``first_failure``: stop at the first neuron that is not separable (the answer is then no); ``workers``:
    threads deciding the neurons (contiguous shares), the result the same as one thread's."""
    X, Y = _as_array(X), _as_array(Y)
    n_out = Y.shape[1]
    first_failing = [n_out]  # the first neuron found not separable so far: no thread needs any beyond it
    lock = threading.Lock()

    def decide(columns) -> dict[int, tuple]:
        lps, found = DatasetLPs(X), {}
        for j in columns:
            if first_failure and j > first_failing[0]:
                break
            found[j] = lps.decide(Y[:, j])
            if not found[j][0] and first_failure:
                with lock:
                    first_failing[0] = min(first_failing[0], j)
                break
        return found

    shares = [share for share in np.array_split(np.arange(n_out), max(1, min(workers, n_out))) if len(share)]
    decided: dict[int, tuple] = {}
    if len(shares) == 1:
        decided = decide(shares[0])
    else:
        with ThreadPoolExecutor(len(shares)) as pool:
            for found in pool.map(decide, shares):
                decided.update(found)
    W, b = np.zeros((n_out, X.shape[1])), np.zeros(n_out)
    failing, by, checked = [], {}, 0
    for j in range(n_out):  # in neuron order, as one thread would have decided them
        ok, x, step = decided[j]
        checked, by[step] = checked + 1, by.get(step, 0) + 1
        if ok:
            W[j], b[j] = x[:-1], x[-1]
        else:
            failing.append(j)
            if first_failure:
                break
    return PerfectRecall(ok=not failing, failing=failing, checked=checked, W=W, b=b, by=by)


def recalled_by(found: PerfectRecall, X, Y, bti: int = 0) -> int:
    """The patterns recalled (``memcap.patterns.metrics.memorized``) by weights built from a complete check:
    its separators, and for each neuron that is not separable its hinge LP's optimum (the convex surrogate of
    the fewest wrong bits). A count weights achieve: a lower bound on what the network can store."""
    found.require_complete("recalled_by")
    X, Y = _as_array(X), _as_array(Y)
    W, b = found.W.copy(), found.b.copy()
    if found.failing:
        hinge = _WarmHingeLPs(sp.csr_matrix(X), 2.0 * (Y > 0.5) - 1)
        for j in found.failing:
            x = hinge.solve(j, np.ones(len(Y), dtype=bool))
            W[j], b[j] = x[:-1], x[-1]
    return LPResult.recalled(X, Y, W, b, bti).memorized


def separable(X, y) -> bool:
    """Is the labeling y (DS,) of the rows of X (DS, N) strictly linearly separable with a bias?"""
    return DatasetLPs(X).decide(y)[0]
