"""Part 9 (``--engine``): the pattern engine's two shortcuts, and the work its searches waste.

Side by side in one process on the design card's and Table 1's shapes near capacity (simple N = 100, 200,
500; recurrent 2 and 3 steps at N = 50, 100, 200; 5 members, full batch, no early stop): the same steps with
one optimizer step per Lightning call (the engine without its shortcuts) and with every step between two
checks in one call (the default), at one torch thread, and the default at two threads; the repeats
interleaved, medians: step time, achieved GFLOP/s (the matmul FLOPs of one step counted by
``torch.utils.flop_counter.FlopCounterMode``) and their fraction of torch.matmul's peak at the same thread
count, measured in the same process. Then the work the committed searches (results/report_table1,
results/design_card) gave to padding rows and to members that had already stopped, counted from their points
(each group's rows and each member's steps) for an engine that computes every member to its group's end and
for one whose stopped members leave the computation (``trainer.compact``). Writes
<out>/engine/engine.{json,md}.

``ENGINES`` (the engine with and without its shortcuts) serves part 5 too, and ``step_flops`` part 10.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.flop_counter import FlopCounterMode

from memcap.bench.common import ROOT, matmul_peak, publish, run_header, table_head
from memcap.configs import compose
from memcap.fitting import Fit, make_trainer
from memcap.patterns.engine import build_module
from memcap.patterns.layout import aligned_rows

# The shapes measured: (model overrides, N, DS near the committed capacity): Table 1's exact perfect-recall
# DS, the design card's capacity DS.
ENGINE_SHAPES = [(["model=simple"], 100, 320), (["model=simple"], 200, 630), (["model=simple"], 500, 1700),
                 (["model=recurrent", "steps=2"], 50, 690), (["model=recurrent", "steps=2"], 100, 1380),
                 (["model=recurrent", "steps=2"], 200, 2760), (["model=recurrent", "steps=3"], 50, 700),
                 (["model=recurrent", "steps=3"], 100, 1520), (["model=recurrent", "steps=3"], 200, 2820)]
# The engine without its shortcuts, and as it runs by default: overrides of each.
ENGINES = {"one step a call": ["trainer.steps_per_call=1", "trainer.compact=false"], "default": []}
# The committed searches whose wasted work is counted.
WASTE_SOURCES = ("results/report_table1", "results/design_card")


def step_flops(module) -> int:
    """The FLOPs of one optimizer step of ``module`` (forward, loss, backward), as torch counts them."""
    with FlopCounterMode(display=False) as counter:
        module._losses(module.model(module.X), module.Y, module.weight).sum().backward()
    module.model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


class StepClock(pl.Callback):
    """The seconds from a fit's first step to its last (its set-up and tear-down left out)."""

    def on_train_start(self, trainer, module) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer, module) -> None:
        self.seconds = time.perf_counter() - self.start


def timed_fit(overrides: list[str], N: int, DS: int, steps: int, members: int = 5) -> float:
    """Seconds per step of a Lightning fit of ``members`` runs at (N, DS), ``steps`` steps, no early stop."""
    cfg = compose(*overrides, f"N={N}", "trainer.patience=1000000", "search.fail_fast_steps=null")
    module = build_module(cfg, [(DS, run) for run in range(members)], max_steps=steps)
    clock = StepClock()
    make_trainer(cfg.trainer, Fit(callbacks=[clock]), steps).fit(module)
    return clock.seconds / steps


def group_work(points: list[dict], N: int, max_steps: int) -> dict:
    """Row-steps of a job's groups (each point says how many members its group had; a group's points are
    consecutive): computed by an engine that keeps every member to its group's last step ("kept"), computed
    when stopped members leave after their stopping check ("compacted"), and spent on real patterns of
    members still training ("useful"). Every row of a job costs the same FLOPs, so their ratios are FLOP
    shares."""
    work = {"kept": 0, "compacted": 0, "useful": 0}
    i = 0
    while i < len(points):
        group = points[i:i + points[i]["members"]]
        i += len(group)
        rows = aligned_rows(max(p["DS"] for p in group), N)
        # A member that stopped at a check computed that check's step too (frozen); one at the cap did not.
        computed = [min(p["steps"] + 1, max_steps) for p in group]
        work["kept"] += len(group) * rows * max(computed)
        work["compacted"] += rows * sum(computed)
        work["useful"] += sum(p["DS"] * p["steps"] for p in group)
    return work


def engine_benchmark(repeats: int, quick: bool, out: Path) -> None:
    """Part 9: the engine with and without its shortcuts, side by side; then the work its searches waste."""
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    out.mkdir(parents=True, exist_ok=True)
    load = [os.getloadavg()[0]]
    shapes = ENGINE_SHAPES[:1] + ENGINE_SHAPES[3:4] if quick else ENGINE_SHAPES
    runs = [(name, 1) for name in ENGINES] + [("default", 2)]
    peaks = {}
    for threads in sorted({t for _, t in runs}):
        torch.set_num_threads(threads)
        peaks[threads] = matmul_peak("cpu")
    rows = []
    for model, N, DS in shapes:
        cfg = compose(*model, f"N={N}")
        flops = step_flops(build_module(cfg, [(DS, run) for run in range(5)], max_steps=1))
        # About two seconds per fit at half of one thread's peak, in whole checks.
        steps = max(100, min(1000, int(peaks[1] / flops) // 50 * 50))
        seconds = {run: [] for run in runs}
        for _ in range(repeats):
            for name, threads in runs:
                torch.set_num_threads(threads)
                seconds[(name, threads)].append(timed_fit(model + ENGINES[name], N, DS, steps))
        torch.set_num_threads(1)
        row = {"model": " ".join(model), "N": N, "DS": DS, "members": 5, "steps": steps, "step_flops": flops}
        for (name, threads), times in seconds.items():
            median = statistics.median(times)
            key = f"{name}, {threads} thread{'s' if threads > 1 else ''}"
            row[key] = {"step_ms": round(1e3 * median, 3), "gflops": round(flops / median / 1e9, 1),
                        "of_peak": round(flops / median / peaks[threads], 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    load.append(os.getloadavg()[0])
    waste = {}
    for source in WASTE_SOURCES:
        kept = compacted = useful = 0
        for path in sorted((ROOT / source).glob("*/result.json")):
            result = json.loads(path.read_text())
            work = group_work(result["points"], result["config"]["N"], result["config"]["max_steps"])
            kept, compacted, useful = kept + work["kept"], compacted + work["compacted"], useful + work["useful"]
        waste[source] = {"kept_wasted": round(1 - useful / kept, 4), "compacted_wasted": round(1 - useful / compacted, 4),
                         "work_ratio": round(compacted / kept, 4)}
    columns = [f"{name}, {t} thread{'s' if t > 1 else ''}" for name, t in runs]
    header = run_header(f"python scripts/bench.py --engine --repeats {repeats}{' --quick' if quick else ''}",
                        f"torch {torch.__version__}, load {load[0]:.2f} before and {load[1]:.2f} after")
    lines = [header, "", "torch.matmul fp32 peak (2048²): " + ", ".join(
        f"{peaks[t] / 1e9:.1f} GFLOP/s at {t} thread{'s' if t > 1 else ''}" for t in peaks) + ".", "",
        *table_head("network", "N", "DS", "steps", "MFLOP a step", *(f"{c}: ms a step (of peak)" for c in columns),
                    "default / one step a call")]
    for r in rows:
        cells = [f"{r[c]['step_ms']:.2f} ({100 * r[c]['of_peak']:.0f}%)" for c in columns]
        speedup = r[columns[0]]["step_ms"] / r[columns[1]]["step_ms"]
        lines.append(f"| {r['model']} | {r['N']} | {r['DS']} | {r['steps']} | {r['step_flops'] / 1e6:.1f} | "
                     + " | ".join(cells) + f" | {speedup:.2f}× |")
    lines += ["", "Work of the committed searches' fits that computed no real pattern of a training member "
              "(padding rows, and members that had stopped), counted from their points:", "",
              *table_head("results", "wasted: every member to its group's end", "wasted: stopped members leave",
                          "work left (leave / to the end)")]
    lines += [f"| {source} | {100 * w['kept_wasted']:.1f}% | {100 * w['compacted_wasted']:.2f}% | "
              f"{100 * w['work_ratio']:.1f}% |" for source, w in waste.items()]
    publish(out / "engine", {"peaks": peaks, "rows": rows, "waste": waste, "load": load}, lines)
