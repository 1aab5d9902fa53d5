"""The end-of-sweep summary (a Hydra callback, conf/train.yaml), whichever launcher ran the jobs.

Jobs may run in other processes (submitit, joblib), so the summary reads what
they left on disk: every job directory has Hydra's .hydra/ folder, and a job
that finished has a result.json with status "ok". Only this sweep's jobs
count: those whose .hydra/ Hydra wrote after the sweep started (a directory
left by an earlier, longer sweep into the same folder is not this sweep's).
A task the cluster ended without a result (``scancel``; the SLURM launcher,
hydra_plugins/memcap_slurm) may never have made its directory: the launcher
leaves the reason in ``LOST_FILE`` there, and the summary names it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hydra.experimental.callback import Callback

from memcap.results import LOST_FILE
from memcap.status import job_dirs, job_state, lost_reason

# memcap.status's job states, as the end of a sweep counts them: a job not done by then has failed
OUTCOME = {"done": "ok", "training": "running", "failed": "failed", "interrupted": "failed",
           "lost": "missing", "not started": "missing"}


def sweep_status(sweep_dir: Path, since: float | None = None) -> dict[str, list[Path]]:
    """Job directories of a sweep, by outcome (``OUTCOME`` of each one's ``job_state``): ok, failed (its
    error, a malformed result.json, or stopped before its end), running (another runner holds it) or
    missing (no result; ``lost_reason`` says why where the cluster ended it). ``since``: only jobs Hydra
    set up, or the launcher found lost, after it."""
    outcome: dict[str, list[Path]] = {"ok": [], "failed": [], "running": [], "missing": []}
    for job in job_dirs(Path(sweep_dir)):
        if since is None or set_up_at(job) >= since:
            outcome[OUTCOME[job_state(job)[0]]].append(job)
    return outcome


def set_up_at(job: Path) -> float:
    """When this sweep's launcher last touched job directory ``job``: Hydra writes .hydra/overrides.yaml as
    it sets a job up (again on every rerun), the SLURM launcher the lost marker; 0 for neither."""
    marks = [job / ".hydra" / "overrides.yaml", job / LOST_FILE]
    return max((mark.stat().st_mtime for mark in marks if mark.exists()), default=0.0)


class SweepSummary(Callback):
    """Print one line per sweep, and exit non-zero when any of its jobs failed."""

    def __init__(self) -> None:
        self.started: float | None = None

    def on_multirun_start(self, config, **kwargs) -> None:
        self.started = time.time() - 1.0  # file times may be a little coarser than the clock

    def on_multirun_end(self, config, **kwargs) -> None:
        outcome = sweep_status(Path(config.hydra.sweep.dir), since=self.started)
        bad = outcome["failed"] + outcome["missing"]
        total = sum(len(jobs) for jobs in outcome.values())
        elsewhere = f", {len(outcome['running'])} running elsewhere" if outcome["running"] else ""
        print(f"memcap sweep: {total} jobs, {len(outcome['ok'])} ok, {len(bad)} failed{elsewhere} "
              f"-> {config.hydra.sweep.dir}", flush=True)
        for job in bad:
            lost = lost_reason(job)
            print(f"  failed: {job}" + (f" ({lost})" if lost else ""), file=sys.stderr)
        for job in outcome["running"]:
            print(f"  running elsewhere: {job}", file=sys.stderr)
        if bad:
            sys.exit(1)
