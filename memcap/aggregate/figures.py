"""The report's Figures 1-3, capacity curves from the search points, and the text task's accuracy against H.

Figures are built on matplotlib.figure.Figure, not pyplot: no global state, no
GUI backend (savefig renders with Agg, or the PDF backend), nothing left open.
One-layer networks get Gardner's bound beside them, as a dashed black line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from memcap.aggregate.sources import points_frame
from memcap.aggregate.tables import network_labels, summarize, summarize_text, text_labels

FORMATS = ("png", "pdf")


def _report_figure(df: pd.DataFrame, per: str | None, ylabel: str, gardner_label: str) -> Figure:
    """Memorized patterns against N, divided by ``per`` (a summary column) or not.

    The maximum over runs is a line with markers; the mean is an 'x' with the
    standard deviation as a vertical bar, as in the report's Figure 1.
    """
    cells = summarize(df)

    def scale(block: pd.DataFrame):
        return block[per] if per else 1

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for network, block in cells.groupby("network", sort=False):
        line, = ax.plot(block.N, block.memorized_max / scale(block), marker="o", label=network)
        ax.errorbar(block.N, block.memorized_mean / scale(block), yerr=block.memorized_std / scale(block),
                    fmt="x", color=line.get_color(), capsize=3)
    simple = cells[cells.model == "simple"]
    for s, bound in simple.drop_duplicates(["s", "N"]).groupby("s"):
        ax.plot(bound.N, bound.gardner_bound / scale(bound), "k--", label=gardner_label.format(s=s))
    ax.set(xlabel="N", ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def figure_memorized(df: pd.DataFrame) -> Figure:
    """Figure 1: memorized patterns against N."""
    return _report_figure(df, None, "memorized patterns", r"Gardner $\alpha_c({s:g})\cdot N$")


def figure_per_n(df: pd.DataFrame) -> Figure:
    """Figure 2: memorized patterns per N, the slope of Figure 1."""
    return _report_figure(df, "N", "memorized patterns / N", r"Gardner $\alpha_c({s:g})$")


def figure_per_param(df: pd.DataFrame) -> Figure:
    """Figure 3: memorized patterns per trainable parameter."""
    return _report_figure(df, "params", "memorized patterns / parameter",
                          r"Gardner $\alpha_c({s:g})\cdot N$ / parameters")


def _no_points() -> Figure:
    """The figure of a curve with nothing to draw: it says so, rather than failing the report."""
    fig = Figure(figsize=(5.2, 3.8))
    fig.text(0.5, 0.5, "no search points recorded", ha="center")
    return fig


def _panels(count: int, cols: int, size: tuple[float, float]) -> tuple[Figure, list]:
    """A figure of ``count`` panels sharing their y axis, at most ``cols`` a row, each ``size`` inches; spares hidden."""
    cols = min(count, cols)
    rows = -(-count // cols)
    fig = Figure(figsize=(size[0] * cols, size[1] * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, list(axes[:count])


def figure_capacity_curve(df: pd.DataFrame) -> Figure:
    """Memorized fraction against DS: one panel per network, one colour per N.

    Solid is the best run at each DS, dashed the mean over runs (of all jobs in
    the cell): where the solid line leaves 1 is perfect recall, its fall is the
    capacity.
    """
    points = points_frame(df.assign(network=network_labels(df)))
    if points.empty:
        return _no_points()
    points["fraction"] = points.memorized / points.DS
    curves = points.groupby(["network", "N", "DS"], sort=False).fraction.agg(["mean", "max"]).reset_index()
    networks = list(dict.fromkeys(summarize(df).network))  # the tables' order
    fig, axes = _panels(len(networks), cols=2, size=(5.2, 3.8))
    for ax, network in zip(axes, networks):
        for i, (N, curve) in enumerate(curves[curves.network == network].sort_values("DS").groupby("N")):
            color = f"C{i}"
            ax.plot(curve.DS, curve["max"], marker=".", color=color, label=f"N={N}")
            ax.plot(curve.DS, curve["mean"], ls="--", color=color)
        ax.set(title=network, xlabel="DS", ylabel="memorized fraction")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", title="max (solid), mean (dashed)", title_fontsize="small")
    axes[0].set_ylim(top=1.02)  # shared by all panels
    return fig


def figure_text_accuracy(df: pd.DataFrame) -> Figure:
    """Text task: the best run's training accuracy against H, one line per architecture, one panel per L.

    The accuracy is the search's metric (char or exact) over the runs of every
    job in the cell; a star marks the smallest H (docs/text.md), the dashed line
    the target. H is on a log scale: the search gallops 1, 2, 4, ... and then
    bisects, so the points crowd near the threshold.
    """
    points = points_frame(df.assign(network=text_labels(df)))
    if points.empty:
        return _no_points()
    points["score"] = points.train_exact.where(points.metric == "exact", points.train_char)
    curves = points.groupby(["network", "length", "hidden"], sort=False).score.max().reset_index()
    minima = summarize_text(df).reindex(columns=["network", "L", "min_hidden"])
    stars = {(network, length): h for network, length, h in minima.dropna().itertuples(index=False)}
    networks = list(dict.fromkeys([*minima.network, *curves.network]))  # the table's order first
    lengths = sorted(curves.length.unique())
    fig, axes = _panels(len(lengths), cols=3, size=(4.8, 3.8))
    for ax, length in zip(axes, lengths):
        for i, network in enumerate(networks):
            curve = curves[(curves.network == network) & (curves.length == length)].sort_values("hidden")
            if curve.empty:
                continue
            ax.plot(curve.hidden, curve.score, marker=".", color=f"C{i}", label=network)
            if (network, length) in stars:
                at = curve[curve.hidden == stars[network, length]]
                ax.plot(at.hidden, at.score, marker="*", markersize=11, color=f"C{i}", ls="none")
        for target in df[df.length == length].target.unique():
            ax.axhline(target, color="k", ls="--", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))  # 8, not 2^3
        ax.set(title=f"L = {length}", xlabel="H (hidden neurons)", ylabel="training accuracy, best run")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small", title="smallest H: star", title_fontsize="small")
    return fig


FIGURES = {
    "figure1_memorized": figure_memorized,
    "figure2_per_n": figure_per_n,
    "figure3_per_param": figure_per_param,
    "capacity_curve": figure_capacity_curve,
}
TEXT_FIGURES = {"text_accuracy": figure_text_accuracy}


def write_figures(df: pd.DataFrame, out: Path, formats: tuple[str, ...] = FORMATS, figures=FIGURES) -> list[Path]:
    """Each of ``figures`` (default: the pattern task's) drawn from ``df`` into ``out``, once per format."""
    written = []
    for name, draw in figures.items():
        fig = draw(df)
        for fmt in formats:
            fig.savefig(out / f"{name}.{fmt}", dpi=150)
            written.append(out / f"{name}.{fmt}")
    return written
