"""Parts 6 and 7: the LP oracle's speed-ups, each against what it replaced, on the same problems.

6. ``--oracle-lp``: the LP oracle's greedy heuristic re-solves a neuron's hinge LP each time a pattern
   leaves it. On Table 1's largest problem (N=500, DS=2130, random patterns, seed 0), for the ``--repeats``
   neurons with the most slack: drop the worst bit, re-solve warm (``_WarmHingeLPs``, from the last basis)
   and cold (``_margin_lp``, the smaller LP from scratch), 4 drops each: seconds of each (medians), their
   ratio, and whether the optima agree. Writes <out>/oracle_lp/oracle_lp.{json,md}.

7. ``--oracle-workers``: the LP oracle's datasets one at a time and two at a time
   (``search.oracle_workers``), back to back on the same ``--repeats`` datasets (N=200, DS=700, training's
   counts taken as 0 so that every dataset needs its LPs; ``search.oracle_iterations=0``, so each interval
   is the greedy heuristic's and the two runs must agree exactly): wall seconds of each, their ratio, and
   whether the intervals agree. Writes <out>/oracle_workers/oracle_workers.{json,md}.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp

from memcap.bench.common import publish, run_header, table_head
from memcap.configs import compose
from memcap.patterns.data import make_patterns
from memcap.patterns.oracle import oracle_metrics
from memcap.patterns.oracle.lp import _margin_lp, _WarmHingeLPs


def oracle_lp_benchmark(repeats: int, out: Path, N: int = 500, DS: int = 2130, drops: int = 4) -> None:
    """Part 6: warm against cold re-solves of the greedy heuristic's hinge LPs, on the same sequence of LPs."""
    out.mkdir(parents=True, exist_ok=True)
    X, Y = make_patterns(N, DS, 0.1, 0)
    Xs, sign = sp.csr_matrix(X.numpy().astype(float)), 2.0 * Y.numpy() - 1
    first = {j: _margin_lp(Xs, sign[:, j], hinge=True).fun for j in range(3 * repeats)}  # candidates: most slack
    lps, rows = _WarmHingeLPs(Xs, sign), []
    for j in sorted(first, key=first.get, reverse=True)[:repeats]:
        enforced = np.ones(DS, dtype=bool)
        x = lps.solve(j, enforced)
        for drop in range(1, drops + 1):
            margin = sign[:, j] * (Xs @ x[:N] + x[N])
            enforced[np.argmax(np.where(enforced, 1 - margin, -np.inf))] = False  # the worst bit leaves
            start = time.perf_counter()
            x = lps.solve(j, enforced)
            warm = time.perf_counter() - start
            kept = np.flatnonzero(enforced)
            start = time.perf_counter()
            cold = _margin_lp(Xs[kept], sign[kept, j], hinge=True)
            cold_s = time.perf_counter() - start
            margin = sign[:, j] * (Xs @ x[:N] + x[N])
            objective = float(np.maximum(1 - margin, 0)[enforced].sum())
            rows.append({"neuron": j, "drop": drop, "warm_s": round(warm, 4), "cold_s": round(cold_s, 4),
                         "objective": round(objective, 4), "same_optimum": bool(np.isclose(objective, cold.fun,
                                                                                             rtol=1e-6, atol=1e-6)),
                         "load": round(os.getloadavg()[0], 2)})
            print(json.dumps(rows[-1]), flush=True)
    warm_s, cold_s = statistics.median(r["warm_s"] for r in rows), statistics.median(r["cold_s"] for r in rows)
    header = run_header(f"python scripts/bench.py --oracle-lp --repeats {repeats}", f"scipy {scipy.__version__}")
    lines = [header + f" N={N}, DS={DS} (random patterns, seed 0): the {repeats} neurons with the most hinge "
             f"slack among the first {3 * repeats}, {drops} drops each; load is the 1-minute load average after "
             "each pair.", "", *table_head("neuron", "drop", "warm s", "cold s", "objective", "same optimum", "load")]
    lines += [f"| {r['neuron']} | {r['drop']} | {r['warm_s']} | {r['cold_s']} | {r['objective']} | "
              f"{'yes' if r['same_optimum'] else 'NO'} | {r['load']} |" for r in rows]
    lines += ["", f"Medians: warm {warm_s:.3f} s, cold {cold_s:.3f} s, {cold_s / warm_s:.1f}× faster warm."]
    publish(out / "oracle_lp", {"median_warm_s": warm_s, "median_cold_s": cold_s, "rows": rows}, lines)


def oracle_workers_benchmark(datasets: int, out: Path, N: int = 200, DS: int = 700) -> None:
    """Part 7: ``oracle_metrics`` with one worker and with two, on the same datasets, back to back."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for workers in (1, 2):
        cfg = compose("logger=none", f"N={N}", f"DS={DS}", f"runs={datasets}", "search.oracle=true",
                      "search.oracle_iterations=0", f"search.oracle_workers={workers}")
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        metrics = oracle_metrics(cfg, DS, [0] * datasets, progress=False)
        rows.append({"workers": workers, "wall_s": round(time.perf_counter() - start, 1),
                     "lower": metrics["oracle_lower_runs"], "upper": metrics["oracle_upper_runs"],
                     "seconds": metrics["oracle_seconds_runs"],
                     "load": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"})
        print(json.dumps(rows[-1]), flush=True)
    one, two = rows
    same = one["lower"] == two["lower"] and one["upper"] == two["upper"]
    header = run_header(f"python scripts/bench.py --oracle-workers --repeats {datasets}",
                        f"scipy {scipy.__version__}")
    lines = [header + f" N={N}, DS={DS}, {datasets} datasets (seed 0, runs 0-{datasets - 1}), search.oracle_iterations=0 (the "
             "greedy heuristic's interval); load is the 1-minute load average before and after.", "",
             *table_head("workers", "wall s", "lower per dataset", "upper per dataset", "seconds per dataset",
                         "load")]
    lines += [f"| {r['workers']} | {r['wall_s']} | {r['lower']} | {r['upper']} | {r['seconds']} | {r['load']} |"
              for r in rows]
    lines += ["", f"Two workers {one['wall_s'] / two['wall_s']:.2f}× faster than one; "
              f"the same intervals: {'yes' if same else 'NO'}."]
    publish(out / "oracle_workers", {"same_intervals": same, "rows": rows}, lines)
