"""One job, whatever its task: the lifecycle written once.

    run_job(cfg, out_dir, group)
      task's validate(cfg), prepare(cfg)   # one ConfigError per bad key, before any work
      Job(...) .lock()                     # one runner per job directory (filelock)
      job.begin()                          # skip if finished with this identity; resume its points
      task's run(job, data)                # the work: search rounds of groups of members
        job.run_groups(groups, fit_group)  # a recorded group is reused, a new one is trained
          fit_group(group, job.fit(...))   # Lightning fit, mid-round checkpoints, progress lines
          job.save()                       # result.json rewritten atomically after every group
      job.finish(...)                      # status, wall time over every attempt, W&B summary, the sweep's index
    Ctrl-C or SIGTERM during the work: result.json saved as running (its points, its wall time), to resume

A job is identified by its whole resolved config (memcap.config.identity),
stored in result.json with a short hash: a rerun skips only a job whose
identity matches, and a result of another identity found in the directory is
kept under ``result.<hash>.json``, never overwritten. Finished results are
also linked into the sweep's index (``<sweep>/.memcap/results/<hash>.json``),
so a job whose values moved to another job number (a reordered sweep) finds
its result there instead of training again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from memcap import tasks
from memcap.config import ConfigError, identity, identity_hash
from memcap.fitting import Fit
from memcap.results import (
    LOCK_FILE,
    LOST_FILE,
    RESULT_FILE,
    read_result,
    remove_stale_temporaries,
    versions,
    write_json_atomic,
)

log = logging.getLogger("memcap")

HOLDER_FILE = ".memcap.lock.holder"
INDEX_DIR = Path(".memcap") / "results"

Member = tuple[int, int]  # (the searched value: DS or H, run)


class Job:
    """One job's directory, identity, lock, logger, timer, recorded points and checkpoints."""

    def __init__(self, cfg, out_dir: Path, group: str | Path, task: str, config: dict, key: str):
        self.cfg, self.dir, self.group, self.task, self.key = cfg, Path(out_dir), Path(group), task, key
        self.identity = identity(cfg)
        self.hash = identity_hash(self.identity)
        self.path = self.dir / RESULT_FILE
        # The sweep's index of finished results: in the sweep (or run) directory that holds this job's.
        root = self.group if self.dir.resolve().is_relative_to(self.group.resolve()) else self.dir
        self.index = root / INDEX_DIR
        self.checkpoint_path = self.dir / f"checkpoint.{self.hash}.ckpt"
        self.logger: Any = False
        self.start = time.perf_counter()
        self.earlier_wall_time = 0.0
        self.logged_steps = 0  # the step caps of the groups seen so far, trained or reused: the W&B step offset
        self.rounds = 0
        self.phase = ""  # the search's phase, when it has several ("perfect recall", "capacity"): progress names it
        self.result: dict[str, Any] = {
            "status": "running", "error": None, "config": config, "metrics": {}, "points": [],
            "versions": versions(), "wall_time": 0.0, "job": self.hash, "identity": self.identity,
            "wall_time_last": 0.0, "attempts": 1,
        }

    # -- the lifecycle --------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[bool]:
        """Hold the job directory's lock for the block; yields False (and says who holds it) when it is taken.

        The lock is an OS file lock (filelock): a runner that dies releases it,
        so a killed job never blocks the next runner.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.dir / LOCK_FILE, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            log.info("running elsewhere, skipped: %s (held by %s)", self.dir, self.holder())
            yield False
            return
        try:
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
            (self.dir / HOLDER_FILE).write_text(json.dumps(holder))
            yield True
        finally:
            lock.release()

    def holder(self) -> str:
        try:
            holder = json.loads((self.dir / HOLDER_FILE).read_text())
            return f"pid {holder['pid']} on {holder['host']} since {holder['since']}"
        except (OSError, ValueError, KeyError):
            return "another process"

    def begin(self) -> dict | None:
        """Take up what earlier attempts left: the finished result (returned: nothing to do), or its points.

        A result.json of another identity, or a malformed one, is kept beside
        (``result.<hash>.json``, ``result.malformed-<time>.json``) with one line saying so.
        """
        remove_stale_temporaries(self.dir)
        (self.dir / LOST_FILE).unlink(missing_ok=True)  # this attempt takes up a job the cluster ended
        previous = read_result(self.path)
        if isinstance(previous, str):
            if not previous.startswith("missing"):
                self._keep_aside(f"result.malformed-{time.strftime('%Y%m%d-%H%M%S')}.json", previous)
        elif previous.get("job") != self.hash:
            other = previous.get("job") or "unidentified"
            self._keep_aside(f"result.{other}.json", "it is the result of another config")
        elif previous["status"] == "ok":
            self._index(previous)  # a result copied in from elsewhere joins the index (a moved job finds it)
            log.info("complete, skipped: %s", self.path)
            return previous
        else:
            self.result["points"] = previous["points"]
            self.result["metrics"] = previous["metrics"]
            self.earlier_wall_time = previous["wall_time"]
            self.result["attempts"] = (previous.get("attempts") or 1) + 1
            log.info("resuming %s: %d points recorded", self.path, len(self.result["points"]))
            return None
        indexed = read_result(self.index / f"{self.hash}.json")
        if isinstance(indexed, dict) and indexed.get("job") == self.hash and indexed["status"] == "ok":
            write_json_atomic(self.path, indexed)
            log.info("complete in this sweep's index, skipped: %s", self.path)
            return indexed
        return None

    def wandb_id(self) -> str:
        """The job's W&B run id: its identity within its sweep (the same job in another sweep is another run)."""
        return identity_hash({"group": str(self.group.resolve()), "job": self.hash})

    def _keep_aside(self, name: str, why: str) -> None:
        target = self.dir / name
        os.replace(self.path, target)
        log.warning("kept %s as %s (%s)", self.path, target.name, why)

    @contextmanager
    def recorded(self) -> Iterator[None]:
        """Close the result around the work: "ok" when the block ends, "failed" with the reason when it
        raises (and re-raise); either way save it and mirror it to the logger. A ConfigError found during
        the work (a text source that does not exist) writes nothing, as one found before it does."""
        try:
            yield
        except ConfigError:
            raise
        except Exception as error:
            self.result["status"], self.result["error"] = "failed", f"{type(error).__name__}: {error}"
            self._close()
            raise
        except BaseException:  # interrupted (Ctrl-C, SIGTERM; Lightning turns either into SystemExit in a fit)
            self._close()
            log.warning("interrupted: %s saved as running; the same command resumes it", self.path)
            raise
        self.result["status"] = "ok"
        self._close()
        self._index()

    def _close(self) -> None:
        from memcap.loggers import finish_logger

        self.save()
        finish_logger(self.logger, self.result)
        if self.result["status"] != "running":
            self.checkpoint_path.unlink(missing_ok=True)

    def summary(self, line: str) -> str:
        """The task's summary ``line`` with the job's wall time and where its result is."""
        where = os.path.relpath(self.path) if self.path.resolve().is_relative_to(Path.cwd()) else str(self.path)
        return f"{line}; {self.result['wall_time']:.1f}s -> {where}"

    def save(self) -> None:
        """Stamp the wall time (every attempt's, and the last one's apart) and write result.json atomically."""
        last = time.perf_counter() - self.start
        self.result["wall_time_last"] = round(last, 3)
        self.result["wall_time"] = round(self.earlier_wall_time + last, 3)
        write_json_atomic(self.path, self.result)

    def _index(self, result: dict | None = None) -> None:
        """Link the finished result (this job's, or ``result`` found in its directory) into the sweep's index
        (a hard link: it survives the file's replacement)."""
        index = self.index / f"{self.hash}.json"
        try:
            index.parent.mkdir(parents=True, exist_ok=True)
            index.unlink(missing_ok=True)
            os.link(self.path, index)
        except OSError:
            write_json_atomic(index, result or self.result)

    # -- the work's units -------------------------------------------------------
    def recorded_points(self, key: str | None = None, phase: str | None = None) -> dict[Member, dict]:
        """The points recorded so far, by member; ``phase``: those of that phase only (see ``run_groups``)."""
        key = key or self.key
        return {(p[key], p["run"]): p for p in self.result["points"] if p.get("phase") == phase}

    def run_groups(self, groups: Sequence[list[Member]], fit_group: Callable[[list[Member], Fit], list[dict]],
                   record: bool = True, checkpoint: bool = True, max_steps: int | None = None,
                   key: str | None = None, phase: str | None = None) -> list[dict]:
        """Each group's points: recorded ones reused, the others trained by ``fit_group`` and saved at once.

        ``record=False`` (pruning rounds, whose unit is the round) trains every
        group and leaves recording to the caller; ``checkpoint=False`` trains
        without mid-round checkpoints. ``key``: the point field a member's value
        is (None: the task's, ``self.key``); the text state search varies the
        width, L or count, and says which per call. ``phase``: a second training of members the job has points
        for already (the capacity search's settling, memcap.search.SETTLE): its points carry ``phase`` and are
        recorded beside the first ones, not in their place.
        """
        key = key or self.key
        points = []
        steps = max_steps or self.cfg.trainer.max_steps
        for group in groups:
            members = [tuple(m) for m in group]
            known = self.recorded_points(key, phase) if record else {}
            if all(m in known for m in members):
                points += [known[m] for m in members]
                self.logged_steps += steps
                continue
            values = sorted({value for value, _ in members})
            log.info("training %s=%s x %d runs (%d members)", key, values,
                     len({run for _, run in members}), len(members))
            fit = self.fit(members, steps, checkpoint, key, phase)
            new = [{**p, "phase": phase} for p in fit_group(group, fit)] if phase else fit_group(group, fit)
            self.logged_steps += steps
            if record:  # a group partly recorded by a killed attempt is retrained whole: its points replace those
                retrained = set(members)
                self.result["points"] = [p for p in self.result["points"]
                                         if (p[key], p["run"]) not in retrained or p.get("phase") != phase] + new
                self.save()
            self.checkpoint_path.unlink(missing_ok=True)
            points += new
        return points

    def set_phase(self, phase: str) -> None:
        self.phase = phase

    def log_round(self, scores: dict[int, list], key: str | None = None) -> None:
        """One line per search round (its phase, each value's best score over the runs), one W&B row per value
        (``key``: as in ``run_groups``)."""
        from memcap.loggers import log_search_round

        key = key or self.key
        self.rounds += 1
        log.info("round %d%s: %s", self.rounds, f" ({self.phase})" if self.phase else "",
                 ", ".join(f"{key}={value} best {max(runs):g}" for value, runs in scores.items()))
        log_search_round(self.logger, key, self.rounds, scores)

    def fit(self, members: list[Member], max_steps: int, checkpoint: bool = True, key: str | None = None,
            phase: str | None = None) -> Fit:
        """The logger, W&B step offset, callbacks and checkpoint to resume from, for the fit of ``members``
        (in ``phase``: see ``run_groups``)."""
        from memcap.fitting import MidRoundCheckpoint, ProgressLog

        key = key or self.key
        callbacks: list = [ProgressLog(key, members)]
        resume = None
        minutes = self.cfg.trainer.checkpoint_minutes
        if checkpoint and minutes > 0:
            tag = {"job": self.hash, "members": [list(m) for m in members], **({"phase": phase} if phase else {})}
            callbacks.append(MidRoundCheckpoint(self.checkpoint_path, minutes, tag, on_save=self.save))
            resume = self.checkpoint_path if MidRoundCheckpoint.matches(self.checkpoint_path, tag) else None
            if resume is not None:
                log.info("resuming the fit of %d members from %s", len(members), resume.name)
        values = sorted({value for value, _ in members})
        shown = f"{self.phase}: " if self.phase else ""
        return Fit(self.logger, self.logged_steps, callbacks, resume, f"{shown}{key}={values}")


class Terminated(KeyboardInterrupt):
    """SIGTERM taken as an interrupt, as Ctrl-C is: the job saves itself as running (its points, its wall
    time) before the process ends. `kill`, `scancel`, SLURM's time limit and a closing terminal send it;
    Python's default would end the process at once, and the time since the last save was lost."""


@contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread (where the job runs; a signal
    handler can be set only there). Lightning, when a fit is under way, composes its own SIGTERM handler
    with this one. Where SIGTERM already has a handler other than Python's default (submitit's in a SLURM
    job, part of its requeue protocol), the block leaves it as it is."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        raise Terminated(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# More runs than this are warned about (the report measures 5 a point): a point each in result.json, rewritten
# after every ensemble, and every one trained at each DS.
MANY_RUNS = 100
POINT_BYTES = 170  # about one point's entry in result.json


def warn_if_many_runs(runs: int, max_members: int) -> bool:
    """One warning with the cost, before any work, when ``runs`` is very large (a typo's extra zeros)."""
    if runs <= MANY_RUNS:
        return False
    ensembles = -(-runs // max_members)
    log.warning("runs=%d: every DS the job tries trains %d members, in %d ensembles of at most trainer.max_members=%d, "
                "and result.json, rewritten after each ensemble, grows by about %.1f MB a DS", runs, runs, ensembles,
                max_members, runs * POINT_BYTES / 1e6)
    return True


def run_job(cfg, out_dir: Path, group: str | Path, launcher: dict | None = None) -> dict | None:
    """Run the job described by ``cfg``: validate, lock, resume or skip, work, record. Returns its result.

    ``launcher`` (Hydra's launcher config) sizes the job's CPU threads (memcap.cpu).
    """
    from memcap.config import choice
    from memcap.cpu import idle_cores, set_job_cpu, warn_if_beyond_cores, warn_if_oversubscribed
    from memcap.loggers import build_logger, quiet_libraries

    choice("data", cfg.data.name, tuple(tasks.TASKS))
    task = cfg.data.name
    tasks.module(task, "config").validate(cfg)
    beyond_cores = warn_if_beyond_cores(cfg.trainer.threads)
    warn_if_many_runs(cfg.runs, cfg.trainer.max_members)
    work = tasks.module(task, "job")
    cpu = set_job_cpu(cfg.trainer.threads, launcher, cfg.trainer.flush_subnormals,  # before any torch work
                      getattr(tasks.module(task, "config"), "THREADS", None))
    data = work.prepare(cfg)  # what can still fail on bad input (a text source), before anything is written
    quiet_libraries()
    job = Job(cfg, out_dir, group, task, work.flat_config(cfg), work.KEY)
    job.result["versions"].update(cpu)
    with job.lock() as mine:
        if not mine:
            return None
        complete = job.begin()
        if complete is not None:
            return complete
        job.save()  # this attempt counts from now: status running, its attempt number, the wall time so far
        if cpu["torch_threads"] > 1 and not beyond_cores:  # said already, with the cores' count
            warn_if_oversubscribed(cpu["torch_threads"], idle_cores())
        job.logger = build_logger(cfg, job.dir, str(job.group), job.result["config"], run_id=job.wandb_id(),
                                  identity=job.identity, versions=job.result["versions"])
        with terminated_as_interrupt(), job.recorded():
            line = work.run(job, data)
        log.info("%s", job.summary(line))
    return job.result


def main(cfg) -> None:
    """The Hydra task: one job.

    A bad config value ends a single run with one line and no traceback. In a
    sweep, no job's failure stops the others: it is recorded (result.json
    status "failed" with the reason; nothing for a bad config value), reported
    in one line here, and counted by memcap.sweep_summary.SweepSummary at the end.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    group = hydra_cfg.sweep.dir if sweeping else hydra_cfg.run.dir
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    try:
        run_job(cfg, out_dir, group, OmegaConf.to_container(hydra_cfg.launcher))
    except ConfigError as error:
        if full_error:
            raise
        if not sweeping:
            sys.exit(f"memcap: error: {error}")
        print(f"memcap: error: {error} ({out_dir})", file=sys.stderr, flush=True)
    except Exception as error:
        if full_error or not sweeping:
            raise
        print(f"memcap: job failed: {type(error).__name__}: {error} ({out_dir / RESULT_FILE})",
              file=sys.stderr, flush=True)
