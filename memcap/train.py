"""One job, top to bottom: validate, search (or train one DS), record, summarize.

    validate(cfg)
    for each search round:  train_members(...)  -> points -> result.json (atomic), W&B
    metrics at the capacity DS -> result.json, W&B summary, one line on stdout
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from memcap.config import ConfigError, model_steps, validate
from memcap.data import active_bits, num_distinct_patterns
from memcap.ensemble import train_members
from memcap.loggers import build_logger
from memcap.models import PatternEnsemble
from memcap.oracle import oracle_metrics
from memcap.results import RESULT_FILE, capacity_metrics, flat_config, new_result, recorded, save_result
from memcap.search import capacity_search


def _quiet_libraries() -> None:
    # Lightning's start-up banners would bury the one summary line per job.
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="pytorch_lightning")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")


def _output_dir_and_group() -> tuple[Path, str]:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    group = hydra_cfg.sweep.dir if hydra_cfg.mode == RunMode.MULTIRUN else hydra_cfg.run.dir
    return out_dir, str(group)


def run(cfg, out_dir: Path, group: str) -> dict:
    """Run the job described by ``cfg``; write and return its result.json contents."""
    validate(cfg)
    _quiet_libraries()
    start = time.perf_counter()
    steps = model_steps(cfg)
    config = flat_config(cfg, steps)
    path = out_dir / RESULT_FILE
    previous = read_previous(path, config)
    if previous is not None and previous["status"] == "ok":
        print(f"memcap: complete, skipped: {path}", flush=True)
        return previous
    earlier = recorded_rounds(previous["points"] if previous else [], cfg.runs)
    result = new_result(config)
    logger = build_logger(cfg, out_dir, group, config)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        disable=not sys.stderr.isatty(), transient=True)

    def evaluate(ds_values: list[int]) -> dict[int, list[int]]:
        todo = [ds for ds in ds_values if ds not in earlier]
        task = progress.add_task(f"{config['model']} N={cfg.N}: training DS={todo} x {cfg.runs} runs")
        points = [p.as_dict() for p in train_members(
            cfg, [(ds, run) for ds in todo for run in range(cfg.runs)], logger,
            step_offset=len(result["points"]) * cfg.trainer.max_steps)] if todo else []
        progress.remove_task(task)
        points += [p for ds in ds_values if ds in earlier for p in earlier[ds]]
        result["points"] += points
        save_result(result, path, start)
        return {ds: [p["memorized"] for p in sorted(points, key=lambda p: p["run"]) if p["DS"] == ds]
                for ds in ds_values}

    with recorded(result, path, start, logger):
        with progress:
            if cfg.DS is not None:
                runs = evaluate([cfg.DS])[cfg.DS]
                capacity_ds, perfect_ds, capped = cfg.DS, (cfg.DS if max(runs) == cfg.DS else None), False
            else:
                outcome = capacity_search(
                    evaluate, step=cfg.search.step, resolution=cfg.search.resolution, threshold=cfg.search.threshold,
                    batch=cfg.search.batch, max_ds=search_ceiling(cfg),
                )
                capacity_ds, perfect_ds, capped = outcome.capacity_ds, outcome.perfect_ds, outcome.capped
                runs = outcome.results.get(capacity_ds, [])
        params = PatternEnsemble(cfg.N, steps, [cfg.seed]).num_parameters()
        result["metrics"] = {**capacity_metrics(cfg.N, cfg.s, params, capacity_ds, perfect_ds, runs), "capped": capped}
        if cfg.search.oracle and capacity_ds is not None:
            result["metrics"].update(oracle_metrics(cfg, capacity_ds, runs, progress=sys.stderr.isatty()))
    print(summary_line(result, path), flush=True)
    return result


def read_previous(path: Path, config: dict) -> dict | None:
    """The result.json an earlier attempt at this same job left, if it is readable and for the same config."""
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return previous if isinstance(previous, dict) and previous.get("config") == config else None


def recorded_rounds(points: list[dict], runs: int) -> dict[int, list[dict]]:
    """Recorded points grouped by DS, keeping only the DS values whose every run finished."""
    by_ds: dict[int, list[dict]] = {}
    for point in points:
        by_ds.setdefault(point["DS"], []).append(point)
    return {ds: group for ds, group in by_ds.items() if sorted(p["run"] for p in group) == list(range(runs))}


def search_ceiling(cfg) -> int:
    """The largest DS the search may try: search.max_ds (default 40 N), at most C(N, k)."""
    return min(cfg.search.max_ds or 40 * cfg.N, num_distinct_patterns(cfg.N, active_bits(cfg.N, cfg.s)))


def summary_line(result: dict, path: Path) -> str:
    c, m = result["config"], result["metrics"]
    network = f"{c['model']}/{c['loss']}" + (f"/{c['steps']} steps" if c["steps"] > 1 else "")
    if m["capacity_ds"] is None:
        found = "no DS memorized above the threshold"
    else:
        found = (f"capacity DS={m['capacity_ds']}: memorized max {m['memorized_max']}, "
                 f"mean {m['memorized_mean']:.1f} ± {m['memorized_std']:.1f} ({100 * m['accuracy']:.1f}%), "
                 f"perfect DS={m['perfect_ds']}")
    return (f"memcap {network} N={c['N']} s={c['s']} runs={c['runs']} seed={c['seed']}: {found}"
            + (f", oracle {m['oracle_memorized']:.1f} (ratio {m['oracle_ratio']:.3f})" if "oracle_ratio" in m else "")
            + f"; params={m['params']}, {result['wall_time']:.1f}s -> {path}")


def main(cfg) -> None:
    """The Hydra task: one job.

    A bad config value ends a single run with one line and no traceback. In a
    sweep, no job's failure stops the others: it is recorded (result.json
    status "failed" with the reason; nothing for a bad config value), reported
    in one line here, and counted by memcap.callbacks.SweepSummary at the end.
    """
    out_dir, group = _output_dir_and_group()
    sweeping = HydraConfig.get().mode == RunMode.MULTIRUN
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    try:
        if cfg.data.name == "text":
            from memcap.text.job import run_text  # imported here: memcap.text.job imports this module

            run_text(cfg, out_dir, group)
        else:
            run(cfg, out_dir, group)
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
