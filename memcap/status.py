"""``memcap status SWEEP_DIR ...``: where each job of a long sweep stands, read from its files alone.

A sweep of hours resumes after an interruption: rerunning its command skips the
finished jobs and continues an interrupted one from its recorded rounds and
mid-round checkpoint. Before rerunning (or while another process runs it) one
wants to see which jobs are done, which one is training now, which wait to
resume, and where each search got to. Every job directory already says it:
result.json its status, attempts and job time; the lock whether a process
holds it now; train.log its last progress line. This module reads them, starts
nothing, and imports no torch, so it answers in a moment on a login node.
"""

from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from memcap.formatting import duration
from memcap.results import LOCK_FILE, LOST_FILE, RESULT_FILE, read_result

LOG_LINE = re.compile(r"^\[(?P<time>[\d-]+ [\d:]+),\d+\]\[[^]]*\]\[\w+\] - (?P<message>.*)$")
# A finished job's summary line (memcap.lifecycle.Job.summary): "memcap <network and config> seed=S: <answer>; <s>s -> <path>".
# The table shows only the answer: its other columns already name the job, its time and its directory.
SUMMARY_LINE = re.compile(r"^memcap .*? seed=-?\d+: (?P<answer>.*?)(; [\d.]+s -> .*)?$")
STATES = ("done", "training", "interrupted", "failed", "lost", "not started")


@dataclass
class JobStatus:
    job: Path
    state: str  # one of STATES
    config: dict  # the job's flat config ({} when it has no result yet)
    attempts: int
    job_seconds: float  # summed over its attempts, as result.json records it
    latest: str  # its train.log's last line (the summary line once done), or why it failed or was lost
    latest_age: float | None  # seconds since that line was written


def lost_reason(job: Path) -> str | None:
    try:
        return (job / LOST_FILE).read_text().strip()
    except OSError:
        return None


def held_elsewhere(job: Path) -> bool:
    """Whether another process holds the job directory's lock (it is training that job now)."""
    if not (job / LOCK_FILE).exists():
        return False
    try:
        with FileLock(job / LOCK_FILE, timeout=0):
            return False
    except Timeout:
        return True


def job_state(job: Path) -> tuple[str, dict | str]:
    """Where job directory ``job`` stands (one of STATES), and its result: the dict in result.json, or why
    there is none (``read_result``'s line: missing or malformed). The one place a job's state is decided:
    ``memcap status`` shows it, and the end-of-sweep summary (memcap.sweep_summary) counts it."""
    result = read_result(job / RESULT_FILE)
    status = result.get("status") if isinstance(result, dict) else None
    if status == "ok":
        return "done", result
    if held_elsewhere(job):  # a first attempt, a resumed one, or a rerun of a failed one
        return "training", result
    if status == "failed" or (status is None and not result.startswith("missing")):
        return "failed", result  # the job's own error, or a result.json that cannot be read
    if status is not None:
        return "interrupted", result  # a result of its rounds so far, and nobody training it
    return ("lost" if lost_reason(job) else "not started"), result


def job_dirs(sweep_dir: Path) -> list[Path]:
    """The job directories under ``sweep_dir``: those Hydra set up, wrote a result in, or the cluster lost.
    Numbered ones (Hydra's job numbers) in numeric order."""
    marks = [*sweep_dir.glob(f"*/{RESULT_FILE}"), *sweep_dir.glob("*/.hydra"), *sweep_dir.glob(f"*/{LOST_FILE}")]
    return sorted({mark.parent for mark in marks}, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name))


def sweep_sizes(sweep_dir: Path) -> dict[str, int] | None:
    """Each override of the sweep's command and how many values it sweeps (1: a fixed value), from the
    multirun.yaml Hydra writes beside the jobs (the command line's over the sweeper's ``params``, as Hydra's
    basic sweeper takes them). None without that file (a copy under results/) or for another sweeper."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    try:
        hydra = OmegaConf.load(sweep_dir / "multirun.yaml").hydra
        if not str(hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
            return None
        given = [f"{key}={value}" for key, value in (hydra.sweeper.get("params") or {}).items()]
        overrides = OverridesParser.create().parse_overrides([*given, *hydra.overrides.task])
    except Exception:  # no file, or one this reader does not understand: say nothing rather than a wrong count
        return None
    return {o.get_key_element(): len(list(o.sweep_string_iterator())) if o.is_sweep_override() else 1
            for o in overrides}


def planned_jobs(sweep_dir: Path) -> int | None:
    """How many jobs the sweep's command asks for: the product of its sweep overrides' lengths."""
    sizes = sweep_sizes(sweep_dir)
    return None if sizes is None else math.prod(sizes.values())


def swept_values(sweep_dir: Path, jobs: list[Path]) -> dict[Path, str] | None:
    """Each job's values of the keys its sweep varies, as the command line names them (``model.activation=tanh
    seed=1``), from the job's .hydra/overrides.yaml: what tells the jobs apart before most of them have a
    result. None where the sweep's command is not known or a job has no overrides file."""
    from omegaconf import OmegaConf

    sizes = sweep_sizes(sweep_dir)
    swept = [key for key, n in (sizes or {}).items() if n > 1]
    if not swept or not all((job / ".hydra" / "overrides.yaml").exists() for job in jobs):
        return None
    shown = {}
    for job in jobs:
        given = dict(item.split("=", 1) for item in OmegaConf.load(job / ".hydra" / "overrides.yaml") if "=" in item)
        shown[job] = " ".join(f"{key}={given[key]}" for key in swept if key in given)
    return shown


def last_log_line(job: Path, prefer: str = "") -> tuple[str, float | None]:
    """The message of the last memcap line in the job's train.log (of the last starting with ``prefer``,
    where there is one), and how long ago it was written."""
    try:
        lines = (job / "train.log").read_text(errors="replace").splitlines()
    except OSError:
        return "", None
    matches = [match for match in map(LOG_LINE.match, lines) if match]
    chosen = [match for match in matches if match["message"].startswith(prefer)] if prefer else []
    if not (chosen or matches):
        return "", None
    match = (chosen or matches)[-1]
    written = time.mktime(time.strptime(match["time"], "%Y-%m-%d %H:%M:%S"))
    return match["message"].strip(), max(0.0, time.time() - written)


def job_status(job: Path) -> JobStatus:
    state, result = job_state(job)
    latest, age = last_log_line(job, prefer="memcap " if state == "done" else "")  # a finished job's summary line
    summary = SUMMARY_LINE.match(latest) if state == "done" else None
    latest = summary["answer"] if summary else latest
    if not isinstance(result, dict):  # no result.json, or a malformed one
        reason = lost_reason(job) if state == "lost" else latest if state == "training" else result
        return JobStatus(job, state, {}, 0, 0.0, reason, age)
    if state == "failed":
        latest = result.get("error") or latest
    return JobStatus(job, state, result.get("config") or {}, result.get("attempts") or 1,
                     float(result.get("wall_time") or 0.0), latest, age)


def varying(statuses: list[JobStatus]) -> list[str]:
    """The config keys whose values differ between the jobs: what tells them apart."""
    keys = list(dict.fromkeys(key for s in statuses for key in s.config))
    return [key for key in keys if len({repr(s.config.get(key)) for s in statuses if s.config}) > 1]


def render(sweep_dir: Path, console) -> dict[str, int]:
    """Print ``sweep_dir``'s jobs as a table on ``console`` (rich); returns the count of jobs per state."""
    from rich.markup import escape
    from rich.table import Table

    statuses = [job_status(job) for job in job_dirs(sweep_dir)]
    keys = varying(statuses) or ["model", "N"]
    swept = swept_values(sweep_dir, [s.job for s in statuses])  # the command line's names, where it is known
    table = Table(title=str(sweep_dir), title_justify="left")
    # The last line is what a user watches (a job's progress, or its result): in an 80-column terminal
    # the config column wraps to leave it room (with every other column unwrapped, rich squeezed it to nothing).
    table.add_column("job", no_wrap=True)
    table.add_column("swept" if swept else " ".join(keys), overflow="fold")
    for column in ("state", "tries", "job time"):
        table.add_column(column, no_wrap=True)
    table.add_column("last line (written)", overflow="fold", ratio=1)
    style = {"done": "green", "training": "cyan", "interrupted": "yellow", "failed": "red", "lost": "red"}
    for s in statuses:
        # Configs and log lines are text, not markup: an error that quotes "[/tmp/x]" would otherwise
        # be read as a closing tag and abort the whole table.
        config = escape(swept[s.job] if swept else " ".join(f"{key}={s.config[key]}" for key in keys if key in s.config))
        table.add_row(s.job.name, config, f"[{style[s.state]}]{s.state}" if s.state in style else s.state,
                      str(s.attempts or ""), duration(s.job_seconds) if s.job_seconds else "",
                      escape(s.latest) + (f" [dim]({duration(s.latest_age)} ago)" if s.latest_age is not None else ""))
    console.print(table)
    counts = {state: sum(s.state == state for s in statuses) for state in STATES}
    planned = planned_jobs(sweep_dir)
    if planned is not None and planned > len(statuses):
        counts["not started"] += planned - len(statuses)  # jobs the launcher has not reached yet
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    total = sum(counts.values())
    console.print(f"{total} job{'' if total == 1 else 's'}: {summary or 'none found'}", highlight=False)
    if counts["interrupted"] or counts["not started"]:
        console.print("rerun the sweep's command to resume: finished jobs are skipped, interrupted ones continue",
                      highlight=False)
    return counts


def main(argv: list[str]) -> int:
    """``memcap status SWEEP_DIR ...``; exit 2 when a directory has no job in it."""
    import argparse

    from rich.console import Console

    parser = argparse.ArgumentParser(prog="memcap status", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dirs", nargs="+", type=Path, metavar="SWEEP_DIR")
    args = parser.parse_args(argv)
    console, empty = Console(), []
    for sweep_dir in args.sweep_dirs:
        if not sweep_dir.is_dir():
            empty.append(f"{sweep_dir}: not a directory")
        elif not job_dirs(sweep_dir):
            empty.append(f"{sweep_dir}: no job directory in it (none with {RESULT_FILE}, .hydra/ or {LOST_FILE})")
        else:
            render(sweep_dir, console)
    for line in empty:
        print(f"memcap status: {line}", file=sys.stderr)
    return 2 if empty else 0
