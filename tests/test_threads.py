"""A job's CPU threads: every core alone, the launcher's share when jobs share the machine (memcap.threads)."""

import os

import pytest
import torch

from memcap.threads import job_threads, set_job_threads

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


def test_set_job_threads_applies_and_reports():
    before = torch.get_num_threads()
    try:
        assert set_job_threads(1, None) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
