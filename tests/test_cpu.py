"""How a job's torch uses the CPU (memcap.cpu): its threads (every core alone, the launcher's share when jobs
share the machine), and subnormal floats flushed to zero in every thread, with the same points as without."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from memcap.cpu import job_threads, set_job_cpu

ROOT = Path(__file__).resolve().parents[1]

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
                               "trainer.threads=2", f"trainer.flush_subnormals={flush}", f"hydra.run.dir={run}"],
                              cwd=ROOT, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads((run / "result.json").read_text())
        assert result["versions"]["subnormals_flushed"] is (flush == "true")
        points[flush] = [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]]
    assert points["true"] == points["false"]
