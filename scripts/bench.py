"""Benchmark the ensemble engine against a per-model loop and the device's matmul peak.

Usage: python scripts/bench.py [--quick] [--end-to-end-only] [--device cpu|cuda] [--out benchmarks]
       python scripts/bench.py --search [--cases simple-100,recurrent-50,...] [--seeds 0,1]
       python scripts/bench.py --subnormals [--repeats 3]
       python scripts/bench.py --default-job [--repeats 3]
       python scripts/bench.py --oracle-lp [--repeats 3]
       python scripts/bench.py --oracle-workers [--repeats 4]
       python scripts/bench.py --solver-workers [--repeats 4]
       python scripts/bench.py --solver [--repeats 40]
       python scripts/bench.py --engine [--repeats 3] [--quick]
       python scripts/bench.py --sweep-work DIR [DIR ...]

1. Throughput: for N in {100, 200, 500} and ensemble sizes {1, 5, 15, 40}, the
   same full-batch Adam steps (DS = 3 N, bce) done (a) by a plain PyTorch loop,
   one torch.nn.Linear model at a time, and (b) by the engine (memcap's Lightning
   module, all members in one batched step). Reports model-steps per second,
   the ratio engine / loop, and achieved FLOP/s (matmul FLOPs: 4 DS N^2 per
   model-step, forward and weight gradient) as a fraction of torch.matmul's peak
   measured in the same process on the same device.
2. End to end: `python train.py N=100 DS=300 runs=5` (the default recipe) in a
   fresh process (start-up included): wall time and mean memorized patterns.
   ``--end-to-end-only`` remeasures just this and keeps the rest of results.json.

3. ``--search``: the cost of whole capacity searches: each case (simple
   N=100, recurrent N=50 and N=100) run as a real job, in a fresh process,
   under the batch-of-4 protocol (4 DS candidates a round, none of the
   search's stop rules) and under the default protocol (the config's
   defaults), side by side in one run: the answer
   (capacity and perfect-recall DS, counts, converged), member-steps (each
   member's steps, summed), pattern-steps (steps x DS, the work a member does on
   its own rows) and the job's time. Each search is a job in
   multirun/bench_search/ (one torch thread), so an interrupted benchmark resumes
   it through the framework's resume when run again, and a finished one is read,
   not rerun. Rows of other cases are kept. Writes <out>/search/search.{json,md}.

4. ``--subnormals``: jobs whose training makes subnormal floats (bce once its
   sigmoids saturate), each with ``trainer.flush_subnormals`` false and true,
   back to back, repeated: median wall times, their ratio, and whether the
   points are the same. Writes <out>/subnormals/subnormals.{json,md}.

5. ``--default-job``: the default job as ``make run`` runs it (``python
   train.py``, W&B offline, nothing overridden), in fresh processes, repeated:
   wall seconds (start-up included), seconds in the job, the answer, and the
   load, against a target of 60 s; each run beside the same job on the engine
   without its shortcuts (part 9). Writes <out>/default_job/default_job.{json,md}.

6. ``--oracle-lp``: the LP oracle's greedy heuristic re-solves a neuron's hinge
   LP each time a pattern leaves it. On Table 1's largest problem (N=500,
   DS=2130, random patterns, seed 0), for the ``--repeats`` neurons with the
   most slack: drop the worst bit, re-solve warm (``_WarmHingeLPs``, from the
   last basis) and cold (``_margin_lp``, the smaller LP from scratch), 4 drops
   each: seconds of each (medians), their ratio, and whether the optima agree.
   Writes <out>/oracle_lp/oracle_lp.{json,md}.

7. ``--oracle-workers``: the LP oracle's datasets one at a time and two at a
   time (``search.oracle_workers``), back to back on the same ``--repeats``
   datasets (N=200, DS=700, training's counts taken as 0 so that every dataset
   needs its LPs; ``search.oracle_iterations=0``, so each interval is the greedy heuristic's
   and the two runs must agree exactly): wall seconds of each, their ratio, and
   whether the intervals agree. Writes <out>/oracle_workers/oracle_workers.{json,md}.

8. ``--solver``: each neuron's separability (the solver's perfect-recall question) decided by scipy's
   ``linprog`` (one LP built per neuron, as before ``DatasetLPs``) and by ``DatasetLPs`` (one HiGHS model per
   dataset, cheapest proof first), back to back on the first ``--repeats`` neurons of a dataset near
   Table 1's perfect-recall DS at N = 100, 200, 300, 500: median seconds per neuron, their ratio, which proof
   decided, and whether the verdicts agree. Writes <out>/solver/solver.{json,md}.

9. ``--engine``: the pattern engine's two shortcuts, side by side in one process on the design card's and
   Table 1's shapes near capacity (simple N = 100, 200, 500; recurrent 2 and 3 steps at N = 50, 100, 200;
   5 members, full batch, no early stop): the same steps with one optimizer step per Lightning call (the
   engine without its shortcuts) and with every step between two checks in one call (the default), at one
   torch thread, and the default at two threads; the repeats interleaved, medians: step time, achieved
   GFLOP/s (the matmul FLOPs of one step counted by ``torch.utils.flop_counter.FlopCounterMode``) and their
   fraction of torch.matmul's peak at the same thread count, measured in the same process. Then the work
   the committed searches (results/report_table1, results/design_card) gave to padding rows and to members
   that had already stopped, counted from their points (each group's rows and each member's steps) for an
   engine that computes every member to its group's end and for one whose stopped members leave the
   computation (``trainer.compact``). Writes <out>/engine/engine.{json,md}.

10. ``--sweep-work DIR [DIR ...]``: what runs of one sweep cost, side by side (the design card's sweep
   before and after a change of recipe or search: its committed results and a rerun): per job (network,
   time steps, N) and in all, the members trained, their optimizer steps, the matmul FLOPs spent on their
   patterns (each point's steps x its DS x the FLOPs of one pattern's step, counted by
   ``torch.utils.flop_counter.FlopCounterMode`` on one member of that network), the job time summed over
   attempts, the answer and whether it converged. Read from each DIR's */result.json; nothing is trained.
   Writes <out>/sweep/sweep.{json,md}.

11. ``--solver-workers``: every neuron of the same ``--repeats`` datasets (N=200, DS=640, near Table 1's exact
   perfect-recall DS) decided by one thread and by two (``search.solver_workers``), back to back: wall seconds
   of each, their ratio, and whether the verdicts and proofs agree. Writes
   <out>/solver_workers/solver_workers.{json,md}.

Writes <out>/results.json and <out>/results.md (the table benchmarks/README.md quotes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import scipy
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcap.configs import compose  # noqa: E402
from memcap.fitting import Fit, make_trainer  # noqa: E402
from memcap.patterns.data import make_patterns  # noqa: E402
from memcap.patterns.engine import build_module  # noqa: E402
from memcap.results import versions  # noqa: E402


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device: str, size: int = 2048, repeats: int = 10) -> float:
    """Best FLOP/s of a square fp32 torch.matmul on ``device``."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def per_model_loop(N: int, DS: int, members: int, steps: int, device: str) -> float:
    """Seconds for ``members`` models trained one after another, ``steps`` full-batch Adam steps each."""
    total = 0.0
    for m in range(members):
        X, Y = (t.to(device) for t in make_patterns(N, DS, 0.1, seed=m))
        model = torch.nn.Linear(N, N).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            loss = F.binary_cross_entropy_with_logits(model(X), Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        sync(device)
        total += time.perf_counter() - start
    return total


def engine(N: int, DS: int, members: int, steps: int, device: str) -> tuple[float, float]:
    """Seconds for the engine to train ``members`` together for ``steps`` steps, and Lightning's share of it."""
    accelerator = "gpu" if device == "cuda" else "cpu"
    # patience: measure steps, not early stopping.
    cfg = compose(f"N={N}", "lr=0.01", f"trainer.accelerator={accelerator}", "trainer.patience=1000000")
    module = build_module(cfg, [(DS, run) for run in range(members)], max_steps=steps)
    trainer = make_trainer(cfg.trainer, Fit(), steps)
    start = time.perf_counter()
    trainer.fit(module)
    sync(device)
    fitted = time.perf_counter() - start
    # The same steps without Lightning: what the module's own step costs.
    module.to(torch.device(device))
    module.on_fit_start()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        module._step()
    sync(device)
    bare = time.perf_counter() - start
    return fitted, bare


END_TO_END = "N=100 DS=300 runs=5"


def train_in_fresh_process(overrides: list[str], wandb_mode: str = "disabled",
                           run_dir: Path | None = None) -> tuple[dict, float, str]:
    """``python train.py OVERRIDES`` as a user runs it: its result.json, wall seconds (start-up included) and
    what it printed. W&B is off (``logger=none``) unless ``wandb_mode`` names another mode ("offline": as
    ``make run``). The job runs in a temporary directory, or in ``run_dir``, where a rerun resumes it."""
    logger = ["logger=none"] if wandb_mode == "disabled" else []
    with tempfile.TemporaryDirectory() as tmp:
        job = run_dir or Path(tmp)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "train.py"), *overrides, *logger, f"hydra.run.dir={job}"],
                              capture_output=True, text=True, env={**os.environ, "WANDB_MODE": wandb_mode}, check=True)
        wall = time.perf_counter() - start
        return json.loads((job / "result.json").read_text()), wall, done.stdout.strip()


def end_to_end() -> dict:
    result, wall, printed = train_in_fresh_process(END_TO_END.split())
    return {"wall_s": round(wall, 2), "memorized_mean": result["metrics"]["memorized_mean"],
            "memorized_runs": result["metrics"]["memorized_runs"], "summary": printed}


# The search protocols compared by --search: overrides on top of the case's config. "batch-of-4" is the
# search without its stop rules: 4 DS candidates a round, and fail fast, "short", the growing plateau
# window and the wait for a first pattern all off (with only fail_fast_steps=null, "short" would still
# judge its members). "default": the config as it stands.
PROTOCOLS = {
    "batch-of-4": ["search.batch=4", "search.fail_fast_steps=null", "search.stop_short=false",
                   "trainer.patience_fraction=0", "trainer.plateau_before_first_pattern=true"],
    "default": [],
}
BASELINE = "batch-of-4"  # the protocol the others are compared with (its work and time ÷ theirs)
SEARCH_CASES = {"simple-100": ["N=100"], "recurrent-50": ["model=recurrent", "N=50"],
                "recurrent-100": ["model=recurrent", "N=100"]}


def search_job_dir(case: str, protocol: str, seed: int) -> Path:
    """Where a search's job lives: under multirun/ (not a temporary directory), so that an interrupted
    benchmark resumes each search through the framework's own resume, and a finished one is skipped."""
    return ROOT / "multirun" / "bench_search" / f"{case}-{protocol.replace(' ', '_')}-seed{seed}"


def short_commit(commit: str) -> str:
    """A commit as people quote it (7 hex digits), keeping the "-dirty" of uncommitted changes."""
    head, dirty, _ = commit.partition("-dirty")
    return head[:7] + dirty


def search_cost(case: str, protocol: str, seed: int) -> dict:
    """One whole capacity search as a job in a fresh process, and what it cost. The time is the job's own
    (result.json's wall_time, summed over its attempts), so an interrupted and resumed search counts its time
    once."""
    overrides = [*SEARCH_CASES[case], *PROTOCOLS[protocol], f"seed={seed}"]
    job = search_job_dir(case, protocol, seed)
    result, _, _ = train_in_fresh_process([*overrides, "trainer.threads=1"], run_dir=job)
    finished = time.gmtime((job / "result.json").stat().st_mtime)
    m, points = result["metrics"], result["points"]
    return {"case": case, "protocol": protocol, "seed": seed, "overrides": " ".join(overrides),
            "date": time.strftime("%Y-%m-%d", finished),
            "code": short_commit(result["versions"].get("git_commit", "unknown")),
            "capacity_ds": m["capacity_ds"], "perfect_ds": m["perfect_ds"], "memorized_max": m["memorized_max"],
            "memorized_mean": round(m["memorized_mean"], 1), "converged": m["converged"],
            "members": len(points), "member_steps": sum(p["steps"] for p in points),
            "pattern_steps": sum(p["steps"] * p["DS"] for p in points),
            "stops": {stop: sum(p["stop"] == stop for p in points) for stop in sorted({p["stop"] for p in points})},
            "wall_s": round(result["wall_time"], 1), "attempts": result.get("attempts") or 1,
            "load": os.getloadavg()[0]}


def search_markdown(rows: list[dict], header: str) -> str:
    lines = [header, "", "| case | seed | protocol | date, code | capacity DS | perfect DS | max / mean | converged | "
             f"members | member-steps | pattern-steps | job s (attempts) | load | {BASELINE} ÷ this: pattern-steps | "
             f"{BASELINE} ÷ this: time |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    base = {(r["case"], r["seed"]): r for r in rows if r["protocol"] == BASELINE}
    for r in rows:
        old = base.get((r["case"], r["seed"]))
        def ratio(key: str, old=old, r=r) -> str:
            return f"{old[key] / r[key]:.2f}" if old and r is not old else "–"
        lines.append(f"| {r['case']} | {r['seed']} | {r['protocol']} | {r.get('date', '?')}, {r.get('code', '?')} | "
                     f"{r['capacity_ds']} | {r['perfect_ds']} | "
                     f"{r['memorized_max']} / {r['memorized_mean']} | {'yes' if r['converged'] else 'no'} | "
                     f"{r['members']} | {r['member_steps']} | {r['pattern_steps']:.3g} | "
                     f"{r['wall_s']} ({r.get('attempts', 1)}) | {r['load']:.1f} | {ratio('pattern_steps')} | "
                     f"{ratio('wall_s')} |")
    return "\n".join(lines) + "\n"


def search_benchmark(cases: list[str], seeds: list[int], out: Path) -> None:
    """Part 3; rows are written after every job, so a long run can be read (and cut short) as it goes. Rows
    of cases and seeds not measured now are kept: one case can be added, or remeasured, alone."""
    out.mkdir(parents=True, exist_ok=True)
    header = ("`python scripts/bench.py --search [--cases ...] [--seeds ...]`: each row is one search run as a job "
              f"(multirun/bench_search/, resumed there if interrupted), on {platform.machine()}, {os.cpu_count()} "
              f"cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, torch {torch.__version__}. "
              "The two protocols of a case ran back to back; each row names the code its job ran (a commit between "
              "them that does not touch training leaves the comparison fair: check with git diff). Job s: the "
              "job's own time, summed over attempts; load: the 1-minute load average at the row's end. A code "
              "given as \"before\" a commit marks a job run in a temporary directory, whose job s is the "
              "process's wall time, start-up included.")
    path = out / "search.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    key = lambda row: (row["case"], row["seed"], row["protocol"])
    for case in cases:
        for seed in seeds:
            for protocol in PROTOCOLS:
                row = search_cost(case, protocol, seed)
                rows = [r for r in rows if key(r) != key(row)] + [row]  # a remeasured row replaces the old one
                print(json.dumps(rows[-1]), flush=True)
                path.write_text(json.dumps(rows, indent=2))
                (out / "search.md").write_text(search_markdown(rows, header))
    (out / "search.md").write_text(search_markdown(rows, header))
    print(search_markdown(rows, header))


# Part 4: jobs whose training makes subnormal floats (bce once sigmoids saturate), with and without flushing them.
SUBNORMAL_CASES = {
    "simple-bce-100": ["N=100", "DS=320", "loss=bce", "runs=5"],  # a Table 1 round near capacity
    "recurrent-50": ["model=recurrent", "steps=2", "N=50", "DS=690", "runs=3", "trainer.max_steps=6000"],
}


def run_header(command: str, details: str) -> str:
    """A benchmark's first line: its command, the date, the machine, ``details`` and the code it ran."""
    return (f"`{command}`, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, {details}, "
            f"code {versions().get('git_commit', 'unknown')}.")


def publish(stem: Path, data: Any, lines: list[str]) -> None:
    """A benchmark's results: ``data`` to <stem>.json, its markdown ``lines`` to <stem>.md and the terminal."""
    stem.with_suffix(".json").write_text(json.dumps(data, indent=2))
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def table_head(*columns: str) -> list[str]:
    """A markdown table's header and rule."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def subnormal_benchmark(repeats: int, out: Path) -> None:
    """Each case with trainer.flush_subnormals=false and =true, back to back in alternating order, ``repeats``
    times: median wall seconds of each, their ratio, and whether every point (less seconds) came out the same."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for case, overrides in SUBNORMAL_CASES.items():
        walls: dict[str, list[float]] = {"false": [], "true": []}
        points, loads = {}, []
        for repeat in range(repeats):
            for flush in ("false", "true") if repeat % 2 == 0 else ("true", "false"):
                result, wall, _ = train_in_fresh_process([*overrides, "trainer.threads=1",
                                                          f"trainer.flush_subnormals={flush}"])
                walls[flush].append(wall)
                points.setdefault(flush, []).append([{k: v for k, v in p.items() if k != "seconds"}
                                                     for p in result["points"]])
                loads.append(os.getloadavg()[0])
        every = [run for runs in points.values() for run in runs]
        rows.append({"case": case, "overrides": " ".join(overrides), "repeats": repeats,
                     "wall_s_unflushed": round(statistics.median(walls["false"]), 1),
                     "wall_s_flushed": round(statistics.median(walls["true"]), 1),
                     "speedup": round(statistics.median(walls["false"]) / statistics.median(walls["true"]), 2),
                     "same_points": all(run == every[0] for run in every),
                     "load": f"{min(loads):.1f}-{max(loads):.1f}"})
        print(json.dumps(rows[-1]), flush=True)
    header = run_header(f"python scripts/bench.py --subnormals --repeats {repeats}",
                        f"1 torch thread a job, torch {torch.__version__}")
    lines = [header + " Medians of the repeats; load is the 1-minute load average at the jobs' ends.", "",
             *table_head("case", "overrides", "wall s, subnormals kept", "wall s, flushed", "speedup", "same points",
                         "load")]
    lines += [f"| {r['case']} | `{r['overrides']}` | {r['wall_s_unflushed']} | {r['wall_s_flushed']} | "
              f"{r['speedup']:.2f}× | {'yes' if r['same_points'] else 'NO'} | {r['load']} |" for r in rows]
    publish(out / "subnormals", rows, lines)


def default_job_benchmark(repeats: int, out: Path) -> None:
    """Part 5: ``python train.py`` with W&B offline (what ``make run`` runs), ``repeats`` times in fresh
    processes, each time beside the same job on the engine without its shortcuts (``ENGINES``): median wall
    seconds against the target of 60 s, their ratio, and each run's answer (the same every time)."""
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for _ in range(repeats):
        for engine, overrides in reversed(ENGINES.items()):
            load_before = os.getloadavg()[0]
            result, wall, _ = train_in_fresh_process(overrides, wandb_mode="offline")
            m = result["metrics"]
            runs.append({"engine": engine, "wall_s": round(wall, 1), "job_s": round(result["wall_time"], 1),
                         "capacity_ds": m["capacity_ds"], "memorized_mean": round(m["memorized_mean"], 1),
                         "converged": m["converged"], "torch_threads": result["versions"].get("torch_threads"),
                         "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)})
            print(json.dumps(runs[-1]), flush=True)
    medians = {engine: statistics.median(r["wall_s"] for r in runs if r["engine"] == engine) for engine in ENGINES}
    median = medians["default"]
    header = run_header(f"python scripts/bench.py --default-job --repeats {repeats}", f"torch {torch.__version__}")
    lines = [header + " Loads are the 1-minute load average before and after each run.", "",
             *table_head("run", "engine", "wall s", "in the job s", "capacity DS", "mean memorized", "converged",
                         "torch threads", "load")]
    lines += [f"| {i // len(ENGINES) + 1} | {r['engine']} | {r['wall_s']} | {r['job_s']} | {r['capacity_ds']} | "
              f"{r['memorized_mean']} | {'yes' if r['converged'] else 'no'} | {r['torch_threads']} | "
              f"{r['load_before']}-{r['load_after']} |" for i, r in enumerate(runs)]
    other = medians["one step a call"]
    lines += ["", f"Median wall time {median:.1f} s against the target of 60 s: "
              f"{'met' if median <= 60 else 'missed'}; without the engine's shortcuts ({', '.join(ENGINES['one step a call'])}) "
              f"{other:.1f} s, {other / median:.2f}× the default's."]
    publish(out / "default_job", {"median_wall_s": median, "median_wall_s_by_engine": medians, "runs": runs}, lines)


def oracle_lp_benchmark(repeats: int, out: Path, N: int = 500, DS: int = 2130, drops: int = 4) -> None:
    """Part 6: warm against cold re-solves of the greedy heuristic's hinge LPs, on the same sequence of LPs."""
    import scipy.sparse as sp

    from memcap.patterns.oracle.lp import _margin_lp, _WarmHingeLPs
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
    from memcap.patterns.oracle import oracle_metrics
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


def solver_workers_benchmark(datasets: int, out: Path, N: int = 200, DS: int = 640) -> None:
    """Part 11: every neuron of the same datasets decided by one thread and by two (``search.solver_workers``)."""
    from memcap.patterns.engine import member_data
    from memcap.patterns.oracle import perfect_recall
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


def solver_benchmark(neurons: int, out: Path, sizes=((100, 320), (200, 630), (300, 970), (500, 1670))) -> None:
    """Part 8: one neuron's separability decided the old way (scipy's linprog, one LP built per neuron) and by
    ``DatasetLPs`` (one model per dataset, cheapest proof first), on the same neurons, back to back."""
    import scipy.sparse as sp

    from memcap.patterns.oracle.lp import _margin_lp
    from memcap.patterns.oracle.separability import DatasetLPs
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


# --engine: (model overrides, N, DS near the committed capacity): Table 1's exact perfect-recall DS, the design
# card's capacity DS.
ENGINE_SHAPES = [(["model=simple"], 100, 320), (["model=simple"], 200, 630), (["model=simple"], 500, 1700),
                 (["model=recurrent", "steps=2"], 50, 690), (["model=recurrent", "steps=2"], 100, 1380),
                 (["model=recurrent", "steps=2"], 200, 2760), (["model=recurrent", "steps=3"], 50, 700),
                 (["model=recurrent", "steps=3"], 100, 1520), (["model=recurrent", "steps=3"], 200, 2820)]
ENGINES = {"one step a call": ["trainer.steps_per_call=1", "trainer.compact=false"], "default": []}
WASTE_SOURCES = ("results/report_table1", "results/design_card")


def step_flops(module) -> int:
    """The FLOPs of one optimizer step of ``module`` (forward, loss, backward), as torch counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        module._losses(module.model(module.X), module.Y, module.weight).sum().backward()
    module.model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


class StepClock(pl.Callback):
    """The seconds from a fit's first step to its last (its set-up and tear-down left out)."""

    def on_train_start(self, trainer, module) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer, module) -> None:
        self.seconds = time.perf_counter() - self.start


def timed_fit(overrides: list[str], N: int, DS: int, steps: int, members: int = 5) -> float:
    """Seconds per step of a Lightning fit of ``members`` runs at (N, DS), ``steps`` steps, no early stop."""
    cfg = compose(*overrides, f"N={N}", "trainer.patience=1000000", "search.fail_fast_steps=null")
    module = build_module(cfg, [(DS, run) for run in range(members)], max_steps=steps)
    clock = StepClock()
    make_trainer(cfg.trainer, Fit(callbacks=[clock]), steps).fit(module)
    return clock.seconds / steps


def group_work(points: list[dict], N: int, max_steps: int) -> dict:
    """Row-steps of a job's groups (each point says how many members its group had; a group's points are
    consecutive): computed by an engine that keeps every member to its group's last step ("kept"), computed
    when stopped members leave after their stopping check ("compacted"), and spent on real patterns of
    members still training ("useful"). Every row of a job costs the same FLOPs, so their ratios are FLOP
    shares."""
    from memcap.patterns.layout import aligned_rows

    work = {"kept": 0, "compacted": 0, "useful": 0}
    i = 0
    while i < len(points):
        group = points[i:i + points[i]["members"]]
        i += len(group)
        rows = aligned_rows(max(p["DS"] for p in group), N)
        # A member that stopped at a check computed that check's step too (frozen); one at the cap did not.
        computed = [min(p["steps"] + 1, max_steps) for p in group]
        work["kept"] += len(group) * rows * max(computed)
        work["compacted"] += rows * sum(computed)
        work["useful"] += sum(p["DS"] * p["steps"] for p in group)
    return work


def pattern_step_flops(model: str, N: int, steps: int) -> float:
    """The matmul FLOPs of one optimizer step of one member, per pattern it trains (full batch; counted at
    DS=1000, or all the distinct patterns of N where they are fewer)."""
    import math

    from memcap.configs import compose
    from memcap.patterns.engine import build_module
    from memcap.patterns.layout import aligned_rows

    cfg = compose("logger=none", f"model={model}", f"N={N}", *([f"steps={steps}"] if model == "recurrent" else []))
    DS = min(1000, math.comb(N, round(N * cfg.s)))
    return step_flops(build_module(cfg, [(DS, 0)], max_steps=1)) / aligned_rows(DS, N)


def sweep_work_benchmark(sources: list[Path], out: Path) -> None:
    """Part 10: runs of one sweep side by side, from their result.json files (nothing trained)."""
    from memcap.results import read_result

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    out.mkdir(parents=True, exist_ok=True)
    rows, flops = [], {}
    for source in sources:
        for path in sorted(source.glob("*/result.json")):
            result = read_result(path)
            c, m, points = result["config"], result["metrics"], result["points"]
            shape = (c["model"], c["N"], c["steps"])
            if shape not in flops:
                flops[shape] = pattern_step_flops(*shape)
            rows.append({"source": str(source), "model": c["model"], "steps": c["steps"], "N": c["N"],
                         "status": result["status"], "capacity_ds": m.get("capacity_ds"),
                         "memorized_max": m.get("memorized_max"), "converged": m.get("converged"),
                         "members": len(points), "member_steps": sum(p["steps"] for p in points),
                         "pflop": sum(p["steps"] * p["DS"] for p in points) * flops[shape] / 1e15,
                         "job_s": round(result.get("wall_time") or 0.0, 1), "attempts": result.get("attempts") or 1,
                         "code": short_commit(result["versions"].get("git_commit", "unknown"))})
    lines = ["`python scripts/bench.py --sweep-work " + " ".join(map(str, sources)) + "`: each job's work, read "
             "from its result.json (PFLOP: the matmul FLOPs spent on its members' patterns; job s: its time summed "
             "over attempts, on the machine its source's README names).", "",
             *table_head("source", "network", "steps", "N", "status", "capacity DS (max)", "converged", "members",
                         "member-steps", "PFLOP", "job s (attempts)", "code")]
    lines += [f"| {r['source']} | {r['model']} | {r['steps']} | {r['N']} | {r['status']} | {r['capacity_ds']} "
              f"({r['memorized_max']}) | {'yes' if r['converged'] else 'no'} | {r['members']} | {r['member_steps']} | "
              f"{r['pflop']:.3f} | {r['job_s']:.0f} ({r['attempts']}) | {r['code']} |" for r in rows]
    lines += ["", *table_head("source", "jobs", "member-steps", "PFLOP", "job hours")]
    for source in map(str, sources):
        mine = [r for r in rows if r["source"] == source]
        lines.append(f"| {source} | {len(mine)} | {sum(r['member_steps'] for r in mine)} | "
                     f"{sum(r['pflop'] for r in mine):.3f} | {sum(r['job_s'] for r in mine) / 3600:.2f} |")
    publish(out / "sweep", {"rows": rows, "pattern_step_flops": {f"{k[0]} N={k[1]} steps={k[2]}": v
                                                                  for k, v in flops.items()}}, lines)


def engine_benchmark(repeats: int, quick: bool, out: Path) -> None:
    """Part 9: the engine with and without its shortcuts, side by side; then the work its searches waste."""
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    out.mkdir(parents=True, exist_ok=True)
    load = [os.getloadavg()[0]]
    shapes = ENGINE_SHAPES[:1] + ENGINE_SHAPES[3:4] if quick else ENGINE_SHAPES
    runs = [(name, 1) for name in ENGINES] + [("default", 2)]
    peaks = {}
    for threads in sorted({t for _, t in runs}):
        torch.set_num_threads(threads)
        peaks[threads] = matmul_peak("cpu")
    rows = []
    for model, N, DS in shapes:
        cfg = compose(*model, f"N={N}")
        flops = step_flops(build_module(cfg, [(DS, run) for run in range(5)], max_steps=1))
        # About two seconds per fit at half of one thread's peak, in whole checks.
        steps = max(100, min(1000, int(peaks[1] / flops) // 50 * 50))
        seconds = {run: [] for run in runs}
        for _ in range(repeats):
            for name, threads in runs:
                torch.set_num_threads(threads)
                seconds[(name, threads)].append(timed_fit(model + ENGINES[name], N, DS, steps))
        torch.set_num_threads(1)
        row = {"model": " ".join(model), "N": N, "DS": DS, "members": 5, "steps": steps, "step_flops": flops}
        for (name, threads), times in seconds.items():
            median = statistics.median(times)
            key = f"{name}, {threads} thread{'s' if threads > 1 else ''}"
            row[key] = {"step_ms": round(1e3 * median, 3), "gflops": round(flops / median / 1e9, 1),
                        "of_peak": round(flops / median / peaks[threads], 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    load.append(os.getloadavg()[0])
    waste = {}
    for source in WASTE_SOURCES:
        kept = compacted = useful = 0
        for path in sorted((ROOT / source).glob("*/result.json")):
            result = json.loads(path.read_text())
            work = group_work(result["points"], result["config"]["N"], result["config"]["max_steps"])
            kept, compacted, useful = kept + work["kept"], compacted + work["compacted"], useful + work["useful"]
        waste[source] = {"kept_wasted": round(1 - useful / kept, 4), "compacted_wasted": round(1 - useful / compacted, 4),
                         "work_ratio": round(compacted / kept, 4)}
    columns = [f"{name}, {t} thread{'s' if t > 1 else ''}" for name, t in runs]
    header = run_header(f"python scripts/bench.py --engine --repeats {repeats}{' --quick' if quick else ''}",
                        f"torch {torch.__version__}, load {load[0]:.2f} before and {load[1]:.2f} after")
    lines = [header, "", "torch.matmul fp32 peak (2048²): " + ", ".join(
        f"{peaks[t] / 1e9:.1f} GFLOP/s at {t} thread{'s' if t > 1 else ''}" for t in peaks) + ".", "",
        *table_head("network", "N", "DS", "steps", "MFLOP a step", *(f"{c}: ms a step (of peak)" for c in columns),
                    "default / one step a call")]
    for r in rows:
        cells = [f"{r[c]['step_ms']:.2f} ({100 * r[c]['of_peak']:.0f}%)" for c in columns]
        speedup = r[columns[0]]["step_ms"] / r[columns[1]]["step_ms"]
        lines.append(f"| {r['model']} | {r['N']} | {r['DS']} | {r['steps']} | {r['step_flops'] / 1e6:.1f} | "
                     + " | ".join(cells) + f" | {speedup:.2f}× |")
    lines += ["", "Work of the committed searches' fits that computed no real pattern of a training member "
              "(padding rows, and members that had stopped), counted from their points:", "",
              *table_head("results", "wasted: every member to its group's end", "wasted: stopped members leave",
                          "work left (leave / to the end)")]
    lines += [f"| {source} | {100 * w['kept_wasted']:.1f}% | {100 * w['compacted_wasted']:.2f}% | "
              f"{100 * w['work_ratio']:.1f}% |" for source, w in waste.items()]
    publish(out / "engine", {"peaks": peaks, "rows": rows, "waste": waste, "load": load}, lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="N=100 only, fewer sizes (a smoke run)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks"))
    parser.add_argument("--seconds", type=float, default=1.5, help="target seconds per measurement")
    parser.add_argument("--end-to-end-only", action="store_true", help="remeasure part 2 only, keep part 1")
    parser.add_argument("--search", action="store_true", help="part 3 only: whole capacity searches, two protocols")
    parser.add_argument("--cases", default=",".join(SEARCH_CASES), help=f"--search: of {', '.join(SEARCH_CASES)}; empty: no job, search.md rewritten "
                        "from search.json")
    parser.add_argument("--seeds", default="0", help="--search: comma-separated seeds")
    parser.add_argument("--subnormals", action="store_true",
                        help="part 4 only: jobs with subnormal floats kept and flushed (trainer.flush_subnormals)")
    parser.add_argument("--default-job", action="store_true",
                        help="part 5 only: the default job as `make run` runs it, timed")
    parser.add_argument("--oracle-lp", action="store_true",
                        help="part 6 only: the oracle's hinge LPs re-solved warm and cold")
    parser.add_argument("--oracle-workers", action="store_true",
                        help="part 7 only: the oracle's datasets one at a time and two at a time")
    parser.add_argument("--solver", action="store_true",
                        help="part 8: each neuron's separability by scipy's linprog against DatasetLPs, N = 100-500")
    parser.add_argument("--solver-workers", action="store_true",
                        help="part 11: every neuron of the same datasets decided by one thread and by two")
    parser.add_argument("--engine", action="store_true",
                        help="part 9: one optimizer step a call against the default, 1 and 2 threads; wasted work")
    parser.add_argument("--sweep-work", nargs="+", type=Path, metavar="DIR",
                        help="part 10: the work and time of runs of one sweep, side by side, from their results")
    parser.add_argument("--repeats", type=int, default=None,
                        help="--subnormals: pairs of jobs per case; --default-job: runs; --oracle-lp: neurons "
                             "(3 each); --oracle-workers, --solver-workers: datasets (4); --solver: neurons per size "
                             "(40)")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    out = Path(args.out)
    if args.sweep_work:
        missing = [str(d) for d in args.sweep_work if not any(d.glob("*/result.json"))]
        if missing:
            parser.error(f"--sweep-work: no */result.json under {', '.join(missing)}")
        return sweep_work_benchmark(args.sweep_work, out / "sweep")
    if args.engine:
        return engine_benchmark(args.repeats or 3, args.quick, out / "engine")
    if args.solver:
        return solver_benchmark(args.repeats or 40, out / "solver")
    if args.solver_workers:
        return solver_workers_benchmark(args.repeats or 4, out / "solver_workers")
    if args.oracle_workers:
        return oracle_workers_benchmark(args.repeats or 4, out / "oracle_workers")
    if args.oracle_lp:
        return oracle_lp_benchmark(args.repeats or 3, out / "oracle_lp")
    if args.default_job:
        return default_job_benchmark(args.repeats or 3, out / "default_job")
    if args.subnormals:
        return subnormal_benchmark(args.repeats or 3, out / "subnormals")
    if args.search:
        cases = [case for case in args.cases.split(",") if case]  # none: rewrite search.md from search.json
        unknown = [c for c in cases if c not in SEARCH_CASES]
        if unknown:
            parser.error(f"unknown --cases {unknown}; choose from {', '.join(SEARCH_CASES)}")
        return search_benchmark(cases, [int(s) for s in args.seeds.split(",")], out / "search")
    if args.end_to_end_only:
        report = json.loads((out / "results.json").read_text())
        report["end_to_end"] = end_to_end()
        report["end_to_end"]["date"] = time.strftime("%Y-%m-%d")
        return write(report, out)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    device = args.device
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # peak and engine both in fp32

    peak = matmul_peak(device)
    sizes = [100] if args.quick else [100, 200, 500]
    ensembles = [1, 15] if args.quick else [1, 5, 15, 40]
    rows = []
    for N in sizes:
        DS = 3 * N
        flops_per_model_step = 4 * DS * N * N
        for members in ensembles:
            # About args.seconds of engine work at a quarter of the peak: at least 20 steps, at most 1000.
            steps = min(1000, max(20, int(args.seconds * peak * 0.25 / (flops_per_model_step * members))))
            loop = per_model_loop(N, DS, members, steps, device) if members <= 15 or N < 500 else None
            fitted, bare = engine(N, DS, members, steps, device)
            engine_rate = members * steps / fitted
            row = {
                "N": N, "DS": DS, "members": members, "steps": steps,
                "engine_model_steps_per_s": round(engine_rate, 1),
                "loop_model_steps_per_s": round(members * steps / loop, 1) if loop else None,
                "speedup": round(engine_rate / (members * steps / loop), 2) if loop else None,
                "engine_flops": engine_rate * flops_per_model_step,
                "fraction_of_peak": round(engine_rate * flops_per_model_step / peak, 3),
                "lightning_overhead": round(1 - bare / fitted, 3),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    e2e = end_to_end()
    print(json.dumps(e2e), flush=True)
    report = {
        "device": torch.cuda.get_device_name() if device == "cuda" else f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__, "matmul_peak_flops": peak, "throughput": rows, "end_to_end": e2e,
        "date": time.strftime("%Y-%m-%d"),
    }
    write(report, out)


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    (out / "results.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        f"Device: {report['device']}, torch {report['torch']}, {report['date']}. "
        f"torch.matmul peak (fp32, 2048²): {report['matmul_peak_flops'] / 1e9:.1f} GFLOP/s.",
        "",
        "| N | DS | members | engine model-steps/s | per-model loop model-steps/s | engine / loop | engine GFLOP/s | of matmul peak | Lightning overhead |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["throughput"]:
        loop = f"{r['loop_model_steps_per_s']:.1f}" if r["loop_model_steps_per_s"] else "–"
        speedup = f"{r['speedup']:.1f}×" if r["speedup"] else "–"
        lines.append(
            f"| {r['N']} | {r['DS']} | {r['members']} | {r['engine_model_steps_per_s']:.1f} | {loop} | {speedup} | "
            f"{r['engine_flops'] / 1e9:.1f} | {100 * r['fraction_of_peak']:.0f}% | {100 * r['lightning_overhead']:.0f}% |"
        )
    e = report["end_to_end"]
    lines += ["", f"End to end, `python train.py {END_TO_END}` in a fresh process"
              f"{' (' + e['date'] + ')' if 'date' in e else ''}: "
              f"{e['wall_s']:.1f} s, memorized {e['memorized_runs']} (mean {e['memorized_mean']:.1f} of 300)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
