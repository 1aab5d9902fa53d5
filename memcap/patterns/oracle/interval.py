"""The certified interval [lower, upper] on the most patterns any W, b recall (``oracle_interval``).

A combinatorial Benders loop: the heuristic's weights give the lower end
(``memcap.patterns.oracle.lp``); circuits found for each neuron and verified
exactly (``memcap.patterns.oracle.certificates``) feed a covering MILP
(``memcap.patterns.oracle.cover``) whose bound gives the upper end, until the
MILP's cover is realized by weights (the optimum) or the work limits, counts
never seconds, end it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from memcap.patterns.config import ORACLE_ITERATIONS, ORACLE_NODES
from memcap.patterns.oracle.certificates import _exact_rows, _farkas_support, _verified_circuit
from memcap.patterns.oracle.cover import _cover_milp, _small_cover_bound
from memcap.patterns.oracle.lp import _STORED_MARGIN, LPResult, _as_array, _margin_lp, lp_memorized
from memcap.patterns.sizes import check_oracle_size

log = logging.getLogger("memcap")



@dataclass
class OracleInterval:
    """The most patterns any W, b can recall lies in [``lower``, ``upper``].

    ``lower`` is achieved: ``W``, ``b`` recall exactly the ``mask`` patterns by
    ``memcap.patterns.metrics.memorized`` in float32 (the greedy LP heuristic,
    or the MILP's optimum when it was found). ``upper`` is proven: DS minus a
    lower bound on the patterns every W, b must get wrong, from ``cuts``
    exactly verified infeasible subsystems and HiGHS's bound on the covering
    MILP over them. ``status``: "optimal" (the covering MILP's solution is
    recalled, so lower == upper), "trivial" (the heuristic recalls all DS;
    ``oracle_metrics`` skips the LPs where training did: ``TrainedOptimum``),
    "iteration limit" or "node limit" (the work limits ended it), or
    "unresolved" (a neuron the LPs could neither separate nor certify; the
    bound stays valid, only exactness is lost).
    """

    lower: int
    upper: int
    W: torch.Tensor
    b: torch.Tensor
    mask: torch.Tensor
    status: str
    cuts: int
    iterations: int
    seconds: float
    history: list = field(default_factory=list)  # (iteration, upper) each time the upper bound fell

    @property
    def gap(self) -> int:
        return self.upper - self.lower


def oracle_interval(X, Y, bti: int = 0, iterations: int = ORACLE_ITERATIONS, nodes: int = ORACLE_NODES,
                    progress: bool = False, lower: LPResult | None = None, extra_cuts: int = 2,
                    log_every: float = 60.0) -> OracleInterval:
    """The most patterns a one-layer network can recall, as a certified interval (combinatorial Benders).

    Lower: the greedy LP heuristic (``lp_memorized``), raised to the optimum
    when one is found. Upper: any W, b must get at least one bit wrong in
    every infeasible subsystem (a set of (pattern, neuron) bits whose
    labeling no hyperplane realizes), so the patterns it loses form a cover
    of those sets. The loop alternates (1) a covering MILP over the
    subsystems found so far (``_cover_milp``: its optimum, or HiGHS's dual
    bound at its node limit, is a lower bound on the patterns lost, so
    DS − bound is an upper bound) and (2) per neuron, a Farkas LP on the bits
    the MILP's solution keeps: infeasible means that solution is recalled by
    actual weights (the optimum: lower = upper); otherwise its support is a
    new infeasible subsystem (a circuit), verified in exact arithmetic before
    it is used (``_verified_circuit``), plus ``extra_cuts`` more found by
    leaving out one of its bits. No big-M on the weights: a bound on |w|
    valid for every dataset does not exist at float scale, and a too small
    one would cut off separators and make the bound false.

    What is proven: with exact arithmetic, where sigmoid(a) >= 1/2 ⇔ a >= 0,
    no W, b recall more than ``upper`` patterns under memcap's criterion
    (``bti`` as in ``memcap.patterns.metrics.memorized``). It rests on the
    exact circuit checks and on HiGHS's branch and bound for a pure 0/1
    covering problem (integer data, no continuous variables), checked by
    counting where it is at most 3 (``_small_cover_bound``). A float32
    evaluation could differ only on bits with |a| at rounding level.

    Its limit: circuits of points in general position have about N + 1
    patterns, so d_i = 1/(N + 1) satisfies every cover row and the MILP's LP
    relaxation never exceeds about DS/(N + 1). Where more patterns must go
    (N=200, DS=700: the heuristic drops 17), only branching raises the bound,
    and within minutes it gets to DS − 4 (docs/recipe.md). Where few must go
    (N=100, DS=300) the loop closes the interval in seconds.

    The work is limited by counts, never by the clock, so the interval is the
    same on any machine under any load: ``iterations`` rounds of the loop
    (circuits for every neuron, then one covering MILP) after the heuristic,
    which always runs to its end (0: its interval, upper end DS, unless it
    recalls all), and ``nodes`` branch-and-bound nodes per
    covering MILP (HiGHS's ``mip_max_nodes``). The status says which ended
    the work: "optimal", "trivial" (the heuristic recalled all), "iteration
    limit", "node limit", or "unresolved" (no new circuit passed the exact
    check). ``log_every``: seconds between progress lines, the heuristic's
    and the certification's (circuits found, the interval so far); they
    change nothing. ValueError for a limit < 1, mismatched shapes, or a
    problem too large for memory (``check_oracle_size``).
    """
    start = time.perf_counter()
    for name, value, low in (("iterations", iterations, 0), ("nodes", nodes, 1)):
        if not (isinstance(value, int) and value >= low):
            raise ValueError(f"oracle {name} must be a whole number of at least {low}, got {value!r}")
    X, Y = _as_array(X), _as_array(Y)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and Y must be (DS, N) arrays with the same DS, got {X.shape} and {Y.shape}")
    DS, n_out = Y.shape
    check_oracle_size(DS, X.shape[1], n_out)
    if lower is None:
        lower = lp_memorized(X, Y, bti=bti, progress=progress, log_every=log_every)
    best = (lower.memorized, lower.W, lower.b, lower.mask)
    history: list[tuple[float, int]] = []

    def result(upper: int, status: str, cuts: int, iterations: int) -> OracleInterval:
        n, W, b, mask = best
        if upper < n:  # weights that recall more than the proven maximum: a bug, never to be papered over
            raise RuntimeError(f"oracle: achieved {n} patterns above the upper bound {upper}")
        return OracleInterval(lower=n, upper=upper, W=W, b=b, mask=mask, status=status, cuts=cuts,
                              iterations=iterations, seconds=time.perf_counter() - start, history=history)

    if lower.memorized == DS:
        return result(DS, "trivial", 0, 0)
    on = Y > 0.5
    sign = 2.0 * on - 1
    Xb = np.hstack([X, np.ones((DS, 1))])
    exact = _exact_rows(X)
    # Neurons whose whole column the heuristic's weights separate never need a check.
    margin = sign * (X @ lower.W.double().numpy().T + lower.b.double().numpy())
    active = [j for j in range(n_out) if (margin[:, j] < _STORED_MARGIN).any()]
    cuts: list[tuple[int, np.ndarray]] = []
    seen: set[tuple[int, bytes]] = set()
    rejected = [0]  # Farkas supports that the exact check refused
    drop, wrong = np.zeros(DS, dtype=bool), np.zeros((DS, n_out), dtype=bool)
    upper, done, status = DS, 0, "iteration limit"
    # Each circuit is checked exactly as it is found (about 0.15 s at N=200, as much as its LP).

    def must_lose(bound: float) -> int:
        """HiGHS's dual bound, rounded up (the objective is an integer), checked by counting where small."""
        k = int(np.ceil(bound - 1e-6))
        if bti == 0 and k <= 3:
            k = min(k, _small_cover_bound(DS, cuts))
        return k

    def elapsed() -> float:
        return time.perf_counter() - start

    last_line = [start]

    def report(phase: str) -> None:
        """At most every ``log_every`` seconds one line, as the heuristic's: a certification can run for many
        minutes, and a log file or ``memcap status`` shows where it is."""
        if time.perf_counter() - last_line[0] >= log_every:
            last_line[0] = time.perf_counter()
            log.info("  oracle: certifying (%s), iteration %d/%d: %d circuits, %d <= best <= %d, %.0fs", phase,
                     done, iterations, len(cuts), best[0], upper, elapsed())

    def add_cut(j: int, rows: np.ndarray) -> np.ndarray | None:
        found = _farkas_support(sign[rows, j, None] * Xb[rows])
        if found is None:
            return None
        support, lam = found
        C = rows[support]
        key = (j, C.tobytes())
        if key not in seen:
            seen.add(key)
            if _verified_circuit(exact, sign[:, j], C, lam):
                cuts.append((j, C))
            else:
                rejected[0] += 1
        return C

    while done < iterations:
        done += 1
        found, n_before = False, len(cuts)
        for j in active:
            rows = np.flatnonzero(~drop & ~wrong[:, j])
            C = add_cut(j, rows)
            report("circuits")
            if C is None:
                continue
            found = True
            for c in C[:extra_cuts]:
                add_cut(j, rows[rows != c])
        if not found:  # every neuron separates the kept bits: the MILP's cover is realized
            status = "optimal"
            break
        if len(cuts) == n_before:  # infeasible somewhere, yet no new circuit passed the exact check
            status = "unresolved"
            break
        report("covering MILP")
        d, w, bound, optimal = _cover_milp(DS, cuts, on, bti, nodes)
        if DS - must_lose(bound) < upper:
            upper = DS - must_lose(bound)
            history.append((done, upper))
        if d is None or not optimal:
            status = "node limit"
            break
        drop = d
        wrong = np.zeros((DS, n_out), dtype=bool)
        for i, j in w:
            wrong[i, j] = True
        if upper <= best[0]:
            status = "optimal"
            break
    if status == "optimal" and upper > best[0]:
        # The MILP's solution is realized: weights from the hinge LPs on its kept bits.
        W, b = np.zeros((n_out, X.shape[1])), np.zeros(n_out)
        W[:], b[:] = lower.W.double().numpy(), lower.b.double().numpy()
        Xs = sp.csr_matrix(X)
        for j in active:
            rows = np.flatnonzero(~drop & ~wrong[:, j])
            x = _margin_lp(Xs[rows], sign[rows, j], hinge=True).x
            W[j], b[j] = x[: X.shape[1]], x[X.shape[1]]
        found = LPResult.recalled(X, Y, W, b, bti)
        if found.memorized > best[0]:
            best = (found.memorized, found.W, found.b, found.mask)
        if best[0] < upper:
            status = "unresolved"  # float32 rounding lost a pattern: the optimum is not shown achieved
    if best[0] >= upper:
        status = "optimal"
    return result(upper, status, len(cuts), done)
