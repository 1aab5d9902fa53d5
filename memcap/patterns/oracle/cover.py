"""The covering MILP: how many patterns every W, b must lose, given the circuits found so far.

Each verified circuit holds a wrong bit of any W, b, so the patterns they lose
cover all circuits. ``_cover_milp`` bounds the smallest such cover from below
(HiGHS's branch and bound, limited by a node count); ``_small_cover_bound``
checks that bound by counting where it is at most 3.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_SOLUTION_LIMIT = 16  # HighsModelStatus.kSolutionLimit: mip_max_nodes (scipy's node_limit) reached


def _cover_milp(DS: int, cuts: list[tuple[int, np.ndarray]], on: np.ndarray, bti: int, nodes: int):
    """min Σ d_i over binaries: every cut has a wrong bit, and a kept pattern has at most bti wrong per group.

    Variables: d_i (pattern i is given up) for all i; with bti = 0 a cut
    (j, C) reads Σ_{i∈C} d_i >= 1. With bti > 0 a bit variable e_ij (bit j of
    pattern i is wrong) for each (i, j) in some cut: Σ_{i∈C} e_ij >= 1, and
    for each pattern and group (target-1, target-0 bits) Σ e_ij <= bti + m d_i,
    m the group's number of bit variables (a given-up pattern may be wrong
    anywhere). Every W, b induces a feasible point (d_i = 1 for the patterns
    it does not recall, e_ij = 1 for its wrong bits), so the optimum, and
    HiGHS's dual bound below it, bound the patterns it must lose. At most
    ``nodes`` branch-and-bound nodes: a count, so the bound is the same on any
    machine (HiGHS's MIP solver is deterministic).
    Returns (drop mask, wrong-bit set, dual bound, optimal?).
    """
    from scipy.optimize import LinearConstraint, milp

    rows, cols, lo, hi = [], [], [], []
    bit_index: dict[tuple[int, int], int] = {}
    if bti > 0:
        for j, C in cuts:
            for i in C:
                bit_index.setdefault((int(i), j), DS + len(bit_index))
    n_var = DS + len(bit_index)
    for r, (j, C) in enumerate(cuts):
        rows += [r] * len(C)
        cols += [bit_index[(int(i), j)] for i in C] if bti > 0 else [int(i) for i in C]
    lo += [1.0] * len(cuts)
    hi += [np.inf] * len(cuts)
    data = [1.0] * len(rows)
    r = len(cuts)
    if bti > 0:
        groups: dict[tuple[int, bool], list[int]] = {}
        for (i, j), v in bit_index.items():
            groups.setdefault((i, bool(on[i, j])), []).append(v)
        for (i, _), vs in groups.items():
            if len(vs) > bti:
                rows += [r] * (len(vs) + 1)
                cols += vs + [i]
                data += [1.0] * len(vs) + [-float(len(vs))]
                lo.append(-np.inf)
                hi.append(float(bti))
                r += 1
    A = sp.csr_matrix((data, (rows, cols)), shape=(r, n_var))
    cost = np.r_[np.ones(DS), np.zeros(len(bit_index))]
    res = milp(cost, constraints=LinearConstraint(A, lo, hi), integrality=np.ones(n_var),
               bounds=(0, 1), options={"node_limit": nodes, "mip_rel_gap": 0.0})
    # HiGHS ends at the node limit with its status 16 (kSolutionLimit), which scipy passes on as "not
    # recognized" (4): a limit, like the iteration limit (1), with the incumbent and the dual bound so far.
    at_limit = res.status == 1 or (res.status == 4 and f"HiGHS Status {_SOLUTION_LIMIT}:" in res.message)
    if res.status != 0 and not at_limit:
        raise RuntimeError(f"milp failed on the covering MILP: {res.message}")
    bound = res.mip_dual_bound
    if bound is None or not np.isfinite(bound):  # stopped before any bound: only the trivial one
        bound = 0.0
    if res.x is None:
        return None, None, bound, False
    x = res.x > 0.5
    wrong = {key for key, v in bit_index.items() if x[v]}
    return x[:DS], wrong, bound, res.status == 0


def _small_cover_bound(DS: int, cuts: list[tuple[int, np.ndarray]]) -> int:
    """Exactly, by counting: 0, 1, 2 or 3, the most k <= 3 such that every cover of ``cuts`` has k patterns.

    (With bti = 0.) Any cut needs one pattern; no column of the cut-pattern
    incidence matrix B that meets every cut means two; no pair (i, l) with
    (1 − B_i)·(1 − B_l) = 0 over all cuts means three. A check of HiGHS's
    bound where it is small, by integer arithmetic only.
    """
    if not cuts:
        return 0
    B = np.zeros((len(cuts), DS), dtype=bool)
    for r, (_, C) in enumerate(cuts):
        B[r, C] = True
    if B.all(0).any():
        return 1
    miss = (~B).astype(np.int64)
    return 2 if ((miss.T @ miss) == 0).any() else 3
