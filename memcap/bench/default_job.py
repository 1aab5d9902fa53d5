"""Part 5 (``--default-job``): the default job as ``make run`` runs it (``python train.py``, W&B offline,
nothing overridden), in fresh processes, repeated: wall seconds (start-up included), seconds in the job, the
answer, and the load, against a target of 60 s; each run beside the same job on the engine without its
shortcuts (part 9, memcap.bench.engine). Writes <out>/default_job/default_job.{json,md}.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import torch

from memcap.bench.common import publish, run_header, table_head, train_in_fresh_process
from memcap.bench.engine import ENGINES


def default_job_benchmark(repeats: int, out: Path) -> None:
    """Part 5: ``python train.py`` with W&B offline (what ``make run`` runs), ``repeats`` times in fresh
    processes, each time beside the same job on the engine without its shortcuts (``ENGINES``): median wall
    seconds against the target of 60 s, their ratio, and each run's answer (the same every time)."""
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for _ in range(repeats):
        for engine, overrides in reversed(ENGINES.items()):
            load_before = os.getloadavg()[0]
            result, wall, _ = train_in_fresh_process(overrides, wandb_mode="offline")
            m = result["metrics"]
            runs.append({"engine": engine, "wall_s": round(wall, 1), "job_s": round(result["wall_time"], 1),
                         "capacity_ds": m["capacity_ds"], "memorized_mean": round(m["memorized_mean"], 1),
                         "converged": m["converged"], "torch_threads": result["versions"].get("torch_threads"),
                         "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)})
            print(json.dumps(runs[-1]), flush=True)
    medians = {engine: statistics.median(r["wall_s"] for r in runs if r["engine"] == engine) for engine in ENGINES}
    median = medians["default"]
    header = run_header(f"python scripts/bench.py --default-job --repeats {repeats}", f"torch {torch.__version__}")
    lines = [header + " Loads are the 1-minute load average before and after each run.", "",
             *table_head("run", "engine", "wall s", "in the job s", "capacity DS", "mean memorized", "converged",
                         "torch threads", "load")]
    lines += [f"| {i // len(ENGINES) + 1} | {r['engine']} | {r['wall_s']} | {r['job_s']} | {r['capacity_ds']} | "
              f"{r['memorized_mean']} | {'yes' if r['converged'] else 'no'} | {r['torch_threads']} | "
              f"{r['load_before']}-{r['load_after']} |" for i, r in enumerate(runs)]
    other = medians["one step a call"]
    lines += ["", f"Median wall time {median:.1f} s against the target of 60 s: "
              f"{'met' if median <= 60 else 'missed'}; without the engine's shortcuts ({', '.join(ENGINES['one step a call'])}) "
              f"{other:.1f} s, {other / median:.2f}× the default's."]
    publish(out / "default_job", {"median_wall_s": median, "median_wall_s_by_engine": medians, "runs": runs}, lines)
