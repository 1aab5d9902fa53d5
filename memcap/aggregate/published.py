"""The report's published numbers, and the framework's results beside them.

Tables 1 and 2 of shared/seeds/memory-capacity-report.txt, typed in once here so
that docs/results.md and ``make reproduce-quick`` compare against the same
values. Keys are (model, loss, steps, N); values (max, mean, std) of memorized
patterns over the report's runs (5 for Table 1, 3 for Table 2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from memcap.aggregate.tables import CAPPED, UNCONVERGED, network_labels, summarize

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
    one network they are defined for: ``oracle_lower`` is the oracle's achieved
    count (weights the LPs found recall that many; a lower bound on the optimum),
    ``oracle_upper`` the proven upper bound (results from before the interval:
    empty), each averaged over the runs' datasets, so ``vs_oracle_upper`` is a
    proven lower bound on how close training came to the best any weights can do.
    ``vs_report_max`` > 1 means the framework memorized more than the report's
    best run. ``lower_bound`` says why a cell's numbers
    are only a lower bound: "≥ search ceiling" (capped), "† step cap"
    (unconverged), as the report tables mark them.
    """
    cells, labels = summarize(df), network_labels(df)
    rows = []
    for _, c in cells.iterrows():
        jobs = df[(labels == c.network) & (df["N"] == c.N)]
        loss, steps = jobs["loss"].iloc[0], int(jobs["steps"].iloc[0])
        report = PUBLISHED.get((c.model, loss, steps, int(c.N)), (np.nan,) * 3)
        rows.append({
            "network": c.network, "N": int(c.N), "capacity_ds": c.capacity_ds,
            "max": c.memorized_max, "mean": round(c.memorized_mean, 1), "std": round(c.memorized_std, 1),
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
                                                             (c.unconverged, f"{UNCONVERGED} step cap")) if flag)
                           or np.nan,
        })
    return pd.DataFrame(rows)


def figure_beside_report(frames: dict[str, pd.DataFrame]) -> Figure:
    """Memorized patterns (max over runs) against N: each experiment's networks, and the report's.

    ``frames`` maps an experiment name to its pattern-job frame. The report's
    Tables 1 and 2 are drawn as hollow markers on dotted lines in the colour of
    the same network's line, for the networks in the frames, up to their largest N.
    """
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    shown, largest = set(), max(df["N"].max() for df in frames.values())
    for name, df in frames.items():
        table = beside_report(df)
        for network, block in table.groupby("network", sort=False):
            ax.plot(block.N, block["max"], marker="o", label=f"{network} ({name})")
        jobs = df.drop_duplicates(["model", "loss", "steps"])
        shown |= {(j.model, j.loss, int(j.steps)) for j in jobs.itertuples()}
    for key in sorted(shown):
        points = sorted((N, values[0]) for (*k, N), values in PUBLISHED.items() if tuple(k) == key and N <= largest)
        if points:
            N, best = zip(*points)
            network = f"{key[0]} · {key[1]}" + (f" · {key[2]} steps" if key[2] > 1 else "")
            ours = [line for line in ax.get_lines() if line.get_label().startswith(network)]
            ax.plot(N, best, linestyle=":", marker="o", markerfacecolor="none", markersize=8,
                    color=ours[0].get_color() if ours else "grey", label=f"report: {network}")
    ax.set(xlabel="N", ylabel="memorized patterns (max over runs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    return fig
