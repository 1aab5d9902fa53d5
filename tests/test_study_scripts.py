"""The recurrent recipe study's L-BFGS recipe and bench.py --sweep-work, run in-process on tiny inputs; bench.py's
command line and the modules of memcap.bench behind it."""

import importlib
import importlib.util
import json
import pkgutil
import re
import subprocess
import sys

import pytest

import memcap.bench
from memcap.bench.sweep_work import sweep_work_benchmark
from memcap.lifecycle import run_job
from tests.helpers import ROOT


def script(name: str):
    """scripts/<name>.py as a module (in-process: a subprocess would spend its time importing torch)."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lbfgs_counts_rise_with_the_budget_and_store_a_small_dataset(make_cfg):
    study = script("recurrent_recipe_study")
    cfg = make_cfg("model=recurrent", "N=20", "steps=2", "loss=bce")
    counts = study.measure_lbfgs(cfg, DS=30, run=0, budgets=(5, 50, 300))
    assert counts == sorted(counts) and len(counts) == 3  # a best count so far, by each budget
    assert counts[0] < 30 and counts[-1] == 30  # 30 patterns of N=20 are easy; 5 evaluations are not enough


def test_sweep_work_reads_a_sweeps_results_side_by_side(tmp_path, make_cfg):
    for name, max_steps in (("short", 100), ("long", 300)):
        run_job(make_cfg("model=recurrent", "N=16", "DS=40", "runs=2", f"trainer.max_steps={max_steps}"),
                tmp_path / name / "0", tmp_path / name)
    sweep_work_benchmark([tmp_path / "short", tmp_path / "long"], tmp_path / "out")
    rows = json.loads((tmp_path / "out" / "sweep.json").read_text())["rows"]
    assert [r["source"] for r in rows] == [str(tmp_path / "short"), str(tmp_path / "long")]
    short, long = rows
    assert 0 < short["member_steps"] <= 2 * 100 and long["member_steps"] >= short["member_steps"]
    assert 0 < short["pflop"] <= long["pflop"]
    assert "| 2 | " in (tmp_path / "out" / "sweep.md").read_text()  # the per-source totals: one job each


BENCH_FLAGS = {"--device", "--quick", "--out", "--seconds", "--end-to-end-only", "--search", "--cases", "--seeds",
               "--subnormals", "--default-job", "--oracle-lp", "--oracle-workers", "--solver", "--solver-workers",
               "--engine", "--sweep-work", "--repeats"}


def test_bench_help_lists_every_flag_and_the_usage_lines_name_only_those():
    """`python scripts/bench.py --help` as the docs run it (a subprocess: the script finds memcap.bench.cli itself)."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--help"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", done.stdout)) - {"--help"}
    assert shown == BENCH_FLAGS
    assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", memcap.bench.__doc__)) <= shown  # the package's usage lines


@pytest.mark.parametrize("name", [m.name for m in pkgutil.iter_modules(memcap.bench.__path__)])
def test_each_bench_module_imports(name):
    importlib.import_module(f"memcap.bench.{name}")
