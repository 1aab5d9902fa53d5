"""The most patterns the one-layer network can recall, bracketed by LP and MILP.

z = sigmoid(X Wᵀ + b) recalls a pattern when every pre-activation a = x·w_j + b_j
has the target's sign (a >= 0 reads as 1). The output neurons share no
parameters, so each one is a perceptron on its own column of Y, and "can some
W, b store all patterns" splits into one question per neuron: is that column
linearly separable? Since w and b can be scaled freely, strict separability is
exactly the feasibility of the linear constraints (2y_i - 1)(x_i·w + b) >= 1,
which HiGHS (``scipy.optimize.linprog``) decides up to its floating-point
tolerances, free of the step sizes, epochs and initializations of training.

Which patterns to give up when not all fit is NP-hard, so the optimum (the
most patterns any W, b recall) is reported as an interval (``oracle_interval``):

- ``lower``: what a heuristic achieves. ``lp_memorized`` solves hinge LPs and
  drops the worst pattern greedily; its weights, evaluated in float32 by
  memcap's own criterion, recall ``lower`` patterns, so the optimum is at
  least that. It is not the optimum: at N=100, DS=300 it misses it by one on
  one of five datasets.
- ``upper``: proven. Every set of bits that no hyperplane realizes (a Farkas
  certificate: λ > 0 with Σ λ_i s_i (x_i, 1) = 0, checked in exact rational
  arithmetic) must contain a wrong bit, so the patterns any W, b loses cover
  all such sets; a covering MILP over the sets found bounds the loss from
  below. Where the MILP's cover is itself realized by weights, lower = upper:
  the optimum.

The oracle thus tells apart "the architecture cannot store this" from
"training did not find it", and says how far training is from the best.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
import torch
from omegaconf import OmegaConf
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from scipy.optimize import linprog

from memcap.patterns.config import ORACLE_ITERATIONS, ORACLE_NODES
from memcap.patterns.metrics import memorized
from memcap.workers import map_in_processes

log = logging.getLogger("memcap")

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


def _margin_matrix(X: sp.csr_matrix, sign: np.ndarray, slacks: bool) -> sp.csc_matrix:
    """The rows -s_i (x_i·w + b) [- ξ_i] <= -1 of the margin LP, over the variables [w, b] or [w, b, ξ]."""
    blocks = [sp.diags(-sign) @ X, sp.csr_matrix(-sign[:, None])]
    if slacks:
        blocks.append(-sp.identity(X.shape[0]))
    return sp.hstack(blocks, format="csc")


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
    res = linprog(cost, A_ub=_margin_matrix(X, sign, hinge), b_ub=-np.ones(M), bounds=bounds, method="highs")
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


def _silent_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing: HiGHS writes its banner to file descriptor 1 as it is
    constructed, before any option can be set (ERGO-Code/HiGHS#1932), so stdout is parked for that moment."""
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

    def _model(self, j: int, enforced: np.ndarray) -> highspy.HighsLp:
        """Variables [w, b, ξ]: -s_i (x_i·w + b) - ξ_i <= -1, cost Σ ξ_i over the enforced bits."""
        DS, n_in = self.X.shape
        A = _margin_matrix(self.X, self.sign[:, j], slacks=True)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_in + 1 + DS, DS
        lp.col_cost_ = np.concatenate([np.zeros(n_in + 1), enforced.astype(float)])
        lp.col_lower_ = np.concatenate([np.full(n_in + 1, -highspy.kHighsInf), np.zeros(DS)])
        lp.col_upper_ = np.full(n_in + 1 + DS, highspy.kHighsInf)
        lp.row_lower_, lp.row_upper_ = np.full(DS, -highspy.kHighsInf), -np.ones(DS)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        return lp

    def solve(self, j: int, enforced: np.ndarray) -> np.ndarray:
        """Neuron j's optimal [w, b] with only the ``enforced`` (DS,) bits' slacks in the cost."""
        highs = self.highs
        highs.passModel(self._model(j, enforced))
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
    W_t, b_t = torch.from_numpy(W).float(), torch.from_numpy(b).float()
    outputs = torch.sigmoid(torch.from_numpy(X).float() @ W_t.T + b_t)
    mask = memorized(outputs, torch.from_numpy(Y).float(), bti)
    return LPResult(memorized=int(mask.sum()), W=W_t, b=b_t, mask=mask)


@dataclass
class TrainedOptimum:
    """A dataset whose trained network recalls all ``DS`` patterns (by the same ``memorized`` criterion):
    the interval is [DS, DS] with the network as the witness. At N=400 the LPs that found the same
    ("trivial") took 335-569 s a dataset (results/report_table1/3)."""

    lower: int
    status: str = "trained"
    seconds: float = 0.0

    @property
    def upper(self) -> int:
        return self.lower


def _entry(run: int, DS: int, found: OracleInterval | TrainedOptimum) -> dict:
    """One dataset's interval as result.json keeps it (``metrics.oracle_datasets`` while the job runs): the
    work done (certification rounds, circuits) beside the seconds it took, which alone vary by machine."""
    return {"run": run, "DS": DS, "lower": found.lower, "upper": found.upper, "status": found.status,
            "iterations": getattr(found, "iterations", 0), "cuts": getattr(found, "cuts", 0),
            "seconds": round(found.seconds, 2)}


def _solve_dataset(cfg, DS: int, run: int, of: int, bti: int, progress: bool) -> dict:
    """One dataset's interval (its LPs: minutes to hours at large N, hence the line when they begin)."""
    from memcap.patterns.engine import member_data

    log.info("oracle: dataset %d/%d: the LPs begin", run + 1, of)
    return _entry(run, DS, oracle_interval(*member_data(cfg, DS, run), bti=bti, iterations=cfg.search.oracle_iterations,
                                           nodes=cfg.search.oracle_nodes, progress=progress))


def _dataset_in_worker(piece: tuple[dict, int, int, int, int]) -> dict:
    """``_solve_dataset`` in a worker process (``search.oracle_workers``), from the job's resolved config."""
    config, DS, run, of, bti = piece
    return _solve_dataset(OmegaConf.create(config), DS, run, of, bti, progress=False)


def oracle_metrics(cfg, DS: int, memorized_runs: list[int], progress: bool = True,
                   recorded: list[dict] = (), on_dataset: Callable[[list[dict]], None] | None = None) -> dict:
    """``search.oracle``: the certified interval on each run's dataset at ``DS``, and trained / each end.

    ``oracle_lower`` (also under its old name ``oracle_memorized``, with
    ``oracle_ratio`` = trained / lower) is achieved by weights the LPs found;
    ``oracle_upper`` is proven (``oracle_interval``); ``oracle_gap`` is their
    difference, 0 where the optimum is known. ``trained / oracle_upper`` is a
    proven lower bound on the fraction of the best possible that training reached.

    At N=500 one dataset's LPs take 30-40 minutes, longer than is left of many a
    sitting or cluster allocation, so each dataset's interval is handed to
    ``on_dataset`` (with those before it: a list of {"run", "DS", "lower",
    "upper", "status", "seconds"}) as soon as it is found, and a resumed job
    passes that list back as ``recorded``: a dataset recorded at this DS is not
    solved again (the job's identity fixes its data, bti and work limits).

    ``search.oracle_workers`` > 1 solves that many datasets at once, each in a
    worker process (``memcap.workers``), with each worker's memory (about
    ``check_oracle_size``'s estimate a dataset). The intervals are the same as
    one at a time: the work is limited by counts (``search.oracle_iterations``,
    ``search.oracle_nodes``), never by the clock.
    """
    from memcap.config import ConfigError
    from memcap.cpu import usable_cores
    from memcap.patterns.config import criterion_bti
    if cfg.model.name != "simple":
        raise ConfigError("search.oracle", f"the LP oracle exists for model=simple only, not {cfg.model.name}")
    bti = criterion_bti(cfg)
    workers, cores, of = cfg.search.oracle_workers, len(usable_cores()), len(memorized_runs)
    if workers > 1 and workers > cores:
        log.warning("search.oracle_workers=%d, but this process may use %d core(s): the datasets will share them, "
                    "each slower (the intervals are the same)", workers, cores)
    log.info("oracle: the certified interval at DS=%d on each of %d datasets (at most %d rounds, %d MILP nodes "
             "each%s)", DS, of, cfg.search.oracle_iterations, cfg.search.oracle_nodes,
             f"; {workers} at once" if workers > 1 else "")
    earlier = {entry["run"]: entry for entry in recorded if entry["DS"] == DS}
    found = dict(earlier)  # run -> its interval, as on_dataset saves them and the metrics below read them

    def say(e: dict, where: str = "") -> None:
        log.info("oracle: dataset %d/%d: %d <= best <= %d (%s), %.0fs%s", e["run"] + 1, of, e["lower"], e["upper"],
                 e["status"], e["seconds"], where)

    def record(entry: dict) -> None:
        found[entry["run"]] = entry
        if on_dataset is not None:
            on_dataset([found[run] for run in sorted(found)])
        say(entry)

    for run in sorted(earlier):
        say(earlier[run], ", recorded by an earlier attempt")
    to_solve = []
    for run, trained in enumerate(memorized_runs):
        if run in earlier:
            continue
        if trained == DS:  # the trained network witnesses the optimum: no LP
            record(_entry(run, DS, TrainedOptimum(DS)))
        else:
            to_solve.append(run)
    if workers > 1 and len(to_solve) > 1:
        data = OmegaConf.to_container(cfg, resolve=True)
        pieces = [(f"dataset {run + 1}", (data, DS, run, of, bti)) for run in to_solve]
        for entry in map_in_processes(_dataset_in_worker, pieces, workers):
            record(entry)
    else:
        for run in to_solve:
            record(_solve_dataset(cfg, DS, run, of, bti, progress))
    entries = [found[run] for run in range(of)]
    lower, upper = [e["lower"] for e in entries], [e["upper"] for e in entries]
    gap = [u - lo for lo, u in zip(lower, upper)]
    ratio_lower = [trained / best for trained, best in zip(memorized_runs, lower)]
    ratio_upper = [trained / best for trained, best in zip(memorized_runs, upper)]
    return {
        "oracle_memorized": float(np.mean(lower)),
        "oracle_memorized_runs": lower,
        "oracle_ratio": float(np.mean(ratio_lower)),
        "oracle_ratio_runs": ratio_lower,
        "oracle_lower": float(np.mean(lower)),
        "oracle_lower_runs": lower,
        "oracle_upper": float(np.mean(upper)),
        "oracle_upper_runs": upper,
        "oracle_gap": float(np.mean(gap)),
        "oracle_gap_runs": gap,
        "oracle_ratio_lower": float(np.mean(ratio_lower)),
        "oracle_ratio_upper": float(np.mean(ratio_upper)),
        "oracle_ratio_upper_runs": ratio_upper,
        "oracle_status_runs": [e["status"] for e in entries],
        "oracle_seconds_runs": [e["seconds"] for e in entries],
    }


# ---------------------------------------------------------------------------
# The certified interval: a proven upper bound beside the heuristic lower one.
# ---------------------------------------------------------------------------

# Support threshold on a Farkas multiplier vector normalized to sum 1.
_SUPPORT_TOL = 1e-10
# Refuse a problem whose dense LP/MILP data would need more than this many bytes.
MAX_ORACLE_BYTES = 4 * 2**30


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


def check_oracle_size(DS: int, n_in: int, n_out: int, max_bytes: int = MAX_ORACLE_BYTES) -> None:
    """Refuse (ValueError, one line) a dataset whose oracle LPs/MILP would not fit in ``max_bytes``.

    The dense pieces are the signed data (DS, n_in + 1) per neuron's Farkas LP,
    the (DS, n_out) label and bit-variable arrays, and the sparse covering rows
    (at most DS per cut, a few cuts per neuron and round); 8 bytes each, with
    a factor 4 for HiGHS's own copies.
    """
    need = 8 * 4 * DS * (n_in + 2 + 4 * n_out)
    if need > max_bytes:
        raise ValueError(f"oracle: DS={DS}, N_in={n_in}, N_out={n_out} needs about {need / 2**30:.1f} GiB "
                         f"for its LPs and MILP, more than the {max_bytes / 2**30:.1f} GiB allowed")


def _exact_rows(X: np.ndarray) -> list[list]:
    """X with its bias column as exact Python numbers: ints when X is integral, else Fractions of the floats."""
    from fractions import Fraction
    if np.all(X == np.round(X)) and np.abs(X).max(initial=0) < 2**52:
        return [[int(v) for v in row] + [1] for row in X]
    return [[Fraction(float(v)) for v in row] + [1] for row in X]


# A prime below 2^25: products of two residues stay below 2^50, exact in int64.
_PRIME = 33554393


def _left_inverse_mod(A: np.ndarray, p: int) -> np.ndarray | None:
    """E (n, m) with E A ≡ I mod p for an integer A (m, n) of rank n mod p (Gauss-Jordan in int64), else None."""
    m, n = A.shape
    M = np.hstack([A % p, np.eye(m, dtype=np.int64)])
    for c in range(n):
        nz = np.flatnonzero(M[c:, c]) + c
        if not len(nz):
            return None
        r = nz[0]
        if r != c:
            M[[c, r]] = M[[r, c]]
        M[c] = M[c] * pow(int(M[c, c]), -1, p) % p
        col = M[:, c].copy()
        col[c] = 0
        rows = np.flatnonzero(col)
        M[rows] = (M[rows] - np.outer(col[rows], M[c])) % p
    return M[:n, n:]


def _rational(a: int, m: int) -> tuple[int, int] | None:
    """n/d ≡ a mod m with |n|, d <= sqrt(m/2) (Wang's rational reconstruction), or None."""
    bound = math.isqrt(m // 2)
    r0, r1, t0, t1 = m, a % m, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, t0, t1 = r1, r0 - q * r1, t1, t0 - q * t1
    if t1 == 0 or abs(t1) > bound:
        return None
    return (r1, t1) if t1 > 0 else (-r1, -t1)


def _integer_kernel_vector(A: np.ndarray, lam: np.ndarray) -> list[int] | None:
    """An integer vector v with A v = 0, v proportional to the float kernel vector ``lam``, or None.

    A (m, k) integer of rank k − 1 (a circuit). With f the column of largest
    λ, solves A[:, −f] u = −A[:, f] over the rationals by Dixon's p-adic
    lifting (one left inverse mod p, then matrix-vector products) and
    rational reconstruction. No BLAS: multithreaded OpenBLAS on a loaded
    2-core machine made a 200 x 200 QR take 0.3 s. Nothing here needs to be
    trusted: the caller checks A v = 0 in exact integers.
    """
    m, k = A.shape
    f = int(np.argmax(lam))
    B = np.delete(A, f, axis=1).astype(np.int64)
    c = -A[:, f].astype(np.int64)
    p = _PRIME
    E = _left_inverse_mod(B, p)
    if E is None:
        return None
    # Hadamard: a (k−1)-minor of B is at most H = Π of its k−1 largest row norms, and u = adj c / det
    # has numerators at most H |c|_1 and denominator at most H; Wang needs p^L > 2 max(|n|, d)^2.
    norms = np.sort(np.maximum(np.sqrt((B.astype(float) ** 2).sum(1)), 1.0))[::-1][: k - 1]
    log2_num = float(np.log2(norms).sum()) + float(np.log2(max(np.abs(c).sum(), 1)))
    steps = int(np.ceil((2 * log2_num + 4) / np.log2(p))) + 1
    residual, digits = c.copy(), []
    for _ in range(steps):
        x = (E @ (residual % p)) % p  # each term < 2^50, at most m of them: exact in int64 for m < 2^13
        digits.append(x)
        step = residual - B @ x
        if (step % p).any():
            return None
        residual = step // p
    modulus = p ** steps
    U = [0] * (k - 1)
    for d in reversed(digits):
        U = [u * p + int(x) for u, x in zip(U, d)]
    half, bound = modulus // 2, math.isqrt(modulus // 2)
    den, nums = 1, []
    for u in U:
        t = (u * den) % modulus
        t = t - modulus if t > half else t
        if abs(t) > bound:
            frac = _rational(t, modulus)
            if frac is None:
                return None
            den *= frac[1]
            nums = [n * frac[1] for n in nums]
            t = frac[0]
        nums.append(t)
    return nums[:f] + [den] + nums[f:]


def _verified_circuit(exact_rows: list[list], sign: np.ndarray, support: np.ndarray, lam: np.ndarray) -> bool:
    """Exactly: is there λ > 0 on ``support`` with Σ λ_i s_i (x_i, 1) = 0?

    Then no w, b gets all these bits right by memcap's criterion: a target-1
    bit needs s a >= 0, a target-0 bit s a > 0, and Σ λ_i s_i a_i = 0 allows
    neither unless every term is 0, which a target-0 bit forbids (and the bias
    coordinate, Σ λ_i s_i = 0, says there is one). For integer X an integer λ
    is found by p-adic lifting (``_integer_kernel_vector``) and checked in
    exact integers; otherwise, or when that fails, the null space is computed
    over QQ (sympy's DomainMatrix): it must be one line spanned by a vector of
    one strict sign. ``lam``: the float multipliers on ``support``.
    """
    cols = [[v * int(sign[i]) for v in exact_rows[i]] for i in support]
    if all(isinstance(v, int) for v in cols[0]):
        A = np.array(cols, dtype=np.int64).T  # (n + 1, k)
        v = _integer_kernel_vector(A, lam)
        if v is not None and (all(x > 0 for x in v) or all(x < 0 for x in v)):
            if not (A.astype(object) @ np.array(v, dtype=object)).any():
                return True
    from sympy import QQ
    from sympy.polys.matrices import DomainMatrix

    def q(v):
        return QQ(v) if isinstance(v, int) else QQ(v.numerator, v.denominator)

    n = len(cols[0])
    M = DomainMatrix([[q(cols[c][r]) for c in range(len(cols))] for r in range(n)], (n, len(cols)), QQ)
    null = M.nullspace()
    if null.shape[0] != 1:
        return False
    v = null.to_list()[0]
    return all(x > 0 for x in v) or all(x < 0 for x in v)


def _farkas_support(A: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows of A (k, n+1) = s_i (x_i, 1) with some λ >= 0, Σλ = 1, λ A = 0: their indices and λ there, or None when separable.

    A basic (vertex) solution of the dual simplex, so the support's columns
    are linearly independent bar one relation: a minimal infeasible subsystem.
    Raises RuntimeError when HiGHS answers neither way.
    """
    k = len(A)
    problem = dict(A_eq=np.vstack([A.T, np.ones((1, k))]), b_eq=np.r_[np.zeros(A.shape[1]), 1.0], bounds=(0, None))
    # HiGHS's presolve answers "unknown" on some of these at N=200 (and is slower): the dual simplex
    # without it first, the interior point method (with crossover: a vertex) if that fails too.
    for method, options in (("highs-ds", {"presolve": False}), ("highs-ipm", {})):
        res = linprog(np.zeros(k), **problem, method=method, options=options)
        if res.status in (0, 2):
            break
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"linprog failed on a Farkas LP: {res.message}")
    lam = res.x
    support = np.flatnonzero(lam > _SUPPORT_TOL * lam.max())
    return support, lam[support]


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
    if res.status not in (0, 1):
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
        W_t, b_t = torch.from_numpy(W).float(), torch.from_numpy(b).float()
        mask = memorized(torch.sigmoid(torch.from_numpy(X).float() @ W_t.T + b_t), torch.from_numpy(Y).float(), bti)
        if int(mask.sum()) > best[0]:
            best = (int(mask.sum()), W_t, b_t, mask)
        if best[0] < upper:
            status = "unresolved"  # float32 rounding lost a pattern: the optimum is not shown achieved
    if best[0] >= upper:
        status = "optimal"
    return result(upper, status, len(cuts), done)
