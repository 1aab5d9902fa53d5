"""One job, top to bottom: validate, search (or train one DS), record, summarize.

    validate(cfg)
    for each search round:  train_members(...)  -> points -> result.json (atomic), W&B
    metrics at the capacity DS -> result.json, W&B summary, one line on stdout
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from memcap.config import ConfigError, model_steps, validate
from memcap.patterns.data import active_bits, num_distinct_patterns
from memcap.patterns.engine import train_members
from memcap.loggers import build_logger, quiet_libraries
from memcap.patterns.models import build
from memcap.patterns.oracle import oracle_metrics
from memcap.patterns.prune import run_pruning
from memcap.results import (RESULT_FILE, capacity_metrics, flat_config, new_result, previous_attempt, recorded,
                            search_round)
from memcap.search import capacity_search
from memcap.text.job import run_text


def _output_dir_and_group() -> tuple[Path, str]:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    group = hydra_cfg.sweep.dir if hydra_cfg.mode == RunMode.MULTIRUN else hydra_cfg.run.dir
    return out_dir, str(group)


def run(cfg, out_dir: Path, group: str) -> dict:
    """Run the job described by ``cfg``; write and return its result.json contents."""
    validate(cfg)
    quiet_libraries()
    start = time.perf_counter()
    steps = model_steps(cfg)
    config = flat_config(cfg, steps)
    path = out_dir / RESULT_FILE
    complete, earlier = previous_attempt(path, config, cfg.runs, key="DS")
    if complete is not None:
        return complete
    result = new_result(config)
    logger = build_logger(cfg, out_dir, group, config)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        disable=not sys.stderr.isatty(), transient=True)

    def train(todo: list[int]) -> list[dict]:
        task = progress.add_task(f"{config['model']} N={cfg.N}: training DS={todo} x {cfg.runs} runs")
        points = train_members(cfg, [(ds, run) for ds in todo for run in range(cfg.runs)], logger,
                               step_offset=len(result["points"]) * cfg.trainer.max_steps)
        progress.remove_task(task)
        return [p.as_dict() for p in points]

    def evaluate(ds_values: list[int]) -> dict[int, list[int]]:
        return search_round(result, path, start, ds_values, earlier, "DS", "memorized", train)

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
        params = build(cfg).num_parameters()  # unmasked weights only (model.density)
        result["metrics"] = {**capacity_metrics(cfg.N, cfg.s, params, capacity_ds, perfect_ds, runs), "capped": capped}
        if cfg.search.oracle and capacity_ds is not None:
            result["metrics"].update(oracle_metrics(cfg, capacity_ds, runs, progress=sys.stderr.isatty()))
    print(summary_line(result, path), flush=True)
    return result


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
            + (f", proven best <= {m['oracle_upper']:.1f} (ratio {m['oracle_ratio_upper']:.3f})" if "oracle_upper" in m else "")
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
            run_text(cfg, out_dir, group)
        elif cfg.prune.name != "none":
            run_pruning(cfg, out_dir, group)
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
