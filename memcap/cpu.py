"""How a job's torch uses the CPU: its threads, and subnormal floats taken as zero.

Threads: all of the machine's when a job runs alone, its share when jobs share it.

torch takes every core by default. That is right for one job (2 threads were
1.3-1.9x faster than 1 here on a quiet 2-core machine), and wrong when a
launcher runs several jobs at once on the same cores: each then spins as many
threads as there are cores, and the same jobs ran 2.1-2.3x slower (issue 15's
measurements). ``trainer.threads`` sets the count; null takes the share the
launcher gives: its ``cpus_per_task`` (submitit: SLURM, processes), the
machine's cores over its ``n_jobs`` (joblib: parallel), else every core.

Subnormal floats (below 1.2e-38) cost x86 cores tens of cycles an operation.
Training makes many: once a sigmoid saturates, bce's exp(-|logit|) of a logit
beyond 87 is one, and the late steps of a round slow down (Table 1's N=400
round at DS=1310: about 130 steps a minute before the flush, 1190 after, in
results/report_table1/3/train.log).
``trainer.flush_subnormals`` (true) sets the CPU's flush-to-zero and
denormals-are-zero modes, as TensorFlow does by default: whole jobs ran
2.5-3.2x faster with the same points to the bit (``scripts/bench.py
--subnormals``: benchmarks/subnormals; tests/test_cpu.py). The modes belong to
a thread, and torch's worker threads take them from the thread that starts
them, so they are set before the job's first torch operation;
``subnormals_flushed`` checks every thread.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

log = logging.getLogger("memcap")


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


def subnormals_flushed() -> bool:
    """Whether every torch thread now takes subnormals as zero: a product that is subnormal (1e-40), over
    enough elements that torch splits it between its threads, comes out all zeros."""
    import torch

    return not bool((torch.full((1 << 20,), 1e-20) * 1e-20).any())


def set_job_cpu(threads: int | None, launcher: Mapping[str, Any] | None, flush_subnormals: bool) -> dict:
    """Apply ``job_threads`` and ``flush_subnormals`` to torch, before the job's first torch operation; returns
    what now holds, for result.json's versions: the thread count, and whether every thread flushes subnormals."""
    import torch

    torch.set_flush_denormal(flush_subnormals)  # first: threads started from here on take the mode
    count = job_threads(threads, launcher)
    if count is not None:
        torch.set_num_threads(count)
    flushed = subnormals_flushed()
    if flush_subnormals and not flushed:
        log.warning("subnormal floats are flushed in this process's main thread only: its torch worker threads "
                    "started before the job set the mode (same points, slower); a fresh process flushes in all")
    return {"torch_threads": torch.get_num_threads(), "subnormals_flushed": flushed}
