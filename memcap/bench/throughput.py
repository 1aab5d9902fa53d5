"""Parts 1 and 2 (``python scripts/bench.py``, ``make bench``): the ensemble engine against a per-model loop
and the device's matmul peak, and the default recipe end to end.

1. Throughput: for N in {100, 200, 500} and ensemble sizes {1, 5, 15, 40}, the same full-batch Adam steps
   (DS = 3 N, bce) done (a) by a plain PyTorch loop, one torch.nn.Linear model at a time, and (b) by the
   engine (memcap's Lightning module, all members in one batched step). Reports model-steps per second, the
   ratio engine / loop, and achieved FLOP/s (matmul FLOPs: 4 DS N^2 per model-step, forward and weight
   gradient) as a fraction of torch.matmul's peak measured in the same process on the same device.
2. End to end: `python train.py N=100 DS=300 runs=5` (the default recipe) in a fresh process (start-up
   included): wall time and mean memorized patterns. ``--end-to-end-only`` remeasures just this and keeps
   the rest of results.json.

Writes <out>/results.json and <out>/results.md (the table benchmarks/README.md quotes).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from memcap.bench.common import matmul_peak, sync, train_in_fresh_process
from memcap.configs import compose
from memcap.fitting import Fit, make_trainer
from memcap.patterns.data import make_patterns
from memcap.patterns.engine import build_module


def per_model_loop(N: int, DS: int, members: int, steps: int, device: str) -> float:
    """Seconds for ``members`` models trained one after another, ``steps`` full-batch Adam steps each."""
    total = 0.0
    for m in range(members):
        X, Y = (t.to(device) for t in make_patterns(N, DS, 0.1, seed=m))
        model = torch.nn.Linear(N, N).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            loss = F.binary_cross_entropy_with_logits(model(X), Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        sync(device)
        total += time.perf_counter() - start
    return total


def engine(N: int, DS: int, members: int, steps: int, device: str) -> tuple[float, float]:
    """Seconds for the engine to train ``members`` together for ``steps`` steps, and Lightning's share of it."""
    accelerator = "gpu" if device == "cuda" else "cpu"
    # patience: measure steps, not early stopping.
    cfg = compose(f"N={N}", "lr=0.01", f"trainer.accelerator={accelerator}", "trainer.patience=1000000")
    module = build_module(cfg, [(DS, run) for run in range(members)], max_steps=steps)
    trainer = make_trainer(cfg.trainer, Fit(), steps)
    start = time.perf_counter()
    trainer.fit(module)
    sync(device)
    fitted = time.perf_counter() - start
    # The same steps without Lightning: what the module's own step costs.
    module.to(torch.device(device))
    module.on_fit_start()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        module._step()
    sync(device)
    bare = time.perf_counter() - start
    return fitted, bare


END_TO_END = "N=100 DS=300 runs=5"


def end_to_end() -> dict:
    result, wall, printed = train_in_fresh_process(END_TO_END.split())
    return {"wall_s": round(wall, 2), "memorized_mean": result["metrics"]["memorized_mean"],
            "memorized_runs": result["metrics"]["memorized_runs"], "summary": printed}


def throughput_benchmark(device: str, quick: bool, seconds: float, out: Path) -> None:
    """Parts 1 and 2: at each N and ensemble size (``quick``: N=100 with 1 and 15 members) the per-model loop
    and the engine, about ``seconds`` of engine work each; then the default recipe end to end. Written by
    ``write`` to ``out``."""
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # peak and engine both in fp32

    peak = matmul_peak(device)
    sizes = [100] if quick else [100, 200, 500]
    ensembles = [1, 15] if quick else [1, 5, 15, 40]
    rows = []
    for N in sizes:
        DS = 3 * N
        flops_per_model_step = 4 * DS * N * N
        for members in ensembles:
            # About ``seconds`` of engine work at a quarter of the peak: at least 20 steps, at most 1000.
            steps = min(1000, max(20, int(seconds * peak * 0.25 / (flops_per_model_step * members))))
            loop = per_model_loop(N, DS, members, steps, device) if members <= 15 or N < 500 else None
            fitted, bare = engine(N, DS, members, steps, device)
            engine_rate = members * steps / fitted
            row = {
                "N": N, "DS": DS, "members": members, "steps": steps,
                "engine_model_steps_per_s": round(engine_rate, 1),
                "loop_model_steps_per_s": round(members * steps / loop, 1) if loop else None,
                "speedup": round(engine_rate / (members * steps / loop), 2) if loop else None,
                "engine_flops": engine_rate * flops_per_model_step,
                "fraction_of_peak": round(engine_rate * flops_per_model_step / peak, 3),
                "lightning_overhead": round(1 - bare / fitted, 3),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    e2e = end_to_end()
    print(json.dumps(e2e), flush=True)
    report = {
        "device": torch.cuda.get_device_name() if device == "cuda" else f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__, "matmul_peak_flops": peak, "throughput": rows, "end_to_end": e2e,
        "date": time.strftime("%Y-%m-%d"),
    }
    write(report, out)


def end_to_end_only(out: Path) -> None:
    """Part 2 again, into the results.json already in ``out`` (part 1 kept)."""
    report = json.loads((out / "results.json").read_text())
    report["end_to_end"] = end_to_end()
    report["end_to_end"]["date"] = time.strftime("%Y-%m-%d")
    write(report, out)


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    (out / "results.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        f"Device: {report['device']}, torch {report['torch']}, {report['date']}. "
        f"torch.matmul peak (fp32, 2048²): {report['matmul_peak_flops'] / 1e9:.1f} GFLOP/s.",
        "",
        "| N | DS | members | engine model-steps/s | per-model loop model-steps/s | engine / loop | engine GFLOP/s | of matmul peak | Lightning overhead |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["throughput"]:
        loop = f"{r['loop_model_steps_per_s']:.1f}" if r["loop_model_steps_per_s"] else "–"
        speedup = f"{r['speedup']:.1f}×" if r["speedup"] else "–"
        lines.append(
            f"| {r['N']} | {r['DS']} | {r['members']} | {r['engine_model_steps_per_s']:.1f} | {loop} | {speedup} | "
            f"{r['engine_flops'] / 1e9:.1f} | {100 * r['fraction_of_peak']:.0f}% | {100 * r['lightning_overhead']:.0f}% |"
        )
    e = report["end_to_end"]
    lines += ["", f"End to end, `python train.py {END_TO_END}` in a fresh process"
              f"{' (' + e['date'] + ')' if 'date' in e else ''}: "
              f"{e['wall_s']:.1f} s, memorized {e['memorized_runs']} (mean {e['memorized_mean']:.1f} of 300)."]
    return "\n".join(lines) + "\n"
