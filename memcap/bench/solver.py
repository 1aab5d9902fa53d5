"""Parts 8 and 11: the solver's perfect-recall question (is each neuron's labelling separable?), its LPs and
its threads.

8. ``--solver``: each neuron's separability decided by scipy's ``linprog`` (one LP built per neuron, as
   before ``DatasetLPs``) and by ``DatasetLPs`` (one HiGHS model per dataset, cheapest proof first), back to
   back on the first ``--repeats`` neurons of a dataset near Table 1's perfect-recall DS at N = 100, 200,
   300, 500: median seconds per neuron, their ratio, which proof decided, and whether the verdicts agree.
   Writes <out>/solver/solver.{json,md}.

11. ``--solver-workers``: every neuron of the same ``--repeats`` datasets (N=200, DS=640, near Table 1's
   exact perfect-recall DS) decided by one thread and by two (``search.solver_workers``), back to back: wall
   seconds of each, their ratio, and whether the verdicts and proofs agree. Writes
   <out>/solver_workers/solver_workers.{json,md}.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp

from memcap.bench.common import publish, run_header, table_head
from memcap.configs import compose
from memcap.patterns.data import make_patterns
from memcap.patterns.engine import member_data
from memcap.patterns.oracle import perfect_recall
from memcap.patterns.oracle.lp import _margin_lp
from memcap.patterns.oracle.separability import DatasetLPs


def solver_benchmark(neurons: int, out: Path, sizes=((100, 320), (200, 630), (300, 970), (500, 1670))) -> None:
    """Part 8: one neuron's separability decided the old way (scipy's linprog, one LP built per neuron) and by
    ``DatasetLPs`` (one model per dataset, cheapest proof first), on the same neurons, back to back."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for N, DS in sizes:
        X, Y = make_patterns(N, DS, 0.1, 0)
        Xn, on = X.numpy().astype(float), Y.numpy() > 0.5
        Xs, lps = sp.csr_matrix(Xn), DatasetLPs(Xn)
        old_s, new_s, proofs, same = [], [], {}, True
        for j in range(neurons):
            start = time.perf_counter()
            old = _margin_lp(Xs, np.where(on[:, j], 1.0, -1.0), hinge=False).status == 0
            old_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            new, _, step = lps.decide(on[:, j])
            new_s.append(time.perf_counter() - start)
            proofs[step] = proofs.get(step, 0) + 1
            same &= old == new
        rows.append({"N": N, "DS": DS, "neurons": neurons, "linprog_s": round(statistics.median(old_s), 4),
                     "dataset_lps_s": round(statistics.median(new_s), 4), "proofs": proofs, "same_verdicts": same,
                     "load": round(os.getloadavg()[0], 2)})
        print(json.dumps(rows[-1]), flush=True)
    header = run_header(f"python scripts/bench.py --solver --repeats {neurons}", f"scipy {scipy.__version__}, "
                        f"highspy {version('highspy')}")
    lines = [header + f" Random patterns (seed 0) at about Table 1's perfect-recall DS; the first {neurons} neurons, "
             "each decided by both, back to back; medians per neuron; load is the 1-minute load average after each "
             "size.", "", *table_head("N", "DS", "linprog s", "DatasetLPs s", "faster", "proofs", "same verdicts",
                                      "load")]
    lines += [f"| {r['N']} | {r['DS']} | {r['linprog_s']} | {r['dataset_lps_s']} | "
              f"{r['linprog_s'] / r['dataset_lps_s']:.1f}× | {', '.join(f'{k} {v}' for k, v in r['proofs'].items())} | "
              f"{'yes' if r['same_verdicts'] else 'NO'} | {r['load']} |" for r in rows]
    publish(out / "solver", {"rows": rows}, lines)


def solver_workers_benchmark(datasets: int, out: Path, N: int = 200, DS: int = 640) -> None:
    """Part 11: every neuron of the same datasets decided by one thread and by two (``search.solver_workers``)."""
    out.mkdir(parents=True, exist_ok=True)
    data = [member_data(compose("logger=none", f"N={N}", f"DS={DS}", f"runs={datasets}"), DS, run)
            for run in range(datasets)]
    rows = []
    for workers in (1, 2):
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        found = [perfect_recall(X, Y, workers=workers) for X, Y in data]
        rows.append({"workers": workers, "wall_s": round(time.perf_counter() - start, 1),
                     "unseparable": [f.failing for f in found], "by": [f.by for f in found],
                     "load": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"})
        print(json.dumps(rows[-1]), flush=True)
    one, two = rows
    same = one["unseparable"] == two["unseparable"] and one["by"] == two["by"]
    header = run_header(f"python scripts/bench.py --solver-workers --repeats {datasets}", f"scipy {scipy.__version__}")
    lines = [header + f" N={N}, DS={DS} (near Table 1's exact perfect-recall DS, 630), {datasets} datasets (seed 0, "
             f"runs 0-{datasets - 1}), every neuron decided (`perfect_recall`, one thread, then two); load is the "
             "1-minute load average before and after.", "",
             *table_head("threads", "wall s", "neurons not separable, per dataset", "load")]
    lines += [f"| {r['workers']} | {r['wall_s']} | {r['unseparable']} | {r['load']} |" for r in rows]
    lines += ["", f"Two threads {one['wall_s'] / two['wall_s']:.2f}× faster than one; the same verdicts and "
              f"proofs: {'yes' if same else 'NO'}."]
    publish(out / "solver_workers", {"same_verdicts": same, "rows": rows}, lines)
