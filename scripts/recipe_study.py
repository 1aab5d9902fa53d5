"""Which training recipe gets the simple network closest to the LP oracle, and at what cost?

Usage: python scripts/recipe_study.py [--sizes 100:300,200:700] [--runs 5] [--out benchmarks/recipe] [--interval 300]

For each recipe (a list of config overrides) and each (N, DS), trains `runs`
members on exactly the datasets a job would use (memcap.patterns.engine.member_data),
computes the LP oracle's count on the same datasets (memcap.patterns.oracle), and
records memorized mean, oracle ratio and wall time. Writes recipe.csv,
recipe.md and recipe.png/pdf (oracle ratio vs wall time) into --out; rows of
earlier runs in recipe.csv are kept unless this run measures them again.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcap.configs import compose  # noqa: E402
from memcap.patterns.config import criterion_bti, loss_name  # noqa: E402
from memcap.patterns.engine import member_data, train_members  # noqa: E402
from memcap.patterns.oracle import lp_memorized, oracle_interval  # noqa: E402

# name -> overrides (constant lr unless "cosine"). "report" is the report's optimizer and lr, full batch.
# Rows up to "bce_ignore lr1 4k" were measured when patience also reset on a falling loss (docs/recipe.md).
RECIPES = {
    "default: log_hinge tau10 lr0.1 10k": ["loss=log_hinge", "loss.tau=10", "lr=0.1", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "log_hinge tau3 lr0.1 10k": ["loss=log_hinge", "loss.tau=3", "lr=0.1", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "log_hinge tau30 lr0.1 10k": ["loss=log_hinge", "loss.tau=30", "lr=0.1", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "log_hinge tau1 lr0.1 10k": ["loss=log_hinge", "loss.tau=1", "lr=0.1", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "log_hinge tau10 lr0.03 10k": ["loss=log_hinge", "loss.tau=10", "lr=0.03", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "log_hinge tau10 lr0.3 10k": ["loss=log_hinge", "loss.tau=10", "lr=0.3", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "log_hinge tau10 lr0.1 cosine 10k": ["loss=log_hinge", "loss.tau=10", "lr=0.1", "trainer.schedule=cosine", "trainer.max_steps=10000"],
    "bce lr0.1 10k": ["loss=bce", "lr=0.1", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "report (bce lr0.01 4k)": ["loss=bce", "lr=0.01", "trainer.schedule=constant", "trainer.max_steps=4000"],
    "bce lr0.01 batch32 4k": ["loss=bce", "lr=0.01", "trainer.schedule=constant", "trainer.max_steps=4000", "trainer.batch_size=32"],
    "bce lr0.1 cosine 4k": ["loss=bce", "lr=0.1", "trainer.schedule=cosine", "trainer.max_steps=4000"],
    "bce lr0.3 4k": ["loss=bce", "lr=0.3", "trainer.schedule=constant", "trainer.max_steps=4000"],
    "bce lr1 4k": ["loss=bce", "lr=1.0", "trainer.schedule=constant", "trainer.max_steps=4000"],
    "bce lr1 10k": ["loss=bce", "lr=1.0", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "hinge lr0.1 4k": ["loss=hinge", "lr=0.1", "trainer.schedule=constant", "trainer.max_steps=4000"],
    "hinge lr0.3 4k": ["loss=hinge", "lr=0.3", "trainer.schedule=constant", "trainer.max_steps=4000"],
    "hinge lr0.3 cosine 10k": ["loss=hinge", "lr=0.3", "trainer.schedule=cosine", "trainer.max_steps=10000"],
    "hinge lr0.3 10k": ["loss=hinge", "lr=0.3", "trainer.schedule=constant", "trainer.max_steps=10000"],
    "bce_ignore lr1 4k": ["loss=bce_ignore", "lr=1.0", "trainer.schedule=constant", "trainer.max_steps=4000"],
}


def measured_intervals(path: Path) -> dict[tuple[int, int, int, int], tuple[int, int]]:
    """(N, DS, run, bti) -> (lower, upper) from scripts/oracle_check.py --interval (same datasets: seed 0)."""
    if not path.exists():
        return {}
    df = pd.read_csv(path)
    return {(r.N, r.DS, r.run, r.bti): (int(r.lower), int(r.upper)) for r in df.itertuples()}


def study(sizes: list[tuple[int, int]], runs: int, names: list[str], interval_rounds: int | None = None):
    """Yield one result row per (size, recipe).

    With ``interval_rounds`` each dataset also gets the certified interval
    (``oracle_interval``, that many certification rounds; read from
    benchmarks/oracle/interval.csv when measured there): ``upper_mean`` and
    ``ratio_upper`` (trained / proven best, per run, averaged) beside the
    heuristic's ``oracle_mean`` and ``oracle_ratio``.
    """
    oracle_cache: dict[tuple[int, int, int, int], int] = {}
    interval_cache = measured_intervals(ROOT / "benchmarks" / "oracle" / "interval.csv") if interval_rounds else {}
    for N, DS in sizes:
        for name in names:
            cfg = compose("logger=none", f"N={N}", f"runs={runs}", *RECIPES[name])
            bti = criterion_bti(cfg)
            start = time.perf_counter()
            points = train_members(cfg, [(DS, run) for run in range(runs)])
            seconds = time.perf_counter() - start
            trained = [p.memorized for p in sorted(points, key=lambda p: p.run)]
            oracle = []
            for run in range(runs):
                key = (N, DS, run, bti)
                if key not in oracle_cache:
                    oracle_cache[key] = lp_memorized(*member_data(cfg, DS, run), bti=bti, progress=False).memorized
                oracle.append(oracle_cache[key])
            row = {
                "recipe": name, "N": N, "DS": DS, "loss": loss_name(cfg), "runs": runs,
                "memorized_mean": float(np.mean(trained)), "memorized_max": max(trained),
                "oracle_mean": float(np.mean(oracle)),
                "oracle_ratio": float(np.mean([t / o for t, o in zip(trained, oracle)])),
                "seconds": round(seconds, 2), "steps_mean": float(np.mean([p.steps for p in points])),
            }
            if interval_rounds:
                upper = []
                for run in range(runs):
                    key = (N, DS, run, bti)
                    if key not in interval_cache:
                        r = oracle_interval(*member_data(cfg, DS, run), bti=bti, iterations=interval_rounds)
                        interval_cache[key] = (r.lower, r.upper)
                    upper.append(interval_cache[key][1])
                row["upper_mean"] = float(np.mean(upper))
                row["ratio_upper"] = float(np.mean([t / u for t, u in zip(trained, upper)]))
            print(f"N={N} DS={DS} {name:34s} memorized {row['memorized_mean']:7.1f} oracle {row['oracle_mean']:7.1f} "
                  f"ratio {row['oracle_ratio']:.3f}"
                  + (f" proven best <= {row['upper_mean']:.1f} ratio {row['ratio_upper']:.3f}" if interval_rounds else "")
                  + f" {seconds:6.1f}s", flush=True)
            yield row


def markdown(df: pd.DataFrame) -> str:
    """The table docs/recipe.md quotes: per size, best oracle ratio first."""
    table = df.sort_values(["N", "oracle_ratio"], ascending=[True, False])
    columns = ["N", "DS", "recipe", "loss", "memorized_mean", "memorized_max", "oracle_mean", "oracle_ratio",
               "seconds", "steps_mean"]
    formats = ["g", "g", "", "", ".1f", ".0f", ".1f", ".3f", ".0f", ".0f"]
    if "upper_mean" in table:  # the proven end of the interval, where it was measured ("nan": not measured)
        columns[8:8], formats[8:8] = ["upper_mean", "ratio_upper"], [".1f", ".3f"]
    return table[columns].to_markdown(index=False, floatfmt=tuple(formats)) + "\n"


def plot(df: pd.DataFrame, out: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(set(zip(df.N, df.DS)))
    # One colour per recipe (the same in every panel), one marker per loss, and a legend:
    # labels written beside the points overlap where recipes cluster near the oracle.
    recipes = sorted(df.recipe.unique())
    colours = dict(zip(recipes, plt.colormaps["tab20"].colors * 2))
    markers = {"bce": "o", "hinge": "s", "bce_ignore": "^", "log_hinge": "D"}
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes) + 3.5, 4.5), squeeze=False)
    for ax, (N, DS) in zip(axes[0], sizes):
        part = df[(df.N == N) & (df.DS == DS)]
        for _, r in part.iterrows():
            ax.scatter(r.seconds, r.oracle_ratio, marker=markers[r.loss], color=colours[r.recipe], label=r.recipe)
        ax.axhline(0.95, color="grey", linestyle="--", linewidth=0.8)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set(xscale="log", xlim=(0.5 * df.seconds.min(), 2 * df.seconds.max()), ylim=(0, 1.05),
               xlabel=f"wall time for {part.runs.iloc[0]} runs [s] (this CPU)", ylabel="memorized / LP oracle",
               title=f"N={N}, DS={DS}")
    handles = {h.get_label(): h for ax in axes[0] for h in ax.collections}
    fig.legend([handles[r] for r in recipes], recipes, loc="center right", fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1 - 3.3 / fig.get_figwidth(), 1))
    for ext in ("png", "pdf"):
        fig.savefig(out / f"recipe.{ext}", dpi=130)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100:300,200:700", help="N:DS pairs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated recipe names")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "recipe"))
    parser.add_argument("--replot", action="store_true", help="only redraw the figure from <out>/recipe.csv")
    parser.add_argument("--interval", type=int, default=None, metavar="ROUNDS",
                        help="also the certified interval per dataset, within this many certification rounds")
    args = parser.parse_args(argv)
    if args.replot:
        df = pd.read_csv(Path(args.out) / "recipe.csv")
        (Path(args.out) / "recipe.md").write_text(markdown(df))
        return plot(df, Path(args.out))
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    sizes = [tuple(int(x) for x in pair.split(":")) for pair in args.sizes.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for row in study(sizes, args.runs, args.recipes.split(","), args.interval):
        # Rows accumulate across runs (a rerun of a (recipe, N, DS) replaces its row) and are
        # saved as they come, so an interrupted study keeps what it measured.
        df = pd.DataFrame([row])
        if (out / "recipe.csv").exists():
            df = pd.concat([pd.read_csv(out / "recipe.csv"), df]).drop_duplicates(["recipe", "N", "DS"], keep="last")
        df.to_csv(out / "recipe.csv", index=False)
    (out / "recipe.md").write_text(markdown(df))
    plot(df, out)


if __name__ == "__main__":
    main()
