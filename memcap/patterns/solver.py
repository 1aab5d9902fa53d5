"""The capacity of the one-layer network decided by linear programs (``search.decide=solver``), not by training.

A pattern is recalled when every output neuron's pre-activation has the target's sign, so for
``model=simple`` whether a dataset can be stored is a question about the network, with an answer that
does not depend on an optimizer (memcap.patterns.oracle):

- **perfect recall**, exact recall (bce's criterion): one LP feasibility problem per output neuron; the
  dataset is storable exactly when every neuron's labels are linearly separable. The point records the
  neurons that are not. Under the bits-to-ignore tolerance (bce_ignore) the neurons are coupled, and the
  oracle's certified interval decides: storable when its lower end (weights found and checked) is DS,
  not storable when its upper end (proven) is below DS, undecided otherwise.
- **capacity** (the most patterns some run recalls, against ``search.threshold`` x DS): the oracle's
  interval; a DS passes when its best lower end (achieved) exceeds the threshold, fails for certain when
  every upper end (proven) is at most the threshold, and is undecided in between.

A point's ``memorized`` is the lower end (what weights achieve: the predicates use it, so every pass is
proven), ``upper`` the proven upper end, ``decided`` whether the two agree on the predicate.

Perfect recall is not monotone in DS (each DS draws new datasets), so the answer depends on where a
bisection looks. The solver's points cost seconds, so it scans the grid instead: perfect recall from the
first grid DS (``search.prior`` x N, or ``search.resolution``) up in steps of ``search.resolution`` until
``search.solver_patience`` grid points in a row have no storable run; the capacity from there up in steps
of ``search.step``, likewise. The answer is the largest passing DS of each scan: a function of the config
alone. Every point is saved as it is decided, so a killed job resumes where it was.
"""

from __future__ import annotations

import logging
import time

from memcap.patterns.config import criterion_bti, search_ceiling, search_start
from memcap.patterns.engine import member_data
from memcap.patterns.models import build
from memcap.patterns.oracle import lp_memorized, oracle_interval, perfect_recall
from memcap.patterns.report import capacity_metrics

log = logging.getLogger("memcap")


def perfect_point(cfg, DS: int, run: int, bti: int) -> dict:
    """Whether run ``run``'s dataset of DS patterns can be stored whole, as a point."""
    X, Y = member_data(cfg, DS, run)
    start = time.perf_counter()
    if bti == 0:
        found = perfect_recall(X, Y)
        lower = DS if found.ok else lp_memorized(X, Y, progress=False, greedy=False).memorized
        extra = {"upper": DS if found.ok else DS - 1, "decided": True, "unseparable": found.failing}
    else:
        interval = oracle_interval(X, Y, bti=bti, iterations=cfg.search.oracle_iterations,
                                   nodes=cfg.search.oracle_nodes)
        lower = interval.lower
        extra = {"upper": interval.upper, "decided": interval.lower == DS or interval.upper < DS,
                 "interval_status": interval.status}
    return _point(DS, run, lower, time.perf_counter() - start, extra)


def capacity_point(cfg, DS: int, run: int, bti: int) -> dict:
    """The certified interval on the most patterns run ``run``'s dataset of DS patterns allows, as a point;
    ``decided``: whether it settles ``search.threshold`` x DS either way."""
    X, Y = member_data(cfg, DS, run)
    start = time.perf_counter()
    interval = oracle_interval(X, Y, bti=bti, iterations=cfg.search.oracle_iterations, nodes=cfg.search.oracle_nodes)
    bar = cfg.search.threshold * DS
    return _point(DS, run, interval.lower, time.perf_counter() - start,
                  {"upper": interval.upper, "decided": interval.lower > bar or interval.upper <= bar,
                   "interval_status": interval.status})


def _point(DS: int, run: int, lower: int, seconds: float, extra: dict) -> dict:
    return {"DS": DS, "run": run, "memorized": int(lower), "loss": 0.0, "steps": 0, "seconds": round(seconds, 3),
            "members": 1, "stop": "solver", **extra}


def run(job) -> str:
    """The job's work under ``search.decide=solver``: the two scans; fills the metrics, returns the summary line."""
    cfg = job.cfg
    search, bti = cfg.search, criterion_bti(cfg)
    ceiling, patience = search_ceiling(cfg), search.solver_patience

    def points_at(DS: int, phase: str) -> list[dict]:
        known = {(p["DS"], p["run"]) for p in job.result["points"] if p.get("phase") == phase}
        solve = perfect_point if phase == "perfect recall" else capacity_point
        for r in range(cfg.runs):
            if (DS, r) not in known:
                job.result["points"].append({**solve(cfg, DS, r, bti), "phase": phase})
                job.save()  # each point as it is decided: a resumed job starts from the next
        points = [p for p in job.result["points"] if p["DS"] == DS and p.get("phase") == phase]
        job.log_round({DS: [p["memorized"] for p in sorted(points, key=lambda p: p["run"])]})
        return points

    def scan(first: int, stride: int, phase: str, passes) -> tuple[int | None, bool]:
        """The largest passing DS from ``first`` up by ``stride`` until ``patience`` fail in a row; capped?"""
        job.set_phase(phase)
        best, misses, DS = None, 0, first
        while DS <= ceiling and misses < patience:
            if passes(DS, points_at(DS, phase)):
                best, misses = DS, 0
            else:
                misses += 1
            DS += stride
        return best, best is not None and misses == 0 and DS > ceiling

    perfect_ds, capped = scan(search_start(cfg) or search.resolution, search.resolution, "perfect recall",
                              lambda DS, pts: max(p["memorized"] for p in pts) == DS)
    base = perfect_ds or 0
    above, capped_above = scan(base + search.step, search.step, "capacity",
                               lambda DS, pts: max(p["memorized"] for p in pts) > search.threshold * DS)
    capacity_ds = above if above is not None else perfect_ds
    phase = "capacity" if above is not None else "perfect recall"
    at = sorted((p for p in job.result["points"] if p["DS"] == capacity_ds and p.get("phase") == phase),
                key=lambda p: p["run"])
    runs = [p["memorized"] for p in at]
    params = build(cfg).num_parameters()
    undecided = [p for p in job.result["points"] if p.get("decided") is False]
    job.result["metrics"] = {
        **capacity_metrics(cfg.N, cfg.s, params, capacity_ds, perfect_ds, runs, bti=bti),
        "capped": capped or capped_above, "diverged": 0, "converged": True, "capped_points": 0,
        "decided_by": "solver", "solver_upper_runs": [p["upper"] for p in at],
        "solver_undecided_points": len(undecided),
        "solver_seconds": round(sum(p["seconds"] for p in job.result["points"]), 2),
    }
    return summary_line(job.result)


def summary_line(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    if m["capacity_ds"] is None:
        found = "no DS storable above the threshold"
    else:
        perfect = f"perfect recall up to DS={m['perfect_ds']}" if m["perfect_ds"] is not None else "no DS storable whole"
        found = (f"capacity DS={m['capacity_ds']}{' (capped: at least)' if m['capped'] else ''}: best run "
                 f"{m['memorized_max']} achieved, <= {max(m['solver_upper_runs'])} proven; {perfect}")
    undecided = f", {m['solver_undecided_points']} points undecided" if m["solver_undecided_points"] else ""
    criterion = "bits-to-ignore recall" if c["loss"] == "bce_ignore" else "exact recall"
    return (f"memcap simple N={c['N']} s={c['s']} runs={c['runs']} seed={c['seed']}, {criterion} decided by LPs: "
            f"{found}{undecided}; {m['solver_seconds']:.0f} s of solving")
