"""The two studies' training runs, through the framework's engine, and their written results.

Both train exactly what a job with ``DS`` fixed would train (memcap.patterns.engine),
seeded, so a rerun reproduces every count; overlap statistics are computed on
the very datasets trained on (memcap.patterns.engine.member_data).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from matplotlib.figure import Figure
from omegaconf import OmegaConf
from rich.progress import track

from memcap.analysis.figures import figure_overlap, figure_variance
from memcap.analysis.overlap import PATTERN_STATISTICS, STATISTICS, correlations, dataset_overlap, pattern_overlaps
from memcap.analysis.variance import variance_components, variance_summary
from memcap.config import learning_rate
from memcap.configs import compose
from memcap.patterns.config import criterion_bti, loss_name, validate
from memcap.patterns.engine import member_data, member_seeds, train_members
from memcap.patterns.metrics import memorized
from memcap.patterns.schema import Point


def _fixed_ds(cfg) -> int:
    validate(cfg)
    if cfg.DS is None:
        raise ValueError("the studies train one dataset size: set DS")
    return cfg.DS


def _train_and_recall(cfg, members: list[tuple[int, int]]) -> tuple[list[Point], dict[tuple[int, int], torch.Tensor]]:
    """Train ``members``; also say which patterns each memorized (with the best weights its Point counts)."""
    networks = []
    points = train_members(cfg, members, prepare=lambda network, group: networks.append((network, list(group))))
    bti = criterion_bti(cfg)
    recalled = {}
    for network, group in networks:
        data = [member_data(cfg, DS, run) for DS, run in group]
        X = torch.zeros(len(group), max(DS for DS, _ in group), cfg.N)
        for i, (x, _) in enumerate(data):
            X[i, :len(x)] = x
        with torch.no_grad():
            outputs = torch.sigmoid(network(X.to(next(network.parameters()).device))).cpu()
        for i, ((DS, run), (_, Y)) in enumerate(zip(group, data)):
            recalled[DS, run] = memorized(outputs[i, :DS], Y, bti)
    return points, recalled


def overlap_runs(cfg, runs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train ``runs`` members at ``cfg.DS``, each its own data and initialization.

    Returns one row per run (memorized and its dataset's overlap statistics) and
    one row per pattern of every run (memorized or not, and its own overlap with
    the rest of its dataset).
    """
    DS = _fixed_ds(cfg)
    points, recalled = _train_and_recall(cfg, [(DS, run) for run in range(runs)])
    rows, patterns = [], []
    for p in sorted(points, key=lambda p: p.run):
        X, Y = member_data(cfg, DS, p.run)
        rows.append({"run": p.run, "memorized": p.memorized, "stop": p.stop, "steps": p.steps, **dataset_overlap(X, Y)})
        patterns.append(pattern_overlaps(X, Y).assign(run=p.run, memorized=recalled[DS, p.run].numpy()))
    return pd.DataFrame(rows), pd.concat(patterns, ignore_index=True)


def crossed_runs(cfg, datasets: int, inits: int) -> pd.DataFrame:
    """One row per (dataset, init) cell at ``cfg.DS``: every dataset trained from every initialization.

    Dataset d is the one of ``data_seed=d``; initialization i is run i's own of
    ``cfg.seed`` (``member_seeds``), which does not depend on the data seed, so
    init i is the same weights on every dataset.
    """
    DS = _fixed_ds(cfg)
    rows = []
    for dataset in track(range(datasets), description=f"{datasets} datasets x {inits} inits",
                         disable=not sys.stderr.isatty()):
        pinned = OmegaConf.merge(cfg, {"data_seed": dataset})
        overlap = dataset_overlap(*member_data(pinned, DS, 0))
        for p in sorted(train_members(pinned, [(DS, run) for run in range(inits)]), key=lambda p: p.run):
            rows.append({"dataset": dataset, "init": p.run, "init_seed": member_seeds(pinned, p.run, DS)[1],
                         "memorized": p.memorized, "stop": p.stop, "steps": p.steps, **overlap})
    return pd.DataFrame(rows)


@dataclass
class Study:
    """A finished study: every run, its tables (Markdown and CSV) and its figure."""

    name: str
    runs: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    figure: Figure


def _describe(cfg) -> str:
    return (f"{cfg.model.name}/{loss_name(cfg)} N={cfg.N} DS={cfg.DS} s={cfg.s} lr={learning_rate(cfg)} "
            f"max_steps={cfg.trainer.max_steps} seed={cfg.seed}")


def recall_by_overlap(patterns: pd.DataFrame) -> pd.DataFrame:
    """The fraction of patterns memorized at each nearest-neighbour overlap (input and target), pooled over runs."""
    levels = [patterns.groupby(column).memorized.agg(patterns="size", memorized_fraction="mean").reset_index()
              .rename(columns={column: "shared_bits"}).assign(statistic=column)
              for column in ("input_nearest", "output_nearest")]
    return pd.concat(levels, ignore_index=True)[["statistic", "shared_bits", "patterns", "memorized_fraction"]]


def overlap_study(cfg, runs: int) -> Study:
    """(1) Does a dataset whose patterns overlap more get fewer of them memorized? Correlations across runs,
    and within datasets: is a pattern that overlaps more with the others less often memorized?"""
    frame, patterns = overlap_runs(cfg, runs)
    table = correlations(frame, "memorized", list(STATISTICS))
    spread = frame.memorized.agg(["mean", "std", "min", "max"]).to_frame().T.assign(runs=runs)
    by_level = recall_by_overlap(patterns)
    figure = figure_overlap(frame, table, by_level, f"Overlap of active bits vs memorized, {runs} runs: {_describe(cfg)}")
    return Study("overlap", frame, {"correlations": table, "memorized": spread,
                                    "pattern_correlations": correlations(patterns, "memorized", list(PATTERN_STATISTICS)),
                                    "recall_by_nearest_overlap": by_level}, figure)


def variance_study(cfg, datasets: int, inits: int) -> Study:
    """(2) How much of the spread is the data's and how much the initialization's? A crossed design's ANOVA.

    The dataset means (over initializations) against their overlap statistics
    repeat study (1) with the initialization's share of the noise averaged out.
    """
    frame = crossed_runs(cfg, datasets, inits)
    anova = variance_components(frame, "memorized", "dataset", "init")
    summary = pd.DataFrame([variance_summary(anova)])
    means = frame.groupby("dataset").agg({"memorized": "mean", **{s: "first" for s in STATISTICS}}).reset_index()
    title = f"Memorized per dataset and initialization, {datasets} x {inits}: {_describe(cfg)}"
    return Study("variance", frame, {"anova": anova, "sd_of_one_run": summary,
                                     "dataset_mean_correlations": correlations(means, "memorized", list(STATISTICS))},
                 figure_variance(frame, anova, title))


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """GitHub-flavoured Markdown (pandas' to_markdown needs tabulate); floats to ``digits`` significant
    digits, or to the unit when they have more integer digits than that."""
    def cell(value) -> str:
        if isinstance(value, float):
            if pd.isna(value):
                return ""
            return f"{value:.0f}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"
        return str(value)

    lines = [list(map(str, frame.columns)), ["---"] * len(frame.columns)]
    lines += [[cell(v) for v in row] for row in frame.itertuples(index=False)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


def study_config(overrides: list[str]):
    """The config of a study: N=100, DS=300 (the report's point near capacity), no logger, then ``overrides``."""
    chosen = {"N": "100", "DS": "300", "logger": "none"}
    chosen.update(override.split("=", 1) for override in overrides)
    return compose(*(f"{key}={value}" for key, value in chosen.items()))


def write_study(study: Study, out: Path, header: str) -> list[Path]:
    """<name>_runs.csv (every run), <name>_<table>.csv, <name>.md (the header, then the tables), <name>.png/.pdf."""
    out.mkdir(parents=True, exist_ok=True)
    csvs = {"runs": study.runs, **study.tables}
    for key, table in csvs.items():
        table.to_csv(out / f"{study.name}_{key}.csv", index=False)
    text = header + "".join(f"\n### {key}\n\n{markdown_table(table)}" for key, table in study.tables.items())
    (out / f"{study.name}.md").write_text(text, encoding="utf-8")
    for fmt in ("png", "pdf"):
        study.figure.savefig(out / f"{study.name}.{fmt}", dpi=150)
    return [out / f"{study.name}_{key}.csv" for key in csvs] + [out / f"{study.name}.{ext}" for ext in ("md", "png", "pdf")]
