"""result.json: the one result schema (docs/result-schema.md), written atomically, read with checks.

A job rewrites its result.json after every trained group of members, so a
reader (the aggregation, a resumed job) only ever sees a whole file: the
previous one or the new one, never half of either. Every reader goes through
``read_result``, which checks the file against the envelope below and its
task's schema (``memcap.<task>.schema``): a malformed file is named with the
field that is wrong, never trusted and never a traceback.

No torch and no Hydra here: the aggregation imports this module.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from memcap import tasks

RESULT_FILE = "result.json"
LOCK_FILE = ".memcap.lock"  # a job directory's lock (memcap.lifecycle.Job.lock), read by the sweep summary too
LOST_FILE = ".memcap.lost"  # why the cluster ended a job without a result (the SLURM launcher; a new attempt removes it)
STALE_SECONDS = 3600  # a temporary file this old was left by a killed writer


class Envelope(BaseModel):
    """The top level of every result.json, whatever the task."""

    model_config = ConfigDict(strict=True, extra="allow")
    status: Literal["running", "ok", "failed"]
    error: Optional[str] = None
    config: dict[str, Any]
    metrics: dict[str, Any] = {}
    points: list[dict[str, Any]] = []
    versions: dict[str, Any] = {}
    wall_time: float = 0.0  # seconds, summed over every attempt at the job
    # Absent in files written before identities (they still read; their job id is their flat config's hash).
    job: Optional[str] = None  # the identity's short hash (memcap.config.identity_hash)
    identity: Optional[dict[str, Any]] = None  # the whole resolved config, minus what cannot change a result
    wall_time_last: Optional[float] = None  # the last attempt's share of wall_time
    attempts: Optional[int] = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; when the block ends it replaces ``path`` in one rename.

    Every file memcap writes that a kill must not leave half-written goes through here (result.json, mid-round
    checkpoints, pruning tickets): a reader sees the old file or the new one, and a failed write leaves no
    temporary behind (a killed one leaves a ``.*.tmp`` that ``remove_stale_temporaries`` clears). The file gets
    the mode any new file gets here (0666 less the umask), not mkstemp's 0600: on a cluster the group reads it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        os.close(fd)
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write ``obj`` as JSON to ``path``, whole or not at all (``replacing``), synced to disk before the rename."""
    with replacing(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())


def remove_stale_temporaries(directory: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Delete the ``.*.tmp`` files a killed writer left in ``directory`` (only old ones: a live writer's are new)."""
    removed = []
    for tmp in Path(directory).glob(".*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
    return removed


def read_result(path: Path) -> dict[str, Any] | str:
    """The result in ``path`` if it is a well-formed result.json, else why not (naming the field)."""
    try:
        result = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return "missing: no result.json"
    except UnicodeDecodeError:
        return "corrupt: not UTF-8 text"
    except json.JSONDecodeError as err:
        return f"corrupt: invalid JSON ({err.msg}, line {err.lineno})"
    except OSError as err:
        return f"unreadable: {err.strerror}"
    return check_result(result)


def check_result(result: Any) -> dict[str, Any] | str:
    """``result`` if it matches the envelope and its task's schema, else the first field that does not."""
    try:
        envelope = Envelope.model_validate(result)
    except ValidationError as error:
        return f"malformed: {_first_error(error)}"
    try:
        schema = tasks.module(tasks.task_name(envelope.config), "schema")
    except KeyError as error:
        return f"malformed: config.data: {error.args[0]}"
    parts = [("config", schema.Config, envelope.config), ("metrics", schema.Metrics, envelope.metrics)]
    parts += [(f"points.{i}", schema.Point, point) for i, point in enumerate(envelope.points)]
    for where, model, value in parts:
        try:
            model.model_validate(value)
        except ValidationError as error:
            return f"malformed: {where}.{_first_error(error)}"
    return result


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "missing":
        return f"{where}: missing"
    return f"{where}: {first['msg']} (got {first.get('input')!r})"[:300]


def versions() -> dict:
    """The versions that produced a result, and the git commit of the code when it runs from a checkout."""
    import hydra
    import pytorch_lightning
    import torch

    import memcap

    return {
        "memcap": memcap.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pytorch_lightning": pytorch_lightning.__version__,
        "hydra": hydra.__version__,
    }


@functools.cache
def git_commit() -> str | None:
    """The checkout's commit (with "-dirty" when files differ from it), None outside a git checkout.

    Read once per process, at its first job: a sweep's process runs the code it imported to its end, so a
    commit made while it runs must not relabel its later jobs.
    """
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("-dirty" if dirty else "")


def record_lost(job: Path, reason: str) -> None:
    """Leave in job directory ``job`` why the cluster ended it without a result, and say it in one line."""
    job.mkdir(parents=True, exist_ok=True)
    (job / LOST_FILE).write_text(reason + "\n")
    print(f"memcap: {reason} ({job})", file=sys.stderr, flush=True)
