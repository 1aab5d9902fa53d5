"""The capacity of the one-layer network decided by linear programs (``search.decide=solver``), not by training.

A pattern is recalled when every output neuron's pre-activation has the target's sign, so for
``model=simple`` whether a dataset can be stored is a question about the network, with an answer that
does not depend on an optimizer (memcap.patterns.oracle):

- **perfect recall**, exact recall (bce's criterion): one LP feasibility problem per output neuron; the
  dataset is storable exactly when every neuron's labels are linearly separable. The point records the
  neurons that are not. Under the bits-to-ignore tolerance (bce_ignore) the neurons are coupled through
  each pattern's budget of wrong bits: storable when weights that err only within it are found and checked
  (the separators, and the fewest wrong bits the other neurons can place where budget is left:
  ``memcap.patterns.oracle.tolerance``); where they are not, the oracle's certified interval, where asked,
  can still prove it not storable (its upper end below DS); undecided otherwise.
- **capacity** (the most patterns some run recalls, against ``search.threshold`` x DS): the oracle's
  interval; a DS passes when its best lower end (achieved) exceeds the threshold, fails for certain when
  every upper end (proven) is at most the threshold, and is undecided in between.

A point's ``memorized`` is the lower end (what weights achieve: the predicates use it, so every pass is
proven), ``upper`` the proven upper end, ``decided`` whether the two agree on the predicate.

Perfect recall is not monotone in DS (each DS draws new datasets), so the answer depends on where a
bisection looks. The solver's points cost seconds, so it scans the grid instead: perfect recall from the
grid's first point (``search.resolution``) up in steps of ``search.resolution`` until
``search.solver_patience`` grid points in a row have no passing run; the capacity from there up in steps
of ``search.step``, likewise (``search.solver_capacity``; without it the perfect-recall DS stands for
both). The answer is the largest passing DS of each scan: a function of the config
alone (``search.prior`` does not move it). A DS passes as soon as one run passes, so the runs after it are
not decided there, and a run fails as soon as one neuron is proven not separable; at each answer DS every
run is then decided in full (``complete``: every neuron, and the patterns weights realize), which the
report's statistics need. Every point is saved as it is decided, so a killed job resumes where it was.
"""

from __future__ import annotations

import logging
import time

from memcap.patterns.config import criterion_bti, search_ceiling
from memcap.patterns.engine import member_data
from memcap.patterns.models import build
from memcap.patterns.oracle import lp_memorized, oracle_interval, perfect_recall, recalled_by, tolerant_witness
from memcap.patterns.report import capacity_metrics, most_stored

log = logging.getLogger("memcap")


def perfect_point(cfg, DS: int, run: int, bti: int, complete: bool = False) -> dict:
    """Whether run ``run``'s dataset of DS patterns can be stored whole, as a point: ``stored`` (None where
    the bits-to-ignore interval leaves it open), ``unseparable`` (the neurons proven not separable; only the
    first unless ``complete`` or under the tolerance), ``memorized`` the patterns realized weights recall
    (with ``complete``, under the tolerance, or when stored; else None: not counted)."""
    X, Y = member_data(cfg, DS, run)
    start = time.perf_counter()
    # Under the tolerance every neuron is decided: the witness keeps the separators of all the separable ones.
    found = perfect_recall(X, Y, first_failure=not complete and bti == 0, workers=cfg.search.solver_workers)
    extra = {"unseparable": found.failing, "neurons_checked": found.checked, "proofs": found.by,
             "complete": complete or found.ok}
    if found.ok:
        lower, upper = DS, DS
    elif bti == 0:
        lower = recalled_by(found, X, Y, bti) if complete else None
        upper = DS - 1
    else:  # weights that err only within the tolerance prove it; else the oracle's interval, where asked
        witness = tolerant_witness(found, X, Y, bti)
        lower, upper, status = witness.memorized, DS, "witness"
        if lower < DS and cfg.search.oracle_iterations > 0:
            heuristic = lp_memorized(X, Y, bti=bti, progress=False)
            interval = oracle_interval(X, Y, bti=bti, iterations=cfg.search.oracle_iterations,
                                       nodes=cfg.search.oracle_nodes,
                                       lower=max(witness, heuristic, key=lambda weights: weights.memorized))
            lower, upper, status = interval.lower, interval.upper, interval.status
        extra.update(complete=True, interval_status=status)
    stored = True if lower == DS else False if upper < DS else None
    return _point(DS, run, lower, time.perf_counter() - start,
                  {"stored": stored, "upper": upper, "decided": stored is not None, **extra})


def capacity_point(cfg, DS: int, run: int, bti: int, complete: bool = False) -> dict:
    """The interval on the most patterns run ``run``'s dataset of DS patterns allows, as a point: the greedy
    heuristic's count first (weights that recall it); the certified upper end only where that count does not
    pass ``search.threshold`` x DS (``search.oracle_iterations`` > 0). ``decided``: whether the interval
    settles the threshold either way. (``complete`` is the same point: a capacity point always is.)"""
    X, Y = member_data(cfg, DS, run)
    start = time.perf_counter()
    bar = cfg.search.threshold * DS
    lower = lp_memorized(X, Y, bti=bti, progress=False)
    if lower.memorized > bar or cfg.search.oracle_iterations == 0:
        low, upper, status = lower.memorized, DS, "heuristic"
    else:
        interval = oracle_interval(X, Y, bti=bti, iterations=cfg.search.oracle_iterations,
                                   nodes=cfg.search.oracle_nodes, lower=lower)
        low, upper, status = interval.lower, interval.upper, interval.status
    return _point(DS, run, low, time.perf_counter() - start,
                  {"upper": upper, "decided": low > bar or upper <= bar, "interval_status": status,
                   "complete": True})


def _point(DS: int, run: int, lower: int | None, seconds: float, extra: dict) -> dict:
    return {"DS": DS, "run": run, "memorized": None if lower is None else int(lower), "loss": 0.0, "steps": 0,
            "seconds": round(seconds, 3), "members": 1, "stop": "solver", **extra}


class Scan:
    """The solver's scans over one job's grid, its points kept in ``points`` (saved with the job as decided)."""

    def __init__(self, job, points: list[dict]):
        self.job, self.cfg, self.points = job, job.cfg, points
        self.bti = criterion_bti(job.cfg)

    def passes(self, phase: str, point: dict) -> bool:
        if phase == "perfect recall":
            return point["stored"] is True
        return point["memorized"] > self.cfg.search.threshold * point["DS"]

    def decide(self, DS: int, run: int, phase: str, complete: bool) -> dict:
        """The point (DS, run) of ``phase``, as recorded, or decided now and saved (a resumed job goes on)."""
        for i, p in enumerate(self.points):
            if (p["DS"], p["run"], p.get("phase")) == (DS, run, phase):
                if p["complete"] or not complete:
                    return p
                del self.points[i]  # decided only as far as the scan needed; now in full
                break
        solve = perfect_point if phase == "perfect recall" else capacity_point
        point = {**solve(self.cfg, DS, run, self.bti, complete=complete), "phase": phase}
        self.points.append(point)
        self.job.save()
        return point

    def at(self, DS: int, phase: str, complete: bool = False) -> list[dict]:
        """DS's points: runs in turn until one passes (every run with ``complete``)."""
        decided = []
        for r in range(self.cfg.runs):
            decided.append(self.decide(DS, r, phase, complete))
            if self.passes(phase, decided[-1]) and not complete:
                break
        beside = self.points is not self.job.result["points"]  # a trained job's check: one line a DS in debug
        log.log(logging.DEBUG if beside else logging.INFO, "%s%s at DS=%d: %s", "solver: " if beside else "", phase,
                DS, "; ".join(_describe(p, phase) for p in decided))
        return decided

    def scan(self, first: int, stride: int, phase: str) -> tuple[int | None, bool, list[int]]:
        """The largest passing DS from ``first`` up by ``stride`` until ``search.solver_patience`` fail in a row;
        capped?; the DS of the scan left open (no run passed, and some run's interval settles nothing)."""
        self.job.set_phase(phase if self.points is self.job.result["points"] else f"solver: {phase}")
        best, misses, DS, open_ = None, 0, first, []
        while DS <= search_ceiling(self.cfg) and misses < self.cfg.search.solver_patience:
            points = self.at(DS, phase)
            if any(self.passes(phase, p) for p in points):
                best, misses = DS, 0
            else:
                misses += 1
                if not all(p["decided"] for p in points):
                    open_.append(DS)
            DS += stride
        return best, best is not None and misses == 0 and DS > search_ceiling(self.cfg), open_


def run(job) -> str:
    """The job's work under ``search.decide=solver``: the two scans; fills the metrics, returns the summary line."""
    cfg, search = job.cfg, job.cfg.search
    grid = Scan(job, job.result["points"])
    perfect_ds, capped, open_perfect = grid.scan(search.resolution, search.resolution, "perfect recall")
    above, capped_above, open_capacity = (grid.scan((perfect_ds or 0) + search.step, search.step, "capacity")
                                          if search.solver_capacity else (None, False, []))
    capacity_ds = above if above is not None else perfect_ds
    phase = "capacity" if above is not None else "perfect recall"
    job.set_phase("the answer's runs in full")
    answer = grid.at(capacity_ds, phase, complete=True) if capacity_ds is not None else []
    if phase == "capacity" and perfect_ds is not None:
        grid.at(perfect_ds, "perfect recall", complete=True)
    runs = [p["memorized"] for p in sorted(answer, key=lambda p: p["run"])]
    params = build(cfg).num_parameters()
    job.result["metrics"] = {
        **capacity_metrics(cfg.N, cfg.s, params, capacity_ds, perfect_ds, runs, bti=grid.bti),
        **most_stored(job.result["points"]),
        "capped": capped or capped_above, "diverged": 0, "converged": True, "capped_points": 0,
        "decided_by": "solver", "solver_upper_runs": [p["upper"] for p in answer],
        "solver_open_ds": {"perfect recall": open_perfect, "capacity": open_capacity},
        "solver_undecided_points": sum(not p["decided"] for p in job.result["points"]),
        "solver_seconds": round(sum(p["seconds"] for p in job.result["points"]), 2),
    }
    return summary_line(job.result)


def check(job) -> dict:
    """A trained search's answer measured against the truth: the solver's perfect-recall scan on the same
    config (same seed, so the same datasets at every DS), its points kept apart in ``solver_points``; the
    metrics to add (``solver_perfect_ds``, and the trained perfect and capacity DS as fractions of it; its time
    is the clock's, so it stays in the points and the log, out of the metrics that a rerun must reproduce)."""
    grid = Scan(job, job.result.setdefault("solver_points", []))
    search, m = job.cfg.search, job.result["metrics"]
    exact, _, open_ = grid.scan(search.resolution, search.resolution, "perfect recall")
    seconds = round(sum(p["seconds"] for p in grid.points), 2)
    log.info("solver: perfect recall decided exactly at DS=%s%s (training: %s); %.0f s of solving", exact,
             " (a lower bound: DS left open)" if open_ else "", m["perfect_ds"], seconds)
    ratio = (lambda ds: round(ds / exact, 4) if ds is not None and exact else None)
    return {"solver_perfect_ds": exact, "solver_open_ds": {"perfect recall": open_},
            "perfect_vs_solver": ratio(m["perfect_ds"]), "capacity_vs_solver_perfect": ratio(m["capacity_ds"])}


def _describe(point: dict, phase: str) -> str:
    run = f"run {point['run']}"
    if phase == "capacity":
        return f"{run} [{point['memorized']}, {point['upper']}]"
    if point["stored"]:
        return f"{run} stores all"
    if point["stored"] is None:
        return f"{run} open [{point['memorized']}, {point['upper']}]"
    count = f", {point['memorized']} realized" if point["memorized"] is not None else ""
    return f"{run} not (neuron{'s' if len(point['unseparable']) > 1 else ''} " \
           f"{', '.join(map(str, point['unseparable']))} not separable{count})"


def summary_line(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    if m["capacity_ds"] is None:
        found = "no DS storable above the threshold"
    else:
        perfect = f"perfect recall at DS={m['perfect_ds']}" if m["perfect_ds"] is not None else "no DS storable whole"
        found = (f"capacity DS={m['capacity_ds']}{' (capped: at least)' if m['capped'] else ''}: best run "
                 f"{m['memorized_max']} achieved, <= {max(m['solver_upper_runs'])} proven; {perfect}")
    undecided = f", {m['solver_undecided_points']} points undecided" if m["solver_undecided_points"] else ""
    left_open = [f"{phase} at DS={', '.join(map(str, ds))}" for phase, ds in m["solver_open_ds"].items() if ds]
    if left_open:  # the scan might have gone on past an open DS: its answer there is a lower bound
        undecided += f" (open: {'; '.join(left_open)}: the answer is at least the DS shown)"
    criterion = "bits-to-ignore recall" if c["loss"] == "bce_ignore" else "exact recall"
    return (f"memcap simple N={c['N']} s={c['s']} runs={c['runs']} seed={c['seed']}, {criterion} decided by LPs: "
            f"{found}{undecided}; {m['solver_seconds']:.0f} s of solving")
