"""Check the LP oracle against the known one-layer capacities, time it, and measure its certified interval.

Expected (s = 0.1, exact recall): about 298 of 300 patterns on average at
N=100, DS=300 (all 300 on one of three datasets), and at least 677 of 700 at
N=200, DS=700. Also prints the count under the bce_ignore tolerance, and that
of the plain hinge-LP optimum before any pattern is dropped (greedy=False).

With ``--interval`` it instead measures ``oracle_interval`` on the datasets a
job uses (memcap.patterns.engine.member_data, seed 0, runs 0..4): lower
(achieved), upper (proven), width, status, certification rounds and seconds
per dataset within a number of certification rounds (``oracle_interval``'s
``iterations``, after the heuristic), and the machine's load (``uptime``)
before and after; the rows go to benchmarks/oracle/interval.{csv,md}.

Usage: .venv/bin/python scripts/oracle_check.py [--interval [--sizes 100:300:50,200:700:50] [--runs 5] [--bti]]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcap.patterns.data import make_patterns  # noqa: E402
from memcap.patterns.oracle import lp_memorized, oracle_interval  # noqa: E402
from memcap.patterns.sizes import bits_to_ignore  # noqa: E402

S = 0.1
CASES = [(100, 300, 0), (100, 300, 1), (100, 300, 2), (200, 700, 0)]


def counts() -> None:
    for N, DS, seed in CASES:
        X, Y = make_patterns(N, DS, S, seed)
        for bti in (0, bits_to_ignore(N, S)):
            start = time.perf_counter()
            result = lp_memorized(X, Y, bti=bti)
            seconds = time.perf_counter() - start
            print(f"N={N} DS={DS} seed={seed} bti={bti}: memorized {result.memorized}/{DS} in {seconds:.1f} s", flush=True)
        plain = lp_memorized(X, Y, progress=False, greedy=False).memorized
        print(f"N={N} DS={DS} seed={seed}: the hinge LP's optimum alone memorizes {plain}/{DS}", flush=True)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average: ")[-1]


def interval(sizes: list[tuple[int, int, float]], runs: int, tolerant: bool, out: Path) -> None:
    import pandas as pd

    from memcap.configs import compose
    from memcap.patterns.engine import member_data
    rows = []
    for N, DS, rounds in sizes:
        cfg = compose("logger=none", f"N={N}")
        bti = bits_to_ignore(N, S) if tolerant else 0
        for run in range(runs):
            before = load()
            start = time.perf_counter()
            r = oracle_interval(*member_data(cfg, DS, run), bti=bti, iterations=rounds)
            seconds = time.perf_counter() - start
            row = {"N": N, "DS": DS, "bti": bti, "run": run, "lower": r.lower, "upper": r.upper, "width": r.gap,
                   "status": r.status, "cuts": r.cuts, "iterations": r.iterations, "seconds": round(seconds, 1),
                   "rounds_allowed": rounds, "upper_history": " ".join(f"{u}@{i}" for i, u in r.history),
                   "load_before": before, "load_after": load(), "cpus": os.cpu_count()}
            rows.append(row)
            print(f"N={N} DS={DS} bti={bti} run={run}: [{r.lower}, {r.upper}] width {r.gap} {r.status} "
                  f"({r.cuts} cuts, {r.iterations} rounds) in {seconds:.1f} s (at most {rounds}); "
                  f"load {row['load_before']} -> {row['load_after']}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    if (out / "interval.csv").exists():
        df = pd.concat([pd.read_csv(out / "interval.csv"), df]).drop_duplicates(["N", "DS", "bti", "run"], keep="last")
    df.to_csv(out / "interval.csv", index=False)
    (out / "interval.md").write_text(df.to_markdown(index=False) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", action="store_true", help="measure the certified interval instead")
    parser.add_argument("--sizes", default="100:300:50,200:700:50", help="N:DS:rounds triples (certification rounds)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bti", action="store_true", help="the bce_ignore criterion (#bti wrong bits tolerated)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "oracle"))
    args = parser.parse_args(argv)
    if not args.interval:
        return counts()
    sizes = [(int(n), int(ds), int(t)) for n, ds, t in (triple.split(":") for triple in args.sizes.split(","))]
    interval(sizes, args.runs, args.bti, Path(args.out))


if __name__ == "__main__":
    main()
