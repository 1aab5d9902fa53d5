"""Which recipe trains the recurrent network to its capacity, and how many steps does it need?

Usage: python scripts/recurrent_recipe_study.py [--sizes 50:700] [--steps 2,3] [--runs 3]
                                                [--recipes NAME,...] [--budgets 2000,5000,10000,20000]
                                                [--out benchmarks/recurrent_recipe] [--certify]

For each (N, DS) near the recurrent network's capacity, each number of time
steps and each recipe (config overrides), trains ``runs`` members on exactly the
datasets a job would use, for up to the largest budget, with the job's own
stopping rule (patience on the memorized count), and records the best count by
each budget (by default 2k, 5k, 10k, 20k steps; the largest is the cap), the
steps each member trained (its plateau, or the cap) and the wall time; finer
budgets show when a member takes off (results/recurrent_slow_start). Writes recipe.csv, recipe.md and
budget.png (the best count against the step budget, a panel per N and time steps, a line per DS and recipe:
the runs' mean, their range shaded, DS dotted) into --out; rows of earlier runs are kept unless this run
measures them again.

``--certify`` (2 time steps): after each fit, each run's R solved by LPs with its trained W and b
(memcap.patterns.oracle.last_step): the patterns the network recalls then, beside the count as trained
(its best check's weights), how many runs store the whole dataset so, and how many neurons' LPs have zero
slack.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcap.configs import compose  # noqa: E402
from memcap.fitting import Fit, run_fit  # noqa: E402
from memcap.loggers import quiet_libraries  # noqa: E402
from memcap.patterns.engine import build_module, member_data  # noqa: E402
from memcap.patterns.losses import ensemble_loss  # noqa: E402
from memcap.patterns.metrics import memorized  # noqa: E402
from memcap.patterns.oracle import last_step  # noqa: E402

BUDGETS = (2000, 5000, 10000, 20000)
RECIPES = {  # name -> overrides; every one with the job's patience (20 checks of 50 steps)
    "default": [],  # the model's own: bce, lr 0.1 at 2 steps and 0.03 at 3 (conf/model/recurrent.yaml)
    "default cosine": ["trainer.schedule=cosine"],  # the lr decays to 0 at the largest budget (the cap)
    "bce lr0.1": ["loss=bce", "lr=0.1"],
    "bce lr0.03": ["loss=bce", "lr=0.03"],
    "log_hinge lr0.1": ["loss=log_hinge", "lr=0.1"],
    "bce 500 then log_hinge lr0.1": ["loss=log_hinge", "loss.warmup=bce", "loss.warmup_steps=500", "lr=0.1"],
    "bce 500 then log_hinge lr0.03": ["loss=log_hinge", "loss.warmup=bce", "loss.warmup_steps=500", "lr=0.03"],
    "bce 2000 then log_hinge lr0.1": ["loss=log_hinge", "loss.warmup=bce", "loss.warmup_steps=2000", "lr=0.1"],
    "default warmup_cosine": ["trainer.schedule=warmup_cosine"],  # lr rises over 5% of the cap, then decays to 0
    "bce lr0.03 warmup_cosine": ["loss=bce", "lr=0.03", "trainer.schedule=warmup_cosine"],
    "lbfgs": ["loss=bce"],  # full-batch L-BFGS (measure_lbfgs): its budgets count loss evaluations, not Adam steps
}
LBFGS = {"lr": 1.0, "history_size": 100, "line_search_fn": "strong_wolfe"}  # the "lbfgs" recipe's optimizer


def measure(N: int, DS: int, steps: int, runs: int, name: str, budgets: tuple[int, ...], certify: bool = False) -> dict:
    cfg = compose("logger=none", "model=recurrent", f"N={N}", f"steps={steps}", f"runs={runs}",
                  f"trainer.max_steps={max(budgets)}",
                  "search.fail_fast_steps=null",  # every member trains to the largest budget unless its count plateaus
                  *RECIPES[name])
    row = {"recipe": name, "N": N, "DS": DS, "steps": steps, "runs": runs}
    if name == "lbfgs":
        start = time.perf_counter()
        by_budget = [measure_lbfgs(cfg, DS, run, budgets) for run in range(runs)]
        for i, budget in enumerate(budgets):
            counts = [best[i] for best in by_budget]
            row[f"mean@{label(budget)}"], row[f"max@{label(budget)}"] = float(np.mean(counts)), max(counts)
            row[f"min@{label(budget)}"] = min(counts)
        return {**row, "steps_trained_mean": float(max(budgets)), "steps_trained_max": max(budgets),
                "capped_runs": runs, "seconds": round(time.perf_counter() - start, 1)}
    module = build_module(cfg, [(DS, run) for run in range(runs)], milestones=budgets)
    seconds = run_fit(cfg.trainer, module, Fit(), max(budgets))
    for budget in budgets:
        counts = module.best_at(budget).tolist()
        row[f"mean@{label(budget)}"], row[f"max@{label(budget)}"] = float(np.mean(counts)), max(counts)
        row[f"min@{label(budget)}"] = min(counts)
    trained = module.steps_trained.tolist()
    row.update({"steps_trained_mean": float(np.mean(trained)), "steps_trained_max": max(trained),
                "capped_runs": sum(s >= max(budgets) for s in trained), "seconds": round(seconds, 1)})
    if certify:  # each run's R solved by LPs with its trained W and b (memcap.patterns.oracle.last_step)
        found = [last_step.certify(module.model, run, *member_data(cfg, DS, run)) for run in range(runs)]
        row.update({"trained_mean": float(np.mean([c.trained for c in found])),
                    "certified_mean": float(np.mean([c.count for c in found])),
                    "certified_max": max(c.count for c in found),
                    "certified_whole_runs": sum(c.count == DS for c in found),
                    "neurons_solved_whole": f"{min(c.whole_neurons for c in found)}-{max(c.whole_neurons for c in found)} of {N}"})
    return row


def measure_lbfgs(cfg, DS: int, run: int, budgets: tuple[int, ...]) -> list[int]:
    """One member (its data and initialization as a job's) trained by full-batch L-BFGS on the recipe's loss;
    its best memorized count by each budget of loss evaluations (each costs about one Adam step: a forward and
    a backward pass). L-BFGS's line search is over all of a model's parameters, so each member is its own model,
    not a member of an ensemble, and no plateau stops it."""
    module = build_module(cfg, [(DS, run)])
    network, X, Y, weight = module.model, module.X, module.Y, module.weight
    optimizer = torch.optim.LBFGS(network.parameters(), max_iter=budgets[-1], max_eval=budgets[-1],
                                  tolerance_grad=0.0, tolerance_change=0.0, **LBFGS)
    best, evaluations, by_budget = 0, 0, []

    def closure() -> torch.Tensor:
        nonlocal best, evaluations
        optimizer.zero_grad()
        logits = network(X)
        loss = ensemble_loss(module.loss_name, logits, Y, weight, module.bti, module.margin, module.tau).sum()
        loss.backward()
        with torch.no_grad():
            best = max(best, int((memorized(torch.sigmoid(logits), Y, module.bti) & (weight > 0)).sum()))
        evaluations += 1
        if len(by_budget) < len(budgets) and evaluations == budgets[len(by_budget)]:
            by_budget.append(best)
        return loss

    while evaluations < budgets[-1]:  # one call runs up to max_eval evaluations, unless the loss stops changing
        before = evaluations
        optimizer.step(closure)
        if evaluations == before:
            break
    return by_budget + [best] * (len(budgets) - len(by_budget))  # stopped early: its count holds


# --certify's columns: the runs' counts as trained (their final weights) and with R solved by LPs.
CERTIFIED = ("trained_mean", "certified_mean", "certified_max", "certified_whole_runs", "neurons_solved_whole")


def label(budget: int) -> str:
    """A budget's column name: 2000 -> "2k", 1500 -> "1.5k"."""
    return f"{budget / 1000:g}k"


def markdown(frame: pd.DataFrame, budgets: tuple[int, ...]) -> str:
    columns = ["recipe", "N", "DS", "steps", *[f"{kind}@{label(b)}" for b in budgets for kind in ("mean", "max")],
               "steps_trained_mean", "capped_runs", "seconds"]
    columns += [c for c in CERTIFIED if c in frame]
    return frame[columns].to_markdown(index=False, floatfmt=".1f")


def plot(frame: pd.DataFrame, budgets: tuple[int, ...], path: Path) -> None:
    """The best count against the step budget: does it still rise at the cap?"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = sorted({(int(N), int(steps)) for N, steps in zip(frame.N, frame.steps)})
    figure, axes = plt.subplots(1, len(cells), figsize=(4 * len(cells), 3.4), squeeze=False)
    for ax, (N, steps) in zip(axes[0], cells):
        rows = frame[(frame.N == N) & (frame.steps == steps)]
        for _, row in rows.sort_values(["DS", "recipe"]).iterrows():
            # The budgets this row was measured at (a row of a run with fewer budgets has NaN beyond them).
            measured = [b for b in budgets if not np.isnan(row.get(f"mean@{label(b)}", np.nan))]
            means = [row[f"mean@{label(b)}"] for b in measured]
            line, = ax.plot(measured, means, marker="o", label=f"DS={row.DS} {row.recipe}")
            lows = [row.get(f"min@{label(b)}", np.nan) for b in measured]  # rows of older runs have no minimum
            if not np.isnan(lows).any():
                ax.fill_between(measured, lows, [row[f"max@{label(b)}"] for b in measured], color=line.get_color(),
                                alpha=0.15)
            ax.axhline(row.DS, color=line.get_color(), linestyle=":", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_xticks(budgets, [label(b) for b in budgets])
        ax.set_title(f"N={N}, {steps} steps")
        ax.set_xlabel("step budget")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("best memorized count by the budget")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50:700", help="N:DS pairs, comma-separated")
    parser.add_argument("--steps", default="2,3")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="names from RECIPES, comma-separated")
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)),
                        help="steps at which the best count is recorded, comma-separated; the largest is the cap")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "recurrent_recipe")
    parser.add_argument("--certify", action="store_true",
                        help="after each fit, each run's R solved by LPs with its trained W and b (2 time steps)")
    args = parser.parse_args()
    budgets = tuple(sorted(int(b) for b in args.budgets.split(",")))
    names = [name.strip() for name in args.recipes.split(",")]
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; known: {', '.join(RECIPES)}")
    sizes = [tuple(int(x) for x in pair.split(":")) for pair in args.sizes.split(",")]
    quiet_libraries()
    args.out.mkdir(parents=True, exist_ok=True)
    csv = args.out / "recipe.csv"
    for N, DS in sizes:
        for steps in (int(s) for s in args.steps.split(",")):
            for name in names:
                start = time.perf_counter()
                row = measure(N, DS, steps, args.runs, name, budgets, args.certify)
                print(f"{name} N={N} DS={DS} steps={steps}: " + ", ".join(
                    f"{label(b)} {row[f'mean@{label(b)}']:.1f}/{row[f'max@{label(b)}']}" for b in budgets)
                    + f"; {time.perf_counter() - start:.0f}s", flush=True)
                earlier = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
                if not earlier.empty:
                    same = (earlier.recipe == name) & (earlier.N == N) & (earlier.DS == DS) & (earlier.steps == steps)
                    earlier = earlier[~same]
                frame = pd.concat([earlier, pd.DataFrame([row])], ignore_index=True)
                frame.to_csv(csv, index=False)
                (args.out / "recipe.md").write_text(markdown(frame, budgets) + "\n")
                plot(frame, budgets, args.out / "budget.png")


if __name__ == "__main__":
    main()
