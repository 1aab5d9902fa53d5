"""The command line of ``python scripts/bench.py``: one flag a suite, each run by its module (the package's
docstring lists them); no flag: parts 1 and 2 (memcap.bench.throughput)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import memcap.bench
from memcap.bench.common import ROOT
from memcap.bench.default_job import default_job_benchmark
from memcap.bench.engine import engine_benchmark
from memcap.bench.oracle import oracle_lp_benchmark, oracle_workers_benchmark
from memcap.bench.search import SEARCH_CASES, search_benchmark
from memcap.bench.solver import solver_benchmark, solver_workers_benchmark
from memcap.bench.subnormals import subnormal_benchmark
from memcap.bench.sweep_work import sweep_work_benchmark
from memcap.bench.throughput import end_to_end_only, throughput_benchmark

# The suites chosen by a flag alone, in the order --help lists them: the flag and its help.
SUITE_FLAGS = (
    ("--subnormals", "part 4 only: jobs with subnormal floats kept and flushed (trainer.flush_subnormals)"),
    ("--default-job", "part 5 only: the default job as `make run` runs it, timed"),
    ("--oracle-lp", "part 6 only: the oracle's hinge LPs re-solved warm and cold"),
    ("--oracle-workers", "part 7 only: the oracle's datasets one at a time and two at a time"),
    ("--solver", "part 8: each neuron's separability by scipy's linprog against DatasetLPs, N = 100-500"),
    ("--solver-workers", "part 11: every neuron of the same datasets decided by one thread and by two"),
    ("--engine", "part 9: one optimizer step a call against the default, 1 and 2 threads; wasted work"),
)

# The suites whose one setting is --repeats, in the order they are looked for (the first flag given runs): the
# flag's name, the suite, its --repeats when none is given. Each writes to <out>/<name>/.
BY_REPEATS = (("solver", solver_benchmark, 40), ("solver_workers", solver_workers_benchmark, 4),
              ("oracle_workers", oracle_workers_benchmark, 4), ("oracle_lp", oracle_lp_benchmark, 3),
              ("default_job", default_job_benchmark, 3), ("subnormals", subnormal_benchmark, 3))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=memcap.bench.__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="N=100 only, fewer sizes (a smoke run)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks"))
    parser.add_argument("--seconds", type=float, default=1.5, help="target seconds per measurement")
    parser.add_argument("--end-to-end-only", action="store_true", help="remeasure part 2 only, keep part 1")
    parser.add_argument("--search", action="store_true", help="part 3 only: whole capacity searches, two protocols")
    parser.add_argument("--cases", default=",".join(SEARCH_CASES), help=f"--search: of {', '.join(SEARCH_CASES)}; empty: no job, search.md rewritten "
                        "from search.json")
    parser.add_argument("--seeds", default="0", help="--search: comma-separated seeds")
    for flag, text in SUITE_FLAGS:
        parser.add_argument(flag, action="store_true", help=text)
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
    for name, benchmark, repeats in BY_REPEATS:
        if getattr(args, name):
            return benchmark(args.repeats or repeats, out / name)
    if args.search:
        cases = [case for case in args.cases.split(",") if case]  # none: rewrite search.md from search.json
        unknown = [c for c in cases if c not in SEARCH_CASES]
        if unknown:
            parser.error(f"unknown --cases {unknown}; choose from {', '.join(SEARCH_CASES)}")
        return search_benchmark(cases, [int(s) for s in args.seeds.split(",")], out / "search")
    if args.end_to_end_only:
        return end_to_end_only(out)
    throughput_benchmark(args.device, args.quick, args.seconds, out)
