"""Weights that store a whole dataset under the bits-to-ignore tolerance: a witness that a DS is storable.

Under bce_ignore a pattern counts with up to ``bti`` wrong target-1 bits and ``bti`` wrong target-0 bits, so
the neurons are coupled only through those per-pattern budgets. A neuron that is not separable needs only a
few wrong bits, which the budgets can spread over different patterns, even where nearly every neuron needs
some (results/table1_exact_ignore). ``tolerant_witness`` keeps every separable neuron's separator and gives each other
neuron, in turn, the fewest wrong bits it can find, placed only on patterns whose budget of that bit's kind is
not yet spent: its hinge LP with spent patterns made dear, the most violated affordable pattern given up, the
LP re-solved, until every pattern it still holds has margin. The weights it returns are checked with the
project's recall criterion, so a dataset it stores whole is proven storable; where a neuron can place its
errors nowhere, it proves nothing (the greedy heuristic and the oracle's interval remain).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from memcap.patterns.oracle.lp import _STORED_MARGIN, LPResult, _as_array, _WarmHingeLPs
from memcap.patterns.oracle.separability import PerfectRecall

# A spent pattern's slack weighs this many affordable ones in the hinge LP: the neuron's errors move to
# patterns that can still take them, while the LP stays well scaled.
SPENT_WEIGHT = 100.0


def tolerant_witness(found: PerfectRecall, X, Y, bti: int) -> LPResult:
    """Weights from a complete separability check (``found``: every neuron decided) that err only within the
    per-pattern budgets where they can: the patterns they recall (``memcap.patterns.metrics.memorized`` with
    ``bti``), a count realized by float32 weights. Deterministic: neurons in index order, ties by pattern
    index."""
    found.require_complete("tolerant_witness")
    if bti < 1:
        raise ValueError(f"tolerant_witness is for the bits-to-ignore criterion (bti >= 1), got bti={bti}")
    X, Y = _as_array(X), _as_array(Y)
    on = Y > 0.5
    sign = 2.0 * on - 1
    Xs = sp.csr_matrix(X)
    spent = np.zeros((len(Y), 2), dtype=int)  # wrong bits given to each pattern so far: [target 0, target 1]
    W, b = found.W.copy(), found.b.copy()
    hinge = _WarmHingeLPs(Xs, sign)
    for j in found.failing:
        kind = on[:, j].astype(int)
        affordable = spent[np.arange(len(Y)), kind] < bti
        cost = np.where(affordable, 1.0, SPENT_WEIGHT)
        while True:
            x = hinge.solve(j, cost)
            margin = sign[:, j] * (Xs @ x[:-1] + x[-1])
            violated = (cost > 0) & (margin < _STORED_MARGIN)
            candidates = np.flatnonzero(violated & affordable)
            if not violated.any() or len(candidates) == 0:  # done, or every violated pattern's budget is spent
                break
            cost[candidates[np.argmin(margin[candidates])]] = 0.0
        W[j], b[j] = x[:-1], x[-1]
        lost = np.flatnonzero(margin < _STORED_MARGIN)  # given up, or held without margin: a wrong bit, counted
        np.add.at(spent, (lost, kind[lost]), 1)
    return LPResult.recalled(X, Y, W, b, bti)
