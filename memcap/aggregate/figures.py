"""The report's Figures 1-3, capacity curves from the search points, and the text task's accuracy against H.

Figures are built on matplotlib.figure.Figure, not pyplot: no global state, no
GUI backend (savefig renders with Agg, or the PDF backend), nothing left open.
One-layer networks get Gardner's bound beside them, as a dashed black line.

Every figure is drawn in a ``Style`` (``STYLES``; ``memcap-aggregate --style``):
``screen`` (6.4 in wide, matplotlib's fonts), or for print ``single`` (one
column, 3.3 in) and ``double`` (two columns, 6.8 in), whose fonts are sized
for the printed page (8 and 9 pt, the size of a paper's caption text), so that
the figure is included at its own width and not scaled. ``--width`` overrides
a style's width.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import StrMethodFormatter

from memcap.aggregate.sources import points_frame
from memcap.aggregate.tables import network_labels, summarize, summarize_text, text_labels

FORMATS = ("png", "pdf")


@dataclass(frozen=True)
class Style:
    """A figure's width (inches), height per width, panels per row, rcParams and PNG resolution."""

    name: str
    width: float
    aspect: float = 0.69  # height / width of a one-panel figure (and of each panel)
    cols: int = 2  # panels per row, at most
    rc: dict = field(default_factory=dict)
    dpi: int = 150
    legend_below: bool = False  # a one-panel figure's legend under the axes, not over the data

    def size(self, rows: int = 1, cols: int = 1) -> tuple[float, float]:
        """(width, height) of a figure of rows x cols panels: the style's width, each panel at its aspect."""
        return self.width, self.width / cols * self.aspect * rows


def _print_rc(points: float) -> dict:
    return {"font.size": points, "axes.titlesize": points, "axes.labelsize": points,
            "xtick.labelsize": points - 1, "ytick.labelsize": points - 1, "legend.fontsize": points - 1,
            "legend.title_fontsize": points - 1, "lines.linewidth": 1.0, "lines.markersize": 3.5,
            "axes.linewidth": 0.6, "grid.linewidth": 0.5, "xtick.major.width": 0.6, "ytick.major.width": 0.6,
            "errorbar.capsize": 2, "pdf.fonttype": 42}  # TrueType in the PDF: text stays text


STYLES = {
    "screen": Style("screen", 6.4),
    "single": Style("single", 3.3, aspect=1.0, cols=1, rc=_print_rc(8), dpi=300, legend_below=True),
    "double": Style("double", 6.8, aspect=0.62, cols=2, rc=_print_rc(9), dpi=300),
}
SCREEN = STYLES["screen"]


def style(name: str = "screen", width: float | None = None) -> Style:
    """The named style, at ``width`` inches if given."""
    chosen = STYLES[name]
    return replace(chosen, width=width) if width else chosen


@contextmanager
def _drawing(style: Style):
    with mpl.rc_context(style.rc):
        yield


def _key(label: str, **line) -> Line2D:
    """A legend entry for what a mark means, the same for every network (each network a colour): grey."""
    return Line2D([], [], label=label, **{"color": "0.35", **line})


def lower_bound_marker(color) -> dict:
    """The plot keywords of the mark for a maximum that is only a lower bound: an open triangle around the point."""
    return dict(marker="^", ls="none", mfc="none", markersize=2.2 * mpl.rcParams["lines.markersize"], color=color)


def lower_bound_key() -> Line2D:
    """The legend entry of ``lower_bound_marker``."""
    return _key("a lower bound: capped (≥) or unconverged (†)", **lower_bound_marker("0.35"))


def _report_figure(df: pd.DataFrame, per: str | None, ylabel: str, gardner_label: str,
                   style: Style = SCREEN) -> Figure:
    """Memorized patterns against N, divided by ``per`` (a summary column) or not.

    The maximum over runs is a line with markers; the mean is an 'x' with the
    standard deviation as a vertical bar, as in the report's Figure 1; a capped
    or unconverged cell's maximum (only a lower bound) gets an open triangle around it. The legend
    names each network's colour and then what each mark is.
    """
    cells = summarize(df)

    def scale(block: pd.DataFrame):
        return block[per] if per else 1

    fig = Figure(figsize=style.size(), layout="constrained")
    ax = fig.add_subplot()
    for network, block in cells.groupby("network", sort=False):
        line, = ax.plot(block.N, block.memorized_max / scale(block), marker="o", label=network)
        ax.errorbar(block.N, block.memorized_mean / scale(block), yerr=block.memorized_std / scale(block),
                    fmt="x", color=line.get_color(), capsize=mpl.rcParams["errorbar.capsize"] or 3)
        bounds = block[block.capped | block.unconverged]
        ax.plot(bounds.N, bounds.memorized_max / scale(bounds), **lower_bound_marker(line.get_color()))
    simple = cells[cells.model == "simple"].dropna(subset=["gardner_bound"])  # error-free recall only (tables.py)
    for s, bound in simple.drop_duplicates(["s", "N"]).groupby("s"):
        ax.plot(bound.N, bound.gardner_bound / scale(bound), "k--", label=gardner_label.format(s=s))
    ax.set(xlabel="N (neurons per layer)", ylabel=ylabel)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    extra = [_key("max over runs", marker="o"), _key("mean ± s.d. over runs", marker="x", ls="none")]
    if (cells.capped | cells.unconverged).any():
        extra.append(lower_bound_key())
    if style.legend_below:
        labels += [h.get_label() for h in extra]
        fig.legend(handles + extra, labels, loc="outside lower center", ncols=2 if max(map(len, labels)) < 24 else 1)
    else:
        ax.legend(handles + extra, labels + [h.get_label() for h in extra], fontsize="small")
    return fig


def figure_memorized(df: pd.DataFrame, style: Style = SCREEN) -> Figure:
    """Figure 1: memorized patterns against N."""
    return _report_figure(df, None, "memorized patterns\n(max and mean over runs)",
                          r"Gardner $\alpha_c({s:g})\cdot N$", style)


def figure_per_n(df: pd.DataFrame, style: Style = SCREEN) -> Figure:
    """Figure 2: memorized patterns per N, the slope of Figure 1."""
    return _report_figure(df, "N", "memorized patterns / N\n(max and mean over runs)",
                          r"Gardner $\alpha_c({s:g})$", style)


def figure_per_param(df: pd.DataFrame, style: Style = SCREEN) -> Figure:
    """Figure 3: memorized patterns per trainable parameter."""
    return _report_figure(df, "params", "memorized patterns / parameter\n(max and mean over runs)",
                          r"Gardner $\alpha_c({s:g})\cdot N$ / parameters", style)


def _no_points(style: Style = SCREEN) -> Figure:
    """The figure of a curve with nothing to draw: it says so, rather than failing the report."""
    fig = Figure(figsize=style.size())
    fig.text(0.5, 0.5, "no search points recorded", ha="center")
    return fig


def panels(count: int, style: Style, cols: int | None = None, sharey: bool = True) -> tuple[Figure, list]:
    """A figure of ``count`` panels, at most ``cols`` (default: the style's) a row; spares hidden."""
    cols = min(count, cols or style.cols)
    rows = -(-count // cols)
    fig = Figure(figsize=style.size(rows, cols), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=sharey).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, list(axes[:count])


def _log2_x(ax) -> None:
    """A log-2 x axis labelled in plain numbers (8, not 2^3): the searches gallop 1, 2, 4, ... and then bisect."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))


def figure_capacity_curve(df: pd.DataFrame, style: Style = SCREEN) -> Figure:
    """Memorized fraction against DS: one panel per network, one colour per N.

    Solid is the best run at each DS, dashed the mean over runs (of all jobs in
    the cell): where the solid line leaves 1 is perfect recall, its fall is the
    capacity. DS is on a log-2 scale: the search's galloping points (10, 20,
    40, ... far past the capacity) would otherwise squash the transition, where
    its bisection crowds the points, into a corner.
    """
    points = points_frame(df.assign(network=network_labels(df)))
    if points.empty:
        return _no_points(style)
    points["fraction"] = points.memorized / points.DS
    curves = points.groupby(["network", "N", "DS"], sort=False).fraction.agg(["mean", "max"]).reset_index()
    networks = list(dict.fromkeys(summarize(df).network))  # the tables' order
    fig, axes = panels(len(networks), style)
    for ax, network in zip(axes, networks):
        for i, (N, curve) in enumerate(curves[curves.network == network].sort_values("DS").groupby("N")):
            color = f"C{i}"
            ax.plot(curve.DS, curve["max"], marker=".", color=color, label=f"N={N}")
            ax.plot(curve.DS, curve["mean"], ls="--", color=color)
        _log2_x(ax)
        ax.set(title=network, xlabel="DS (patterns trained)", ylabel="fraction of DS memorized")
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        marks = [_key("max over runs", marker="."), _key("mean over runs", ls="--")]
        ax.legend(handles + marks, labels + [m.get_label() for m in marks], fontsize="small")
    axes[0].set_ylim(top=1.02)  # shared by all panels
    return fig


def figure_text_accuracy(df: pd.DataFrame, style: Style = SCREEN) -> Figure:
    """Text task: the best run's training accuracy against H, one line per architecture, one panel per L.

    The accuracy is the search's metric (char or exact) over the runs of every
    job in the cell; a star marks the smallest H (docs/text.md), the dashed line
    the target. H is on a log scale: the search gallops 1, 2, 4, ... and then
    bisects, so the points crowd near the threshold.
    """
    df = df[df["search"].isin(("neurons", "fixed"))]  # search=state|memorize: scripts/text_figures.py draws them
    points = points_frame(df.assign(network=text_labels(df))) if len(df) else df
    if points.empty:
        return _no_points(style)
    points["score"] = points.train_exact.where(points.metric == "exact", points.train_char)
    curves = points.groupby(["network", "length", "hidden"], sort=False).score.max().reset_index()
    minima = summarize_text(df).reindex(columns=["network", "L", "min_hidden"])
    stars = {(network, length): h for network, length, h in minima.dropna().itertuples(index=False)}
    networks = list(dict.fromkeys([*minima.network, *curves.network]))  # the table's order first
    lengths = sorted(curves.length.unique())
    fig, axes = panels(len(lengths), style)
    for ax, length in zip(axes, lengths):
        for i, network in enumerate(networks):
            curve = curves[(curves.network == network) & (curves.length == length)].sort_values("hidden")
            if curve.empty:
                continue
            ax.plot(curve.hidden, curve.score, marker=".", color=f"C{i}", label=network)
            if (network, length) in stars:
                at = curve[curve.hidden == stars[network, length]]
                ax.plot(at.hidden, at.score, marker="*", markersize=3 * mpl.rcParams["lines.markersize"],
                        color=f"C{i}", ls="none")
        for target in df[df.length == length].target.unique():
            ax.axhline(target, color="k", ls="--", lw=0.8)
        _log2_x(ax)
        ax.set(title=f"L = {length}", xlabel="H (hidden neurons)", ylabel="training accuracy\n(max over runs)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    marks = [_key("smallest H reaching the target", marker="*", ls="none",
                  markersize=3 * mpl.rcParams["lines.markersize"]),
             _key("target accuracy", color="k", ls="--", lw=0.8)]
    # below the panels: six architectures' keys over a small panel would cover its curves
    fig.legend(handles + marks, labels + [m.get_label() for m in marks], loc="outside lower center", ncols=4,
               fontsize="small")
    return fig


FIGURES = {
    "figure1_memorized": figure_memorized,
    "figure2_per_n": figure_per_n,
    "figure3_per_param": figure_per_param,
    "capacity_curve": figure_capacity_curve,
}
TEXT_FIGURES = {"text_accuracy": figure_text_accuracy}


def write_figures(df: pd.DataFrame, out: Path, formats: tuple[str, ...] = FORMATS, figures=FIGURES,
                  style: Style = SCREEN) -> list[Path]:
    """Each of ``figures`` (default: the pattern task's) drawn from ``df`` in ``style`` into ``out``, once per format."""
    written = []
    with _drawing(style):
        for name, draw in figures.items():
            fig = draw(df, style)
            for fmt in formats:
                fig.savefig(out / f"{name}.{fmt}", dpi=style.dpi)
                written.append(out / f"{name}.{fmt}")
    return written
