"""How a job's torch uses the CPU: its threads, and subnormal floats taken as zero.

Threads: all of the machine's when a job runs alone, its share when jobs share it.

torch takes every core by default. That is right for one job (2 threads were
1.3-1.9x faster than 1 on a quiet 2-core machine), and wrong when a
launcher runs several jobs at once on the same cores: each then spins as many
threads as there are cores, and the same jobs ran 2.1-2.3x slower. ``trainer.threads`` sets the count; null takes the share the
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

Threads beside other work: torch's threads wait for each other at the end of
every parallel region, so a job with more threads than idle cores runs at the
pace of its slowest time slice (``make run``, 2 threads, beside a job holding
one of two cores, had not finished after 10 minutes; with
``trainer.threads=1``, 55 s). Choosing the count by the machine's load would
make a job's float reductions depend on the load, so the count stays as
configured and ``warn_if_oversubscribed`` says so once, before the work.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("memcap")


def job_threads(requested: int | None, launcher: Mapping[str, Any] | None, task_default: int | None = None) -> int | None:
    """The thread count for a job under ``launcher`` (Hydra's launcher config), or None: torch's default.

    ``trainer.threads`` first; then the launcher's share of the cores; then the task's own default
    (``THREADS`` in its config module: 1 for the text encoders, whose ops are microseconds of work that
    threads only slow); else torch's default, every core."""
    if requested is not None:
        return requested
    launcher = launcher or {}
    if launcher.get("cpus_per_task"):
        return int(launcher["cpus_per_task"])
    n_jobs = launcher.get("n_jobs")
    if n_jobs:
        cores = len(usable_cores())
        jobs = cores if n_jobs < 0 else n_jobs  # joblib: -1 is one job per core
        return max(1, cores // jobs)
    return task_default


def subnormals_flushed() -> bool:
    """Whether every torch thread now takes subnormals as zero: a product that is subnormal (1e-40), over
    enough elements that torch splits it between its threads, comes out all zeros."""
    import torch

    return not bool((torch.full((1 << 20,), 1e-20) * 1e-20).any())


def set_job_cpu(threads: int | None, launcher: Mapping[str, Any] | None, flush_subnormals: bool,
                task_default: int | None = None) -> dict:
    """Apply ``job_threads`` and ``flush_subnormals`` to torch, before the job's first torch operation; returns
    what now holds, for result.json's versions: the thread count, and whether every thread flushes subnormals."""
    import torch

    torch.set_flush_denormal(flush_subnormals)  # first: threads started from here on take the mode
    count = job_threads(threads, launcher, task_default)
    if count is not None:
        torch.set_num_threads(count)
    flushed = subnormals_flushed()
    if flush_subnormals and not flushed:
        log.warning("subnormal floats are flushed in this process's main thread only: its torch worker threads "
                    "started before the job set the mode (same points, slower); a fresh process flushes in all")
    return {"torch_threads": torch.get_num_threads(), "subnormals_flushed": flushed}


def usable_cores() -> list[int]:
    """The cores this process may run on: its affinity (what SLURM or taskset allow), else every core."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


def _idle_ticks(cores: list[int], stat: Path) -> tuple[int, int]:
    """Idle (idle + iowait) and total clock ticks summed over ``cores``, from /proc/stat's per-CPU lines."""
    idle = total = 0
    wanted = {f"cpu{c}" for c in cores}
    for line in stat.read_text().splitlines():
        name, *ticks = line.split()
        if name in wanted:
            values = [int(t) for t in ticks[:8]]  # user nice system idle iowait irq softirq steal
            idle += values[3] + values[4]
            total += sum(values)
    return idle, total


def idle_cores(seconds: float = 0.1, stat: Path = Path("/proc/stat")) -> float | None:
    """How many of this process's cores other work leaves idle, sampled over ``seconds``; None where
    /proc/stat is missing (not Linux). This process's own time in the interval (a previous job's threads
    still spinning) counts as idle: it is not other work."""
    if not stat.exists():
        return None
    cores = usable_cores()
    idle0, total0 = _idle_ticks(cores, stat)
    own0 = time.process_time()
    time.sleep(seconds)
    idle1, total1 = _idle_ticks(cores, stat)
    own = time.process_time() - own0
    ticks = total1 - total0
    if ticks <= 0:
        return None
    busy_share = max(0.0, (ticks - (idle1 - idle0)) / ticks - own / (seconds * len(cores)))
    return len(cores) * (1.0 - busy_share)


def warn_if_beyond_cores(threads: int | None) -> bool:
    """Log one warning, before any work, when ``trainer.threads`` asks for more threads than this process's
    cores; returns whether it did. Not refused: the count is the user's, and the points do not depend on it."""
    cores = len(usable_cores())
    if threads is None or threads <= cores:
        return False
    log.warning("trainer.threads=%d, but this process may use %d core(s): the threads beyond them only wait for each "
                "other at every step (up to 10x slower); trainer.threads=%d or null fits", threads, cores, cores)
    return True


def warn_if_oversubscribed(threads: int, idle: float | None) -> bool:
    """Log one warning when a job's ``threads`` exceed the ``idle`` cores (``idle_cores``); returns whether
    it did. One thread never waits for another, so it is never warned about."""
    if idle is None or threads <= 1 or threads <= idle + 0.5:
        return False
    advice = max(1, round(idle))
    log.warning("this job runs %d torch threads but only about %.1f of the machine's %d cores are idle: threads "
                "that share a core wait for each other at every step (a job beside another ran many times "
                "slower); trainer.threads=%d fits what is free (the count is not chosen by load: it would change "
                "the floats)", threads, idle, len(usable_cores()), advice)
    return True
