"""Part 4 (``--subnormals``): jobs whose training makes subnormal floats (bce once its sigmoids saturate),
each with ``trainer.flush_subnormals`` false and true, back to back, repeated: median wall times, their
ratio, and whether the points are the same. Writes <out>/subnormals/subnormals.{json,md}.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import torch

from memcap.bench.common import publish, run_header, table_head, train_in_fresh_process

# Jobs whose training makes subnormal floats (bce once sigmoids saturate), with and without flushing them.
SUBNORMAL_CASES = {
    "simple-bce-100": ["N=100", "DS=320", "loss=bce", "runs=5"],  # a Table 1 round near capacity
    "recurrent-50": ["model=recurrent", "steps=2", "N=50", "DS=690", "runs=3", "trainer.max_steps=6000"],
}


def subnormal_benchmark(repeats: int, out: Path) -> None:
    """Each case with trainer.flush_subnormals=false and =true, back to back in alternating order, ``repeats``
    times: median wall seconds of each, their ratio, and whether every point (less seconds) came out the same."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for case, overrides in SUBNORMAL_CASES.items():
        walls: dict[str, list[float]] = {"false": [], "true": []}
        points, loads = {}, []
        for repeat in range(repeats):
            for flush in ("false", "true") if repeat % 2 == 0 else ("true", "false"):
                result, wall, _ = train_in_fresh_process([*overrides, "trainer.threads=1",
                                                          f"trainer.flush_subnormals={flush}"])
                walls[flush].append(wall)
                points.setdefault(flush, []).append([{k: v for k, v in p.items() if k != "seconds"}
                                                     for p in result["points"]])
                loads.append(os.getloadavg()[0])
        every = [run for runs in points.values() for run in runs]
        rows.append({"case": case, "overrides": " ".join(overrides), "repeats": repeats,
                     "wall_s_unflushed": round(statistics.median(walls["false"]), 1),
                     "wall_s_flushed": round(statistics.median(walls["true"]), 1),
                     "speedup": round(statistics.median(walls["false"]) / statistics.median(walls["true"]), 2),
                     "same_points": all(run == every[0] for run in every),
                     "load": f"{min(loads):.1f}-{max(loads):.1f}"})
        print(json.dumps(rows[-1]), flush=True)
    header = run_header(f"python scripts/bench.py --subnormals --repeats {repeats}",
                        f"1 torch thread a job, torch {torch.__version__}")
    lines = [header + " Medians of the repeats; load is the 1-minute load average at the jobs' ends.", "",
             *table_head("case", "overrides", "wall s, subnormals kept", "wall s, flushed", "speedup", "same points",
                         "load")]
    lines += [f"| {r['case']} | `{r['overrides']}` | {r['wall_s_unflushed']} | {r['wall_s_flushed']} | "
              f"{r['speedup']:.2f}× | {'yes' if r['same_points'] else 'NO'} | {r['load']} |" for r in rows]
    publish(out / "subnormals", rows, lines)
