"""Where results come from: sweep directories or W&B, turned into one DataFrame.

Both sources hold the same facts (docs/result-schema.md): a job's result.json,
and the W&B run that mirrors it (config = the flat config keys, summary = the
metrics plus "points", "status" and "wall_time"). Each is read into the same
result dict and flattened by one function, so the tables and figures come out
the same from either.

A frame has one row per job: a ``job`` id, the flat config keys, the metrics,
``status``, ``wall_time``, ``points`` (the list of point dicts) and ``path``
(the file, or ``wandb:ENTITY/PROJECT/RUN_ID``). ``df.attrs["config_keys"]``
names the config columns, which tell one experiment from another.

Nothing unusable is fatal: a crashed or half-written job must not stop the
report on the rest of a sweep. Each is returned in ``skipped`` as (path, reason).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

Skipped = list[tuple[str, str]]
Found = tuple[str, "dict[str, Any] | str"]  # (where, result dict or why it is unusable)

# The schema's keys, in its order; a frame's columns follow it, extras sorted after.
CONFIG_KEYS = ("model", "loss", "search", "N", "s", "steps", "seed", "runs", "DS", "lr", "max_steps", "batch_size")
METRIC_KEYS = ("capacity_ds", "perfect_ds", "memorized_max", "memorized_mean", "memorized_std",
               "memorized_runs", "accuracy", "params", "bits_per_param")
REQUIRED_CONFIG = ("model", "loss", "N", "s", "steps", "seed")
# Summary entries that are not metrics: the result's other top-level fields.
_SUMMARY_FIELDS = ("status", "error", "points", "wall_time")
# A point's loss and steps are its training loss and optimizer steps: renamed so
# they do not shadow the config's loss function and recurrence steps.
_POINT_RENAMES = {"loss": "train_loss", "steps": "train_steps"}


def job_id(config: dict[str, Any]) -> str:
    """A short id that is equal exactly when two configs (seed included) are equal."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def load_dirs(paths: Iterable[str | Path]) -> tuple[pd.DataFrame, Skipped]:
    """Every result.json under the given sweep directories (or result.json files)."""
    return _frame(_dir_results(paths))


def load_wandb(path: str, filters: dict[str, Any] | None = None, api: Any = None) -> tuple[pd.DataFrame, Skipped]:
    """The runs of a W&B project ("ENTITY/PROJECT") matching ``filters`` (W&B's MongoDB-style query).

    ``api`` stands in for ``wandb.Api()``: anything whose ``runs(path, filters=...)``
    yields objects with ``config``, ``summary`` and ``id``.
    """
    return _frame(_wandb_results(path, filters, api))


def load(paths: Iterable[str | Path] = (), wandb_path: str | None = None,
         filters: dict[str, Any] | None = None, api: Any = None) -> tuple[pd.DataFrame, Skipped]:
    """Directories and W&B together; a job present in both is counted once."""
    found = list(_dir_results(paths))
    if wandb_path:
        found += _wandb_results(wandb_path, filters, api)
    return _frame(found)


def points_frame(df: pd.DataFrame) -> pd.DataFrame:
    """One row per trained (job, DS, run): the job's columns beside the point's fields.

    The point's DS replaces the job's (null in a capacity search, the same number
    in a fixed one); its loss and steps become ``train_loss`` and ``train_steps``.
    """
    exploded = df.explode("points", ignore_index=True)
    exploded = exploded[exploded["points"].notna()].reset_index(drop=True)
    fields = pd.DataFrame(exploded["points"].tolist()).rename(columns=_POINT_RENAMES)
    return pd.concat([exploded.drop(columns=["points", "DS"], errors="ignore"), fields], axis=1)


def _dir_results(paths: Iterable[str | Path]) -> Iterator[Found]:
    """Each result file once (overlapping directories find it twice), and each
    Hydra job directory (it has .hydra/) that never wrote one."""
    seen: set[Path] = set()
    for root in map(Path, paths):
        if not root.exists():
            yield str(root), "missing: no such file or directory"
            continue
        if root.is_file():
            files, unfinished = [root], []
        else:
            files = sorted(root.rglob("result.json"))
            unfinished = [d.parent for d in sorted(root.rglob(".hydra")) if not (d.parent / "result.json").exists()]
        if not files and not unfinished:
            yield str(root), "missing: no result.json found"
        for job_dir in unfinished:
            if job_dir.resolve() not in seen:
                seen.add(job_dir.resolve())
                yield str(job_dir), "missing: job directory without result.json"
        for file in files:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                yield str(file), _read(file)


def _read(file: Path) -> dict[str, Any] | str:
    try:
        result = json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        return "corrupt: not UTF-8 text"
    except json.JSONDecodeError as err:
        return f"corrupt: invalid JSON ({err.msg}, line {err.lineno})"
    except OSError as err:
        return f"unreadable: {err.strerror}"
    if not isinstance(result, dict) or not all(isinstance(result.get(k, {}), dict) for k in ("config", "metrics")):
        return "corrupt: not a result object"
    return result


def _wandb_results(path: str, filters: dict[str, Any] | None, api: Any) -> list[Found]:
    if api is None:
        import wandb  # slow to import, and only needed here

        api = wandb.Api(timeout=30)
    found = []
    for run in api.runs(path, filters=filters):
        config = {k: v for k, v in dict(run.config).items() if not k.startswith("_")}
        summary = dict(run.summary.items())
        # Step-wise curves live under namespaced keys ("train/loss"), W&B's own under "_".
        # The summary leaves null metrics out (memcap.loggers.finish_logger): absent means null.
        metrics = {k: None for k in METRIC_KEYS} | {
            k: v for k, v in summary.items()
            if not k.startswith("_") and "/" not in k and k not in config and k not in _SUMMARY_FIELDS}
        result = {"config": config, "metrics": metrics, **{k: summary.get(k) for k in _SUMMARY_FIELDS}}
        found.append((f"wandb:{path}/{run.id}", result))
    return found


def _problem(result: dict[str, Any]) -> str | None:
    """Why a parsed result cannot be tabulated, or None."""
    status = result.get("status")
    if status == "failed":
        return f"failed: {result.get('error') or 'no reason given'}"
    if status != "ok":
        return f"partial: status {status!r}"
    missing = [k for k in REQUIRED_CONFIG if k not in result.get("config", {})]
    missing += [k for k in METRIC_KEYS if k not in result.get("metrics", {})]
    if missing:
        return "partial: missing " + ", ".join(missing)
    if not isinstance(result.get("points"), list):
        return "partial: no points"
    return None


def _frame(found: Iterable[Found]) -> tuple[pd.DataFrame, Skipped]:
    """The usable results as rows, each job once (the first found), in a stable order."""
    rows, skipped, first_seen = [], [], {}
    config_keys: dict[str, None] = {}  # ordered sets
    metric_keys: dict[str, None] = {}
    for where, result in found:
        reason = result if isinstance(result, str) else _problem(result)
        if reason:
            skipped.append((where, reason))
            continue
        job = job_id(result["config"])
        if job in first_seen:
            skipped.append((where, f"duplicate of {first_seen[job]}"))
            continue
        first_seen[job] = where
        config_keys.update(dict.fromkeys(result["config"]))
        metric_keys.update(dict.fromkeys(result["metrics"]))
        rows.append({"job": job, **result["config"], **result["metrics"], "status": result["status"],
                     "wall_time": result.get("wall_time"), "points": result["points"], "path": where})
    config_columns = _schema_order(config_keys, CONFIG_KEYS)
    metric_columns = _schema_order(metric_keys, METRIC_KEYS)
    columns = ["job", *config_columns, *metric_columns, "status", "wall_time", "points", "path"]
    df = pd.DataFrame(rows, columns=columns if rows else None)
    if rows:
        df = df.sort_values(["model", "loss", "steps", "N", "seed", "job"], ignore_index=True, kind="stable")
    df.attrs["config_keys"] = config_columns
    return df, skipped


def _schema_order(keys: Iterable[str], schema: tuple[str, ...]) -> list[str]:
    keys = list(keys)
    return [k for k in schema if k in keys] + sorted(set(keys) - set(schema))
