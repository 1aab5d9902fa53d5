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

Two tasks write results, each with its own schema (``TASKS``): the pattern
task, and the text task (``config.data == "text"``, docs/text.md). A frame
may hold both; ``by_task`` splits it into one frame per task with only that
task's columns. Where a text config key has the name of a metric or of one
of the frame's own columns (``hidden`` and ``min_hidden``: the fixed H and the
search's lower end, beside the answer; ``path``: the text file, beside the
result's), the frame calls the config's ``config.hidden``, ``config.min_hidden``,
``config.path``.

A pattern result's ``bits_per_param`` is counted again from its config,
``memorized_max`` and ``params`` (memcap.patterns.report.recount_bits), so a
file written before bits-to-ignore was counted, which keeps the value it was
written with, reads as a job writes it now.

Nothing unusable is fatal: a crashed or half-written job must not stop the
report on the rest of a sweep. Each is returned in ``skipped`` as (path, reason).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from memcap import tasks
from memcap.patterns.report import most_stored, recount_bits
from memcap.results import RESULT_FILE, check_result, read_result
from memcap.search import settled

Skipped = list[tuple[str, str]]
Found = tuple[str, "dict[str, Any] | str"]  # (where, result dict or why it is unusable)

@dataclass(frozen=True)
class Task:
    """One task's result schema: its keys in order, those a usable result must have, and the frame's row order."""

    config_keys: tuple[str, ...]
    metric_keys: tuple[str, ...]  # all required
    required_config: tuple[str, ...]
    order: tuple[str, ...]


def _task(name: str) -> Task:
    """A task's frame schema, read from its result schema (memcap.<task>.schema, the writers' own)."""
    schema = tasks.module(name, "schema")
    return Task(tuple(schema.Config.model_fields), schema.REQUIRED_METRICS, schema.REQUIRED_CONFIG, schema.ORDER)


TASKS = {name: _task(name) for name in tasks.TASKS}
# A frame's columns besides the config and the metrics.
_FRAME_FIELDS = ("job", "status", "wall_time", "points", "path")
# Summary entries that are not metrics: the result's other top-level fields.
_SUMMARY_FIELDS = ("status", "error", "points", "points_table", "wall_time", "job")
# A point's loss and steps are its training loss and optimizer steps: renamed so
# they do not shadow the config's loss function and recurrence steps.
_POINT_RENAMES = {"loss": "train_loss", "steps": "train_steps"}


def job_id(config: dict[str, Any]) -> str:
    """A short id that is equal exactly when two configs (seed included) are equal."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def result_id(result: dict[str, Any]) -> str:
    """The job a result belongs to: its identity's hash (result.json's ``job``); for files written before
    identities, the hash of their flat config."""
    return result.get("job") or job_id(result["config"])


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


def task_of(config: dict[str, Any]) -> str:
    """The task a result belongs to: "text" for data=text jobs, "patterns" otherwise (their config has no data key)."""
    return "text" if config.get("data") == "text" else "patterns"


def by_task(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{task: its jobs}, each frame with only the columns and config keys its task's results have."""
    tasks = df["data"].map(lambda data: task_of({"data": data})) if "data" in df else pd.Series("patterns", df.index)
    frames = {}
    for task, dtypes in df.attrs["task_dtypes"].items():
        # Back to the dtypes of its own frame: in the union, a column the other task lacks got NaN (ints: float).
        frame = df.loc[tasks == task, list(dtypes)].astype(dtypes).reset_index(drop=True)
        frame.attrs = {"config_keys": [k for k in df.attrs["config_keys"] if k in dtypes]}
        frames[task] = frame
    return frames


def points_frame(df: pd.DataFrame) -> pd.DataFrame:
    """One row per trained point (job, DS or H, run): the job's columns beside the point's fields.

    A point's field replaces the job's column of the same name (its H and
    accuracies: the job's describe its answer), unless the point leaves it null
    (a text point's ``length``: its job's); the job's DS column (null in a
    capacity search) always gives way to the point's; its
    loss and steps become ``train_loss`` and ``train_steps``. A member trained again
    to its plateau (memcap.search.settled) is one row, its settled point.
    """
    df = df.assign(points=[settled(p) if isinstance(p, list) else p for p in df["points"]])
    exploded = df.explode("points", ignore_index=True)
    exploded = exploded[exploded["points"].notna()].reset_index(drop=True)
    fields = pd.DataFrame(exploded["points"].tolist()).rename(columns=_POINT_RENAMES)
    for shared in fields.columns.intersection(exploded.columns).drop("DS", errors="ignore"):
        fields[shared] = fields[shared].where(fields[shared].notna(), exploded[shared])  # a null keeps the job's
    return pd.concat([exploded.drop(columns=["points", "DS", *fields.columns], errors="ignore"), fields], axis=1)


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
            # result.json only: result.<hash>.json files are results kept aside from a job directory,
            # and a sweep's .memcap/ index holds links to the job directories' own.
            files = [f for f in sorted(root.rglob(RESULT_FILE)) if ".memcap" not in f.parts]
            unfinished = [d.parent for d in sorted(root.rglob(".hydra")) if not (d.parent / RESULT_FILE).exists()]
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
    return read_result(file)


class WandbUnavailable(RuntimeError):
    """The W&B API could not list a project's runs (a bad key, an unreachable service, no such project)."""


def _wandb_runs(path: str, filters: dict[str, Any] | None, api: Any) -> list:
    """The project's runs, or WandbUnavailable saying in one line why not (wandb raises its own errors,
    requests' and a ValueError for a missing project, each with a traceback's worth of detail)."""
    import requests
    from wandb.errors import Error as WandbError  # slow to import, and only needed here

    try:
        if api is None:
            import wandb

            api = wandb.Api(timeout=30)
        return list(api.runs(path, filters=filters))
    except (WandbError, requests.RequestException, ValueError) as error:
        detail = (str(error).strip().splitlines() or [""])[0]
        raise WandbUnavailable(f"W&B {path}: cannot list its runs ({type(error).__name__}: {detail})") from error


def _wandb_results(path: str, filters: dict[str, Any] | None, api: Any) -> list[Found]:
    found = []
    for run in _wandb_runs(path, filters, api):
        config = {k: v for k, v in dict(run.config).items() if not k.startswith("_")}
        identity, versions = config.pop("identity", None), config.pop("versions", None)  # beside the flat keys
        summary = dict(run.summary.items())
        # Step-wise curves live under namespaced keys ("train/loss"), W&B's own under "_".
        # The summary leaves null metrics out (memcap.loggers.finish_logger): absent means null.
        # A schema metric is taken even where a config key has its name (text: hidden, min_hidden).
        schema = TASKS[task_of(config)].metric_keys
        metrics = {k: None for k in schema} | {
            k: v for k, v in summary.items()
            if k in schema or not k.startswith("_") and "/" not in k and k not in config and k not in _SUMMARY_FIELDS}
        result = {"config": config, "metrics": metrics,
                  **{k: summary.get(k) for k in ("status", "error", "points", "wall_time")},
                  **({"job": summary["job"], "identity": identity} if summary.get("job") else {}),
                  **({"versions": versions} if versions else {})}
        found.append((f"wandb:{path}/{run.id}", check_result(result)))
    return found


def _problem(result: dict[str, Any]) -> str | None:
    """Why a parsed result cannot be tabulated, or None."""
    status = result.get("status")
    if status == "failed":
        return f"failed: {result.get('error') or 'no reason given'}"
    if status != "ok":
        return f"partial: status {status!r}"
    config = result.get("config", {})
    task = TASKS[task_of(config)]
    missing = [k for k in task.required_config if k not in config]
    missing += [k for k in task.metric_keys if k not in result.get("metrics", {})]
    if missing:
        return "partial: missing " + ", ".join(missing)
    if not isinstance(result.get("points"), list):
        return "partial: no points"
    return None


def _frame(found: Iterable[Found]) -> tuple[pd.DataFrame, Skipped]:
    """The usable results as rows, each job once (the first found), in a stable order: each task's jobs together."""
    rows: dict[str, list[dict[str, Any]]] = {}
    skipped, first_seen = [], {}
    config_keys: dict[str, dict[str, None]] = {}  # per task, ordered sets
    identities: dict[str, list[tuple[str, dict | None]]] = {}  # per task, (flat config id, identity) per row
    metric_keys: dict[str, dict[str, None]] = {}
    for where, result in found:
        reason = result if isinstance(result, str) else _problem(result)
        if reason:
            skipped.append((where, reason))
            continue
        job = result_id(result)
        if job in first_seen:
            skipped.append((where, f"duplicate of {first_seen[job]}"))
            continue
        first_seen[job] = where
        task = task_of(result["config"])
        if task == "patterns":  # the bits and the most stored as a job counts them now, whenever the file was written
            metrics = recount_bits(result["config"], result["metrics"])
            result = {**result, "metrics": {**metrics, **most_stored(result["points"])}}
        shadowed = {*result["metrics"], *_FRAME_FIELDS}
        config = {(f"config.{k}" if k in shadowed else k): v for k, v in result["config"].items()}
        config_keys.setdefault(task, {}).update(dict.fromkeys(config))
        metric_keys.setdefault(task, {}).update(dict.fromkeys(result["metrics"]))
        rows.setdefault(task, []).append({"job": job, **config, **result["metrics"], "status": result["status"],
                                          "wall_time": result.get("wall_time"), "points": result["points"],
                                          "path": where})
        identities.setdefault(task, []).append((job_id(result["config"]), result.get("identity")))
    for task, found_identities in identities.items():
        distinguishing = _distinguishing_keys(found_identities)
        for row, (_, identity) in zip(rows[task], found_identities):
            flat = _flatten(identity or {})
            row.update({f"config.{key}" if key in row else key: flat.get(key) for key in distinguishing})
        config_keys[task].update(dict.fromkeys(k if k not in _FRAME_FIELDS else f"config.{k}" for k in distinguishing))
    frames, dtypes, all_config_keys = [], {}, {}
    for name, task in TASKS.items():
        if name not in rows:
            continue
        config_columns = _schema_order(config_keys[name], task.config_keys)
        columns = ["job", *config_columns, *_schema_order(metric_keys[name], task.metric_keys), *_FRAME_FIELDS[1:]]
        all_config_keys.update(dict.fromkeys(config_columns))
        frame = pd.DataFrame(rows[name], columns=columns)
        frame = frame.sort_values(list(task.order), ignore_index=True, kind="stable")
        frames.append(frame)
        dtypes[name] = {column: str(dtype) for column, dtype in frame.dtypes.items()}
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    df.attrs = {"config_keys": list(all_config_keys), "task_dtypes": dtypes}
    return df, skipped


def _flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in node.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _distinguishing_keys(found: list[tuple[str, dict | None]]) -> list[str]:
    """Identity keys (dotted, e.g. ``loss.tau``) that tell apart jobs whose flat configs are equal.

    The flat config names what a table is about; a job's identity holds every
    key that can change its result. Where two jobs share a flat config but not
    an identity (a sweep over ``loss.tau``), the keys they differ in become
    columns, so every distinct config is its own row and only true duplicates merge.
    """
    by_flat: dict[str, list[dict[str, Any]]] = {}
    for flat_id, identity in found:
        if identity is not None:
            by_flat.setdefault(flat_id, []).append(_flatten(identity))
    keys: dict[str, None] = {}
    for identities in by_flat.values():
        for key in sorted({k for identity in identities for k in identity}):
            if len({json.dumps(identity.get(key), default=str) for identity in identities}) > 1:
                keys[key] = None
    return list(keys)


def _schema_order(keys: Iterable[str], schema: tuple[str, ...]) -> list[str]:
    keys = list(keys)
    return [k for k in schema if k in keys] + sorted(set(keys) - set(schema))
