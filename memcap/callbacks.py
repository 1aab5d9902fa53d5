"""Hydra callbacks: the end-of-sweep summary, whichever launcher ran the jobs.

Jobs may run in other processes (submitit, joblib), so the summary reads what
they left on disk: every job directory has Hydra's .hydra/ folder, and a job
that finished has a result.json with status "ok". Only this sweep's jobs
count: those whose .hydra/ Hydra wrote after the sweep started (a directory
left by an earlier, longer sweep into the same folder is not this sweep's).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout
from hydra.experimental.callback import Callback

from memcap.results import LOCK_FILE, RESULT_FILE, read_result


def held_elsewhere(job: Path) -> bool:
    """Whether another process holds the job directory's lock (it is training that job now)."""
    if not (job / LOCK_FILE).exists():
        return False
    try:
        with FileLock(job / LOCK_FILE, timeout=0):
            return False
    except Timeout:
        return True


def sweep_status(sweep_dir: Path, since: float | None = None) -> dict[str, list[Path]]:
    """Job directories of a sweep, by outcome: ok, failed (result.json says so or is malformed),
    running (another runner holds it) or missing (no result). ``since``: only jobs Hydra set up after it."""
    outcome: dict[str, list[Path]] = {"ok": [], "failed": [], "running": [], "missing": []}
    for hydra_dir in sorted(Path(sweep_dir).glob("*/.hydra")):
        job = hydra_dir.parent
        if since is not None and (hydra_dir / "overrides.yaml").stat().st_mtime < since:
            continue
        result = read_result(job / RESULT_FILE)
        status = result.get("status") if isinstance(result, dict) else None
        if status == "ok":
            outcome["ok"].append(job)
        elif held_elsewhere(job):
            outcome["running"].append(job)
        elif status is not None or not result.startswith("missing"):
            outcome["failed"].append(job)
        else:
            outcome["missing"].append(job)
    return outcome


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
            print(f"  failed: {job}", file=sys.stderr)
        for job in outcome["running"]:
            print(f"  running elsewhere: {job}", file=sys.stderr)
        if bad:
            sys.exit(1)
