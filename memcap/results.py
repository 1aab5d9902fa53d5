"""result.json: the one result schema (docs/result-schema.md), written atomically, and resumed.

A job rewrites its result.json after every search round, so a reader (the
aggregation, a resumed job) only ever sees a whole file: the previous one or
the new one, never half of either. Both tasks (patterns and text) resume the
same way: a job whose result.json is complete for the same config is skipped,
and a search reuses the rounds an interrupted attempt recorded.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from memcap.config import learning_rate, loss_name, topology_config
from memcap.patterns.data import active_bits
from memcap.theory import log2_binom

RESULT_FILE = "result.json"


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write ``obj`` as JSON to ``path`` via a temporary file in the same directory and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def versions() -> dict:
    import hydra
    import pytorch_lightning
    import torch

    import memcap

    return {
        "memcap": memcap.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pytorch_lightning": pytorch_lightning.__version__,
        "hydra": hydra.__version__,
    }


def new_result(config: dict) -> dict:
    """A job's result before any training: status "running", no metrics or points yet."""
    return {"status": "running", "error": None, "config": config, "metrics": {}, "points": [],
            "versions": versions(), "wall_time": 0.0}


def save_result(result: dict, path: Path, start: float) -> None:
    """Stamp the wall time since ``start`` (perf_counter) and write result.json atomically."""
    result["wall_time"] = round(time.perf_counter() - start, 3)
    write_json_atomic(path, result)


def read_previous(path: Path, config: dict) -> dict | None:
    """The result.json an earlier attempt at this same job left, if it is readable and for the same config."""
    try:
        previous = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return previous if isinstance(previous, dict) and previous.get("config") == config else None


def recorded_rounds(points: list[dict], runs: int, key: str) -> dict[int, list[dict]]:
    """Recorded points grouped by their search value ``key`` (DS, or H): only values whose every run finished."""
    by_value: dict[int, list[dict]] = {}
    for point in points:
        by_value.setdefault(point[key], []).append(point)
    return {value: group for value, group in by_value.items() if sorted(p["run"] for p in group) == list(range(runs))}


def previous_attempt(path: Path, config: dict, runs: int, key: str) -> tuple[dict | None, dict[int, list[dict]]]:
    """What an earlier attempt at this job left: (its result if complete, else None; its recorded rounds by ``key``).

    A completed job is announced on stdout as skipped: a rerun of a sweep says
    which jobs it did not redo.
    """
    previous = read_previous(path, config)
    if previous is not None and previous["status"] == "ok":
        print(f"memcap: complete, skipped: {path}", flush=True)
        return previous, {}
    return None, recorded_rounds(previous["points"] if previous else [], runs, key)


def search_round(
    result: dict, path: Path, start: float, values: list[int], earlier: dict[int, list[dict]], key: str, score: str,
    train: Callable[[list[int]], list[dict]],
) -> dict[int, list]:
    """One search round: ``train`` the values (DS, or H) not recorded ``earlier``, reuse the recorded ones,
    append the round's points to ``result`` and save it; returns each value's ``score`` per run, in run order."""
    todo = [value for value in values if value not in earlier]
    points = train(todo) if todo else []
    points += [p for value in values if value in earlier for p in earlier[value]]
    result["points"] += points
    save_result(result, path, start)
    return {value: [p[score] for p in sorted(points, key=lambda p: p["run"]) if p[key] == value] for value in values}


@contextmanager
def recorded(result: dict, path: Path, start: float, logger):
    """Close a job's result around its work: "ok" when the block ends, "failed" with the
    reason when it raises (and re-raise); either way save it and mirror it to the logger."""
    from memcap.loggers import finish_logger

    try:
        yield
        result["status"] = "ok"
    except Exception as error:
        result["status"], result["error"] = "failed", f"{type(error).__name__}: {error}"
        raise
    finally:
        save_result(result, path, start)
        finish_logger(logger, result)


def flat_config(cfg, steps: int) -> dict:
    """The keys a table or a dashboard filters on, flat."""
    return {
        "model": cfg.model.name, "loss": loss_name(cfg), "search": "fixed" if cfg.DS is not None else cfg.search.name,
        "N": cfg.N, "s": cfg.s, "steps": steps, "seed": cfg.seed, "runs": cfg.runs, "DS": cfg.DS, "lr": learning_rate(cfg),
        "max_steps": cfg.trainer.max_steps, "schedule": cfg.trainer.schedule, "batch_size": cfg.trainer.batch_size,
        # Only when pinned, so that results from before these keys keep their identity.
        **{key: cfg[key] for key in ("data_seed", "init_seed") if cfg[key] is not None},
        **topology_config(cfg),  # activation, density, prune: likewise only when not the default
    }


def capacity_metrics(
    N: int, s: float, params: int, capacity_ds: int | None, perfect_ds: int | None, memorized_runs: list[int]
) -> dict:
    """The report's numbers at ``capacity_ds``, plus what it lacked."""
    if capacity_ds is None:
        best = None
    else:
        best = max(memorized_runs)
    return {
        "capacity_ds": capacity_ds,
        "perfect_ds": perfect_ds,
        "memorized_max": best,
        "memorized_mean": float(np.mean(memorized_runs)) if memorized_runs else None,
        "memorized_std": float(np.std(memorized_runs)) if memorized_runs else None,  # population std, as the report
        "memorized_runs": memorized_runs,
        "accuracy": best / capacity_ds if best is not None else None,
        "params": params,
        "bits_per_param": best * log2_binom(N, active_bits(N, s)) / params if best is not None else None,
    }
