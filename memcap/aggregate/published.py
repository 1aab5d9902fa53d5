"""The report's published numbers, and the framework's results beside them.

Tables 1 and 2 of the report "The Memory Capacity of Neural Networks" (2023;
CITATION.cff lists it), typed in once here so
that docs/results.md, ``make reproduce-quick`` and ``memcap-aggregate
--beside-report`` compare against the same values. Keys are (model, loss, steps,
N); values (max, mean, std) of memorized patterns over the report's runs (5 for
Table 1, 3 for Table 2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from memcap.aggregate.exact import against_solver
from memcap.aggregate.figures import SCREEN, Style, lower_bound_key, lower_bound_marker, panels
from memcap.aggregate.tables import BEFORE_PLATEAU, CAPPED, UNCONVERGED, summarize
from memcap.aggregate.topology import capacity_comparison

PUBLISHED: dict[tuple[str, str, int, int], tuple[float, float, float]] = {
    # Table 1: the simple network, bce and the custom loss (bce_ignore).
    ("simple", "bce", 1, 100): (283, 243, 23.95),
    ("simple", "bce", 1, 200): (580, 550, 32),
    ("simple", "bce", 1, 300): (897, 883.8, 11.95),
    ("simple", "bce", 1, 400): (1194, 1165.6, 23.56),
    ("simple", "bce", 1, 500): (1494, 1486.8, 7.93),
    ("simple", "bce_ignore", 1, 100): (337, 305, 24),
    ("simple", "bce_ignore", 1, 200): (694, 674.8, 20.7),
    ("simple", "bce_ignore", 1, 300): (1077, 1046, 26.56),
    ("simple", "bce_ignore", 1, 400): (1580, 1395.2, 169),
    ("simple", "bce_ignore", 1, 500): (2008, 1904, 141.7),
    # Table 2: the recurrent network with bce_ignore, 2 and 3 steps.
    ("recurrent", "bce_ignore", 2, 50): (534, 524.8, 6.18),
    ("recurrent", "bce_ignore", 2, 100): (920, 902.2, 12.5),
    ("recurrent", "bce_ignore", 2, 150): (1241, 1228, 9.27),
    ("recurrent", "bce_ignore", 2, 200): (1549, 1539.33, 7.13),
    ("recurrent", "bce_ignore", 3, 50): (589, 577.66, 13.3),
    ("recurrent", "bce_ignore", 3, 100): (1219, 1199, 14.51),
    ("recurrent", "bce_ignore", 3, 150): (1528, 1503, 17.72),
    ("recurrent", "bce_ignore", 3, 200): (1950, 1929.33, 14.7),
}


def beside_report(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (network, N) of ``df`` (pattern jobs): the framework's numbers and the report's.

    The Gardner and oracle columns are filled for the simple network only, the
    one network they are defined for (Gardner's not under bce_ignore, whose
    criterion it does not cap): ``oracle_lower`` is the oracle's achieved count
    (weights the LPs found recall that many; a lower bound on the optimum),
    ``oracle_upper`` the proven upper bound (results from before the interval:
    empty), each averaged over the runs' datasets, so ``vs_oracle_upper`` is a
    proven lower bound on how close training came to the best any weights can do.
    ``vs_report_max`` > 1 means the framework memorized more than the report's
    best run; ``report_loss`` names the loss of the report's row where it is not
    the cell's (the report trained its recurrent network with bce_ignore only).
    ``lower_bound`` says why a cell's numbers are only a lower bound: "≥ search
    ceiling" (capped), "† step cap" (unconverged), as the report tables mark
    them, and "‡ mean: runs before their plateau" (the mean counts runs that a fail-fast rule or the step cap
    stopped). ``wall_time_s``: the cell's jobs' wall time, summed over their attempts
    (result.json's ``wall_time``).
    """
    rows = []
    for _, c in summarize(df).iterrows():
        key = _published_key(c, int(c.N))
        report = PUBLISHED.get(key, (np.nan,) * 3) if key else (np.nan,) * 3
        rows.append({
            "network": c.network, "N": int(c.N), "capacity_ds": c.capacity_ds,
            "max": c.memorized_max, "mean": round(c.memorized_mean, 1), "std": round(c.memorized_std, 1),
            "max_stored": c.max_stored,
            "report_loss": key[1] if key and key[1] != c.loss else np.nan,
            "report_max": report[0], "report_mean": report[1], "report_std": report[2],
            "vs_report_max": round(c.memorized_max / report[0], 3) if report[0] == report[0] else np.nan,
            "gardner_bound": round(c.get("gardner_bound", np.nan), 1),
            "vs_gardner": round(c.get("bound_ratio", np.nan), 3),
            "oracle_lower": round(c.get("oracle_memorized", np.nan), 1),
            "vs_oracle_lower": round(c.get("oracle_ratio", np.nan), 3),
            "oracle_upper": round(c.get("oracle_upper", np.nan), 1),
            "vs_oracle_upper": round(c.get("oracle_ratio_upper", np.nan), 3),
            "bits_per_param": round(c.bits_per_param, 3),
            # Why a cell's max is only a lower bound, as the report tables mark it (empty otherwise).
            "lower_bound": "; ".join(mark for flag, mark in ((c.capped, f"{CAPPED} search ceiling"),
                                                             (c.unconverged, f"{UNCONVERGED} step cap"),
                                                             (c.before_plateau, f"{BEFORE_PLATEAU} mean: " + (
                                                                 "LP weights' counts" if "decided by LPs" in c.network
                                                                 else "runs before their plateau")))
                                     if flag) or np.nan,
            "wall_time_s": round(c.wall_time) if c.wall_time == c.wall_time else np.nan,
        })
    return pd.DataFrame(rows)


def _published_key(cell: pd.Series, N: int) -> tuple[str, str, int, int] | None:
    """The key of PUBLISHED that a summary cell's network (memcap.aggregate.tables.summarize) stands beside at N.

    The same network and loss; or, when the report trained this network with one loss
    only (the recurrent network: bce_ignore), that row, whatever the cell's loss
    (``beside_report`` names it in ``report_loss``); None when the report has no row.
    """
    exact = (cell.model, cell.loss, int(cell.steps), N)
    others = [key for key in PUBLISHED if (key[0], key[2], key[3]) == (cell.model, int(cell.steps), N)]
    return exact if exact in PUBLISHED else others[0] if len(others) == 1 else None


def to_markdown(table: pd.DataFrame) -> str:
    """A table for docs/results.md: columns empty throughout left out, other empty cells "–"."""
    table = table.dropna(axis=1, how="all")
    return table.astype(object).where(table.notna(), None).to_markdown(index=False, missingval="–") + "\n"


def figure_beside_report(df: pd.DataFrame, style: Style = SCREEN) -> Figure:
    """Memorized patterns (max over runs) against N beside the report's, one panel per network type.

    Each network is a solid line in a colour of its own, the report's Table 1 or 2
    maximum for the same network (``_published_key``) a dotted line with open
    squares in that colour (up to the largest N drawn), and Gardner's bound a
    dashed black line where it applies (the one-layer network under error-free
    recall). A cell whose maximum is only a lower bound (capped or unconverged:
    ``lower_bound`` in ``beside_report``) gets an open triangle around its point.
    One legend under the panels, whose scales differ.
    """
    cells = summarize(df)
    models = list(dict.fromkeys(cells.model))
    fig, axes = panels(len(models), style, sharey=False)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + 1.6)  # room for the legend below
    colours = {network: f"C{i}" for i, network in enumerate(dict.fromkeys(cells.network))}
    for ax, model in zip(axes, models):
        block = cells[cells.model == model]
        for network, ours in block.groupby("network", sort=False):
            colour = colours[network]
            ax.plot(ours.N, ours.memorized_max, marker="o", color=colour, label=network)
            bounds = ours[ours.capped | ours.unconverged]
            ax.plot(bounds.N, bounds.memorized_max, **lower_bound_marker(colour))
            keys = [key for key in (_published_key(ours.iloc[0], N) for N in sorted({k[3] for k in PUBLISHED}))
                    if key and key[3] <= ours.N.max()]
            if keys:
                model_, loss, steps, _ = keys[0]
                label = f"report: {model_} · {loss}" + (f" · {steps} steps" if steps > 1 else "")
                ax.plot([key[3] for key in keys], [PUBLISHED[key][0] for key in keys], ls=":", marker="s",
                        mfc="none", color=colour, label=label)
        for s, bound in block.dropna(subset=["gardner_bound"]).drop_duplicates(["s", "N"]).groupby("s"):
            ax.plot(bound.N, bound.gardner_bound, "k--", label=rf"Gardner $\alpha_c({s:g})\cdot N$")
        ax.set(title=f"{model} network", xlabel="N (neurons per layer)", ylabel="memorized patterns\n(max over runs)")
        ax.grid(alpha=0.3)
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.append(handle)
            labels.append(label)
    if (cells.capped | cells.unconverged).any():
        handles.append(lower_bound_key())
        labels.append(handles[-1].get_label())
    fig.legend(handles, labels, loc="outside lower center", ncols=2 if style.cols > 1 else 1, fontsize="small")
    return fig


BESIDE_REPORT_FIGURES = {"beside_report": figure_beside_report}  # for memcap.aggregate.figures.write_figures


def write_beside_report(df: pd.DataFrame, out: Path, formats=("md", "csv")) -> list[Path]:
    """beside_report.md and / or .csv in ``out``, for those of ``formats`` (memcap-aggregate --formats); and
    against_solver.{md,csv} where trained searches have the solver's answer for their data."""
    written = _write(beside_report(df), out, "beside_report", formats)
    exact = against_solver(df)
    return written + (_write(exact, out, "against_solver", formats) if len(exact) else [])


def write_capacity_comparison(df: pd.DataFrame, out: Path, formats=("md", "csv")) -> list[Path]:
    """topology_capacity.{md,csv} in ``out`` where ``df`` holds capacity searches under topologies
    (memcap.aggregate.topology.capacity_comparison); nothing otherwise."""
    table = capacity_comparison(df)
    return _write(table, out, "topology_capacity", formats) if len(table) else []


def _write(table: pd.DataFrame, out: Path, stem: str, formats) -> list[Path]:
    written = []
    for fmt, render in (("md", to_markdown), ("csv", lambda t: t.to_csv(index=False))):
        if fmt in formats:
            (out / f"{stem}.{fmt}").write_text(render(table), encoding="utf-8")
            written.append(out / f"{stem}.{fmt}")
    return written
