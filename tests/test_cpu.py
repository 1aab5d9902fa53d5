"""How a job's torch uses the CPU (memcap.cpu): its threads (every core alone, the launcher's share when jobs
share the machine), and subnormal floats flushed to zero in every thread, with the same points as without."""

import json
import os
import subprocess
import sys

import pytest
import torch

from memcap.cpu import job_threads, set_job_cpu
from tests.helpers import ROOT

CORES = len(os.sched_getaffinity(0))


@pytest.mark.parametrize("requested,launcher,expected", [
    (3, {"n_jobs": 2}, 3),                                  # trainer.threads wins
    (None, {"cpus_per_task": 1, "n_jobs": None}, 1),        # submitit (SLURM, processes): its cpus_per_task
    (None, {"n_jobs": 2}, max(1, CORES // 2)),              # joblib: the cores over the jobs at once
    (None, {"n_jobs": -1}, 1),                              # joblib's -1: a job per core
    (None, {"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}, None),  # alone: torch's default
    (None, None, None),                                     # no Hydra (the Python API)
])
def test_job_threads(requested, launcher, expected):
    assert job_threads(requested, launcher) == expected


def test_set_job_cpu_applies_and_reports():
    before = torch.get_num_threads()
    try:
        assert set_job_cpu(1, None, False) == {"torch_threads": 1, "subnormals_flushed": False}
        assert torch.get_num_threads() == 1 and torch.tensor(1e-20) * 1e-20 > 0  # a subnormal, kept
        assert set_job_cpu(1, None, True) == {"torch_threads": 1, "subnormals_flushed": True}
        assert torch.tensor(1e-20) * 1e-20 == 0
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)


def test_a_fresh_job_process_flushes_subnormals_in_every_thread():
    """The modes are a thread's: set before torch starts its workers, the workers take them too."""
    probe = ("import torch; from memcap.cpu import set_job_cpu, subnormals_flushed; "
             "print(set_job_cpu(2, None, True)['subnormals_flushed'])")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert shown.stdout.split() == ["True"], shown.stderr[-2000:]


# A job whose training makes subnormals and runs on with them: bce's exp(-|logit|) once sigmoids saturate,
# near capacity, to the step cap (slower without the flush: benchmarks/subnormals has larger jobs' times).
SUBNORMAL_JOB = ["N=60", "DS=190", "loss=bce", "runs=3", "trainer.max_steps=3000"]


def test_flushing_subnormals_leaves_every_point_as_it_was(tmp_path):
    """trainer.flush_subnormals is outside a job's identity because it changes no point: the same counts,
    losses to the bit and stops, each job in a fresh process as train.py runs it. (Larger jobs, too long
    for a test: `python scripts/bench.py --subnormals` checks their points as well.)"""
    points = {}
    for flush in ("false", "true"):
        run = tmp_path / flush
        done = subprocess.run([sys.executable, str(ROOT / "train.py"), *SUBNORMAL_JOB, "logger=none",
                               "trainer.threads=1", f"trainer.flush_subnormals={flush}", f"hydra.run.dir={run}"],
                              cwd=ROOT, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads((run / "result.json").read_text())
        assert result["versions"]["subnormals_flushed"] is (flush == "true")
        points[flush] = [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]]
    assert points["true"] == points["false"]


def _stat(busy0: int, busy1: int, idle0: int, idle1: int) -> str:
    """/proc/stat's per-CPU lines (user nice system idle iowait irq softirq steal) for cores 0 and 1."""
    return (f"cpu  {busy0 + busy1} 0 0 {idle0 + idle1} 0 0 0 0\n"
            f"cpu0 {busy0} 0 0 {idle0} 0 0 0 0 0 0\ncpu1 {busy1} 0 0 {idle1} 0 0 0 0 0 0\nintr 1 2 3\n")


def test_idle_cores_counts_the_cores_other_work_leaves(tmp_path, monkeypatch):
    """Over the sample core 0 was busy all 100 ticks, core 1 idle for 75 of its 100: 1.25 busy, 0.75 idle."""
    import memcap.cpu as cpu

    stat = tmp_path / "stat"
    stat.write_text(_stat(1000, 1000, 500, 500))
    monkeypatch.setattr(cpu, "usable_cores", lambda: [0, 1])
    monkeypatch.setattr(cpu.time, "sleep", lambda seconds: stat.write_text(_stat(1100, 1025, 500, 575)))
    assert cpu.idle_cores(0.1, stat) == pytest.approx(0.75, abs=0.01)
    assert cpu.idle_cores(0.1, tmp_path / "missing") is None  # not Linux: nothing to say


@pytest.mark.parametrize("threads,idle,warned", [
    (2, 1.0, True),     # one core taken by other work: the second thread waits on it
    (2, 1.9, False),    # a quiet machine
    (4, 3.0, True),
    (1, 0.0, False),    # one thread waits for no other
    (2, None, False),   # nothing measured
])
def test_a_job_with_more_threads_than_idle_cores_is_warned_once(threads, idle, warned, caplog):
    from memcap.cpu import warn_if_oversubscribed

    with caplog.at_level("WARNING", logger="memcap"):
        assert warn_if_oversubscribed(threads, idle) is warned
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == int(warned)
    if warned:
        assert f"runs {threads} torch threads" in lines[0] and f"trainer.threads={max(1, round(idle))}" in lines[0]


def test_idle_cores_sees_real_work_on_every_core():
    """A busy loop on each of this process's cores leaves (almost) none idle; this process's own time is not
    other work. Each loop is pinned to its core and says when it spins: the sample starts after they all do."""
    from memcap.cpu import idle_cores

    loop = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])}); print('spinning', flush=True)\nwhile True: pass"
    loops = [subprocess.Popen([sys.executable, "-c", loop, str(core)], stdout=subprocess.PIPE, text=True)
             for core in sorted(os.sched_getaffinity(0))]
    try:
        assert [p.stdout.readline().strip() for p in loops] == ["spinning"] * CORES  # every loop is running
        idle = idle_cores(0.5)
    finally:
        for p in loops:
            p.kill()
            p.wait()
            p.stdout.close()
    assert idle is not None and idle < 0.5, idle


def test_a_text_job_takes_its_tasks_one_thread_unless_told_otherwise(make_cfg, tmp_path):
    """The thread policy is memcap.cpu's for both tasks: a text job without trainer.threads and outside a launcher
    runs the text task's default (1), and honours trainer.threads when it is set."""
    from memcap.lifecycle import run_job

    text = ("data=text", "search=memorize", "text.source=random", "runs=1", "model=rnn", "model.hidden=4",
            "text.length=4", "text.heldout=64", "search.min_count=4", "search.max_count=8", "search.max_steps=20",
            "search.lrs=[0.03]")
    alone = run_job(make_cfg(*text), tmp_path / "default", "test")
    told = run_job(make_cfg(*text, "trainer.threads=2"), tmp_path / "two", "test")
    assert alone["versions"]["torch_threads"] == 1
    assert told["versions"]["torch_threads"] == 2


@pytest.mark.parametrize("job", [
    ("search.step=20", "search.max_ds=80"),  # a capacity search
    ("DS=60", "search.oracle=true", "search.oracle_iterations=3"),  # past capacity: the oracle's LPs decide
    ("search.decide=solver", "search.step=10", "search.max_ds=80", "search.oracle_iterations=2",
     "search.oracle_nodes=200"),  # every point decided by LPs, PDLP's certificates among them
], ids=["search", "oracle", "solver"])
def test_a_job_gives_the_same_points_and_metrics_on_a_quiet_and_on_a_busy_machine(make_cfg, tmp_path, job):
    """A job run alone and then beside a busy loop on every core: every point and metric but the seconds is the
    same, to the bit (no limit that shapes a result is in seconds)."""
    from memcap.lifecycle import run_job

    cfg = make_cfg("N=20", "runs=2", "trainer.max_steps=300", "trainer.check_every=50", "trainer.threads=1", *job)
    quiet = run_job(cfg, tmp_path / "quiet", "test")
    loop = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])}); print('spinning', flush=True)\nwhile True: pass"
    loops = [subprocess.Popen([sys.executable, "-c", loop, str(core)], stdout=subprocess.PIPE, text=True)
             for core in sorted(os.sched_getaffinity(0))]
    try:
        assert [p.stdout.readline().strip() for p in loops] == ["spinning"] * CORES
        busy = run_job(cfg, tmp_path / "busy", "test")
    finally:
        for p in loops:
            p.kill()
            p.wait()
            p.stdout.close()

    def untimed(result: dict) -> tuple:
        points = [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]]
        metrics = {k: v for k, v in result["metrics"].items() if "seconds" not in k}
        return points, metrics, result["job"]

    assert quiet["status"] == busy["status"] == "ok"
    if "oracle_status_runs" in quiet["metrics"]:
        assert "trained" not in quiet["metrics"]["oracle_status_runs"]  # the LPs ran on every dataset
    assert untimed(quiet) == untimed(busy)
