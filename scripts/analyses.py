"""The two analyses the report wished it had made (its Discussion), on the framework's engine.

Usage:
    python scripts/analyses.py overlap  [--runs 60] [--out results/analyses] [OVERRIDE ...]
    python scripts/analyses.py variance [--datasets 10 --inits 6] [--out results/analyses] [OVERRIDE ...]

overlap: trains --runs members at one DS (default N=100 DS=300 with the
default recipe; docs/results.md pins the report's: loss=bce lr=1.0
trainer.max_steps=4000), each with its own data and initialization, and correlates the overlap
of active bits between each member's patterns with the number it memorized.
variance: trains every one of --datasets datasets (data_seed=0..) from every
one of --inits initializations and splits the variance of one run's count into
data, initialization and their interaction (two-way random-effects ANOVA).
OVERRIDEs are the config's (N=200 DS=600 loss=bce_ignore ...). Each writes
<study>_runs.csv, <study>_<table>.csv, <study>.md and <study>.png/.pdf into
--out and prints its tables. Seeded: a rerun reproduces every count (for the
same number of torch threads).
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcap.analysis.studies import markdown_table, overlap_study, study_config, variance_study, write_study  # noqa: E402
from memcap.loggers import quiet_libraries  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=("overlap", "variance"))
    parser.add_argument("overrides", nargs="*", help="config overrides, as train.py takes them")
    parser.add_argument("--runs", type=int, default=60, help="overlap: runs (datasets), each its own init")
    parser.add_argument("--datasets", type=int, default=10, help="variance: datasets (data_seed = 0 .. datasets-1)")
    parser.add_argument("--inits", type=int, default=6, help="variance: initializations per dataset")
    parser.add_argument("--out", default=str(ROOT / "results" / "analyses"))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    quiet_libraries()
    cfg = study_config(args.overrides)
    start = time.perf_counter()
    if args.study == "overlap":
        study = overlap_study(cfg, args.runs)
    else:
        study = variance_study(cfg, args.datasets, args.inits)
    seconds = time.perf_counter() - start
    command = shlex.join(["python", "scripts/analyses.py", *(argv if argv is not None else sys.argv[1:])])
    header = (f"`{command}`: {seconds:.0f} s on {platform.machine()}, {torch.get_num_threads()} torch threads, "
              f"torch {torch.__version__}\n")
    for path in write_study(study, Path(args.out), header):
        print(f"wrote {path}")
    print(header)
    for key, table in study.tables.items():
        print(f"{key}\n{markdown_table(table)}")


if __name__ == "__main__":
    main()
