"""Figures of the two studies (matplotlib.figure.Figure: no pyplot state, no GUI backend)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# Overlap levels shared by fewer patterns are left out of the per-pattern panel: their fraction is noise.
MIN_PATTERNS = 30


def figure_overlap(runs: pd.DataFrame, table: pd.DataFrame, by_level: pd.DataFrame, title: str) -> Figure:
    """Memorized against each overlap statistic, one panel each, one dot per run, with a least-squares line and r;
    last, the fraction of patterns memorized against their nearest-neighbour overlap (pooled over runs)."""
    cols = 4
    rows = -(-(len(table) + 1) // cols)
    fig = Figure(figsize=(3.2 * cols, 2.8 * rows), layout="constrained")
    fig.suptitle(title)
    for i, row in enumerate(table.itertuples()):
        ax = fig.add_subplot(rows, cols, i + 1)
        x, y = runs[row.statistic].to_numpy(float), runs.memorized.to_numpy(float)
        ax.scatter(x, y, s=12, alpha=0.7)
        if np.ptp(x) > 0:
            slope, intercept = np.polyfit(x, y, 1)
            ax.plot(np.sort(x), slope * np.sort(x) + intercept, "k-", linewidth=1)
        ax.set_title(f"r = {row.pearson_r:.2f} [{row.r_low:.2f}, {row.r_high:.2f}]", fontsize="small")
        ax.set_xlabel(row.statistic, fontsize="small")
        ax.set_ylabel("memorized" if i % cols == 0 else "")
        ax.tick_params(labelsize="x-small")
        ax.grid(alpha=0.3)
    ax = fig.add_subplot(rows, cols, len(table) + 1)
    for statistic, level in by_level[by_level.patterns >= MIN_PATTERNS].groupby("statistic"):
        p = level.memorized_fraction.to_numpy(float)
        error = 1.96 * np.sqrt(p * (1 - p) / level.patterns.to_numpy(float))
        ax.errorbar(level.shared_bits, p, yerr=error, marker="o", capsize=3, label=statistic)
    ax.set_title(f"per pattern, runs pooled (levels of ≥ {MIN_PATTERNS} patterns)", fontsize="small")
    ax.set_xlabel("most bits shared with another pattern", fontsize="small")
    ax.set_ylabel("fraction memorized", fontsize="small")
    ax.tick_params(labelsize="x-small")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)
    return fig


def figure_variance(cells: pd.DataFrame, anova: pd.DataFrame, title: str) -> Figure:
    """Left: memorized per dataset (ordered by its mean), one colour and line per initialization.
    Right: the share of the variance of one run each source explains."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    fig.suptitle(title, fontsize="medium")
    grid = fig.add_gridspec(1, 3)
    ax = fig.add_subplot(grid[0, :2])
    table = cells.pivot(index="dataset", columns="init", values="memorized")
    table = table.loc[table.mean(axis=1).sort_values().index]
    positions = np.arange(len(table))
    for init in table.columns:
        ax.plot(positions, table[init], marker="o", markersize=4, linewidth=0.8, alpha=0.8, label=f"init {init}")
    ax.plot(positions, table.mean(axis=1), "k_", markersize=18, markeredgewidth=2, label="dataset mean")
    ax.set_xticks(positions, [str(d) for d in table.index])
    ax.set(xlabel="dataset (data_seed), ordered by mean", ylabel="memorized")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    bars = fig.add_subplot(grid[0, 2])
    parts = anova.iloc[:3]
    bars.bar(parts.source, parts.share, color=["tab:blue", "tab:orange", "tab:grey"])
    for x, (share, component) in enumerate(zip(parts.share, parts.component)):
        bars.annotate(f"{share:.0%}\nσ={np.sqrt(component):.1f}", (x, share), ha="center", va="bottom", fontsize="small")
    bars.set(ylim=(0, 1.15), ylabel="share of the variance of one run")
    bars.tick_params(axis="x", labelsize="small")
    return fig

