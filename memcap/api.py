"""memcap from Python (a notebook, a script): compose a config, run a job, load results, draw a figure.

    import memcap
    cfg = memcap.compose("N=50", "DS=100", "runs=3", "logger=none")
    result = memcap.run(cfg, "outputs/notebook/n50")         # result.json's contents (skipped if already done)
    df = memcap.load("outputs/notebook")                      # one row per finished job (or wandb="ENTITY/PROJECT")
    fig = memcap.figure("figure1_memorized", df)              # a matplotlib Figure; fig.savefig("f1.pdf")

Each is the function the command line uses (``memcap.configs.compose``,
``memcap.lifecycle.run_job``, ``memcap.aggregate.load``, ``memcap.aggregate.figures``),
so a notebook's job is the same job, with the same identity and result.json, as
``python train.py`` would run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memcap.configs import compose

__all__ = ["compose", "figure", "load", "run", "table"]


def run(cfg, out_dir: str | Path) -> dict[str, Any] | None:
    """Run the job ``cfg`` into ``out_dir`` (its result.json, train state and locks go there); its result."""
    import logging

    from memcap.lifecycle import run_job

    memcap_log = logging.getLogger("memcap")
    if not memcap_log.handlers and not logging.getLogger().handlers:  # a notebook: show the round lines
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        memcap_log.addHandler(handler)
        memcap_log.setLevel(logging.INFO)
    return run_job(cfg, Path(out_dir), Path(out_dir))


def load(*paths: str | Path, wandb: str | None = None, filters: dict | None = None):
    """Finished jobs under ``paths`` (sweep or job directories) and/or the W&B project ``wandb`` as a DataFrame.

    What could not be read is in ``df.attrs["skipped"]`` as (where, why) pairs.
    """
    from memcap.aggregate.sources import load as load_sources

    df, skipped = load_sources(paths, wandb_path=wandb, filters=filters)
    df.attrs["skipped"] = skipped
    return df


def figure(name: str, df, style: str = "screen", width: float | None = None):
    """One of the aggregation's figures (``memcap.aggregate.figures.FIGURES``, e.g. "figure1_memorized",
    "capacity_curve"; text jobs: "text_accuracy") of the pattern or text jobs in ``df``."""
    from memcap.aggregate import figures
    from memcap.aggregate.sources import by_task

    drawings = {**figures.FIGURES, **figures.TEXT_FIGURES}
    if name not in drawings:
        raise KeyError(f"unknown figure {name!r}; known: {', '.join(drawings)}")
    task = "text" if name in figures.TEXT_FIGURES else "patterns"
    return drawings[name](by_task(df)[task], figures.style(style, width))


def table(df) -> dict:
    """The report's tables of the pattern jobs in ``df``, one DataFrame per model (rows: quantities, columns: N)."""
    from memcap.aggregate.sources import by_task
    from memcap.aggregate.tables import report_tables

    return report_tables(by_task(df)["patterns"])
