"""Part 3 (``--search``): the cost of whole capacity searches.

Each case (simple N=100, recurrent N=50 and N=100) run as a real job, in a fresh process, under the
batch-of-4 protocol (4 DS candidates a round, none of the search's stop rules) and under the default
protocol (the config's defaults), side by side in one run: the answer (capacity and perfect-recall DS,
counts, converged), member-steps (each member's steps, summed), pattern-steps (steps x DS, the work a member
does on its own rows) and the job's time. Each search is a job in multirun/bench_search/ (one torch
thread), so an interrupted benchmark resumes it through the framework's resume when run again, and a
finished one is read, not rerun. Rows of other cases are kept. Writes <out>/search/search.{json,md}.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

from memcap.bench.common import ROOT, short_commit, train_in_fresh_process

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
