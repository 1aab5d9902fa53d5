"""Rerun the report's quick experiments from scratch and check them against the committed results.

Usage:
    python scripts/reproduce.py                 # make reproduce-quick: run, aggregate, compare
    python scripts/reproduce.py --skip-run      # only aggregate and compare an earlier rerun
    python scripts/reproduce.py --publish       # after a run: make it the committed results

For each experiment (conf/experiment/NAME.yaml) this runs
``python train.py -m +experiment=NAME`` into multirun/reproduce/NAME, writes its
tables and figures and the table beside the report's numbers
(memcap-aggregate --beside-report) into multirun/reproduce/NAME/aggregate, and compares
every cell with results/NAME (memcap.aggregate.compare). Exit status 1 when a
cell does not reproduce. ``--publish`` copies the rerun's result.json files to
results/NAME and its tables and figures to docs/results/NAME.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcap.aggregate import load_dirs  # noqa: E402
from memcap.aggregate.cli import main as aggregate  # noqa: E402
from memcap.aggregate.compare import compare  # noqa: E402
from memcap.aggregate.published import to_markdown  # noqa: E402

EXPERIMENTS = ("report_table1_quick", "report_table2_quick", "report_table2_converged_quick", "report_bar")


def rerun(name: str, sweep_dir: Path) -> None:
    shutil.rmtree(sweep_dir, ignore_errors=True)  # from scratch: no job may be skipped as already complete
    command = [sys.executable, "train.py", "-m", f"+experiment={name}", f"hydra.sweep.dir={sweep_dir}", "logger=csv"]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def report(name: str, sweep_dir: Path) -> bool:
    """Aggregate the rerun, write the table beside the report, compare with results/NAME."""
    out = sweep_dir / "aggregate"
    aggregate([str(sweep_dir), "--out", str(out), "--formats", "md,csv", "--beside-report"])
    fresh, _ = load_dirs([sweep_dir])
    committed_dir = ROOT / "results" / name
    if not committed_dir.exists():
        print(f"{name}: no committed results in {committed_dir} to compare with")
        return True
    committed, _ = load_dirs([committed_dir])
    table = compare(committed, fresh)
    (out / "reproduced.md").write_text(to_markdown(table))
    print(table.to_string(index=False))
    ok = bool(table["reproduced"].all())
    print(f"{name}: {'reproduced' if ok else 'NOT reproduced'} ({int(table['reproduced'].sum())} of {len(table)} cells)")
    return ok


def publish(name: str, sweep_dir: Path) -> None:
    """The rerun becomes the committed results: result.json files only, and the aggregated outputs."""
    target = ROOT / "results" / name
    shutil.rmtree(target, ignore_errors=True)
    for result in sorted(sweep_dir.glob("*/result.json")):
        (target / result.parent.name).mkdir(parents=True)
        shutil.copy(result, target / result.parent.name / "result.json")
    docs = ROOT / "docs" / "results" / name
    shutil.rmtree(docs, ignore_errors=True)
    shutil.copytree(sweep_dir / "aggregate", docs, ignore=shutil.ignore_patterns("*.pdf", "*.csv", "reproduced.md"))
    print(f"{name}: published to {target.relative_to(ROOT)} and {docs.relative_to(ROOT)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
    parser.add_argument("--out", type=Path, default=ROOT / "multirun" / "reproduce")
    parser.add_argument("--skip-run", action="store_true", help="aggregate and compare an earlier rerun")
    parser.add_argument("--publish", action="store_true", help="copy the rerun to results/ and docs/results/")
    args = parser.parse_args(argv)
    ok = True
    for name in args.experiments.split(","):
        sweep_dir = args.out / name
        if not args.skip_run:
            rerun(name, sweep_dir)
        ok &= report(name, sweep_dir)
        if args.publish:
            publish(name, sweep_dir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
