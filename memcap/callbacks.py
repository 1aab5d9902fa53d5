"""Hydra callbacks: the end-of-sweep summary, whichever launcher ran the jobs.

Jobs may run in other processes (submitit, joblib), so the summary reads what
they left on disk: every job directory has Hydra's .hydra/ folder, and a job
that finished has a result.json with status "ok".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hydra.experimental.callback import Callback

from memcap.results import RESULT_FILE


def sweep_status(sweep_dir: Path) -> dict[str, list[Path]]:
    """Job directories of a sweep, by outcome: ok, failed (result.json says so) or missing (no result)."""
    outcome: dict[str, list[Path]] = {"ok": [], "failed": [], "missing": []}
    for job in sorted(p.parent for p in sweep_dir.glob("*/.hydra")):
        try:
            status = json.loads((job / RESULT_FILE).read_text()).get("status")
        except (OSError, ValueError):
            status = None
        outcome["ok" if status == "ok" else "failed" if status is not None else "missing"].append(job)
    return outcome


class SweepSummary(Callback):
    """Print one line per sweep, and exit non-zero when any job failed."""

    def on_multirun_end(self, config, **kwargs) -> None:
        outcome = sweep_status(Path(config.hydra.sweep.dir))
        bad = outcome["failed"] + outcome["missing"]
        total = len(bad) + len(outcome["ok"])
        print(f"memcap sweep: {total} jobs, {len(outcome['ok'])} ok, {len(bad)} failed -> {config.hydra.sweep.dir}",
              flush=True)
        for job in bad:
            print(f"  failed: {job}", file=sys.stderr)
        if bad:
            sys.exit(1)
