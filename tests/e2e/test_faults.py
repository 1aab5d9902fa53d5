"""Sweeps hold up: launchers agree, failures stay contained, an interrupted sweep resumes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from memcap.aggregate.sources import load_dirs
from memcap.aggregate.tables import summarize
from memcap.sweep_summary import sweep_status
from tests.helpers import ENV, ROOT
from tests.helpers import TINY_JOB as TINY


def sweep(sweep_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", *TINY, *args, f"hydra.sweep.dir={sweep_dir}"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)


def status_counts(sweep_dir: Path) -> dict[str, int]:
    """`memcap status SWEEP_DIR` as a user runs it (no terminal here: no colour codes), its summary line parsed."""
    done = subprocess.run([sys.executable, "-m", "memcap.cli", "status", str(sweep_dir)], cwd=ROOT,
                          env={**ENV, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "\x1b[" not in done.stdout, done.stdout + done.stderr
    summary = next(line for line in done.stdout.splitlines() if " jobs: " in line or " job: " in line)
    return {state: int(n) for n, state in (part.split(" ", 1) for part in summary.split(": ", 1)[1].split(", "))}


def metrics(sweep_dir: Path) -> dict:
    out = {}
    for path in sweep_dir.glob("*/result.json"):
        result = json.loads(path.read_text())
        out[(result["config"]["N"], result["config"]["DS"])] = result["metrics"]
    return out


def test_launchers_give_identical_metrics(tmp_path):
    args = ["N=20,30", "DS=40"]
    basic, processes, parallel = tmp_path / "basic", tmp_path / "processes", tmp_path / "parallel"
    for done in (sweep(basic, *args), sweep(processes, *args, "hydra/launcher=processes"),
                 sweep(parallel, *args, "hydra/launcher=parallel")):
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(metrics(basic)) == 2
    assert metrics(basic) == metrics(processes) == metrics(parallel)


def test_failing_and_diverging_jobs_do_not_stop_the_sweep(tmp_path):
    # One job raises inside Lightning (an accelerator this machine lacks: Lightning checks mps itself); one diverges (an lr so large that
    # the recurrent pre-activations overflow); the others are fine. The sweep finishes all
    # four and its exit code and summary line report the two failures.
    done = sweep(tmp_path, "model=recurrent", "N=20", "DS=40", "lr=0.1,1e37", "trainer.accelerator=cpu,mps")
    assert done.returncode != 0
    assert "memcap sweep: 4 jobs, 2 ok, 2 failed" in done.stdout
    results = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*/result.json"))]
    by_key = {(r["config"]["lr"], r["status"]): r for r in results}
    failed = [r for r in results if r["status"] == "failed"]
    assert len(failed) == 2 and all("MPS" in r["error"] for r in failed)
    assert {p["stop"] for p in by_key[(1e37, "ok")]["points"]} == {"diverged"}
    assert status_counts(tmp_path) == {"done": 2, "failed": 2}
    assert "diverged" not in {p["stop"] for p in by_key[(0.1, "ok")]["points"]}


# The sweep kills itself (SIGKILL, as a preemption would) as the third job's fit begins: two jobs done, the
# third begun (its result.json says running), three not started.
KILL_AT_THE_THIRD_FIT = """
    class KillAtTheThirdFit(pl.Callback):
        fits = 0

        def on_train_start(self, trainer, *args):
            self.fits += 1
            if self.fits == 3:
                kill_the_sweep()

    on_every_fit(KillAtTheThirdFit())
"""


def test_killed_sweep_resumes_without_duplicates(tmp_path, hooked_train):
    args = ["N=20,24,28", "DS=30,50"]  # 6 jobs, one fit each
    complete = tmp_path / "complete"
    assert sweep(complete, *args).returncode == 0

    killed = tmp_path / "killed"
    command = [*hooked_train(KILL_AT_THE_THIRD_FIT), "-m", *TINY, *args, f"hydra.sweep.dir={killed}"]
    done = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("memcap simple") == 2  # two jobs reported, behind the log prefix
    assert len(sweep_status(killed)["ok"]) == 2
    # What `memcap status` tells the user before resuming: the six jobs the command asked for, by state.
    assert status_counts(killed) == {"done": 2, "interrupted": 1, "not started": 3}

    resumed = sweep(killed, *args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.count("complete, skipped") == 2
    status = sweep_status(killed)
    assert len(status["ok"]) == 6 and not status["failed"] and not status["missing"]
    assert status_counts(killed) == {"done": 6}
    assert len(list(killed.glob("*/result.json"))) == 6
    table = lambda d: summarize(load_dirs([d])[0]).drop(columns=["wall_time"], errors="ignore")
    assert table(killed).equals(table(complete))


def test_the_recurrent_lr_by_steps_resolves_in_the_main_process_and_in_joblib_workers(tmp_path):
    """model=recurrent's lr is ``${memcap.per_steps:${steps},2,{2: 0.1, 3: 0.03}}``: the resolver must be there
    wherever a config is resolved (memcap.config registers it on import), and only its value identifies the job."""
    args = ["logger=none", "runs=1", "trainer.max_steps=50", "trainer.check_every=25", "model=recurrent", "N=20",
            "DS=20", "steps=2,3"]
    for launcher in ([], ["hydra/launcher=parallel"]):
        out = tmp_path / ("parallel" if launcher else "basic")
        done = subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", *args, *launcher, f"hydra.sweep.dir={out}"],
                              cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        results = [json.loads(p.read_text()) for p in out.glob("*/result.json")]
        assert sorted((r["config"]["steps"], r["config"]["lr"]) for r in results) == [(2, 0.1), (3, 0.03)]


@pytest.mark.parametrize("steps,lr", [(1, 0.1), (2, 0.1), (3, 0.03), (5, 0.03), (None, 0.1)])
def test_per_steps_takes_the_entry_of_the_largest_tabled_step_count_not_above(steps, lr):
    from memcap.config import per_steps

    assert per_steps(steps, 2, {2: 0.1, 3: 0.03}) == lr  # None: the network's own 2 steps
