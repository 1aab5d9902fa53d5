"""How many CPU threads a job's torch gets: all of the machine's when it runs alone, its share when jobs share it.

torch takes every core by default. That is right for one job (2 threads were
1.3-1.9x faster than 1 here on a quiet 2-core machine), and wrong when a
launcher runs several jobs at once on the same cores: each then spins as many
threads as there are cores, and the same jobs ran 2.1-2.3x slower (issue 15's
measurements). ``trainer.threads`` sets the count; null takes the share the
launcher gives: its ``cpus_per_task`` (submitit: SLURM, processes), the
machine's cores over its ``n_jobs`` (joblib: parallel), else every core.
"""

from __future__ import annotations

import os
from typing import Any, Mapping


def job_threads(requested: int | None, launcher: Mapping[str, Any] | None) -> int | None:
    """The thread count for a job under ``launcher`` (Hydra's launcher config), or None: torch's default."""
    if requested is not None:
        return requested
    launcher = launcher or {}
    if launcher.get("cpus_per_task"):
        return int(launcher["cpus_per_task"])
    n_jobs = launcher.get("n_jobs")
    if n_jobs:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        jobs = cores if n_jobs < 0 else n_jobs  # joblib: -1 is one job per core
        return max(1, cores // jobs)
    return None


def set_job_threads(requested: int | None, launcher: Mapping[str, Any] | None) -> int:
    """Apply ``job_threads`` to torch; returns the count torch now uses (recorded in result.json's versions)."""
    import torch

    threads = job_threads(requested, launcher)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
