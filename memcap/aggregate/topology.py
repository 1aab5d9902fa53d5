"""Memory per nonzero parameter (docs/topology.md): the topology experiment's table and figure.

Every job becomes one or more measurements of (network, method, density):

- ``lottery`` / ``random``: one per pruning round, from result.json's ``metrics.rounds``;
- ``sparse``: a network with ``model.density`` < 1, at that density;
- ``dense``: a network at the largest N of its kind (the reference), density 1;
- ``smaller``: a dense network at a smaller N, placed at the density whose
  nonzero weights it matches: its weights over the reference's, snapped to
  the nearest density the other methods measured.

A network is its model, loss, steps and activation; the reference N and the
comparison are within it. The table has one block per (network, method), one
column per density, the memorized patterns (max over runs), bits per nonzero
parameter and nonzero parameters in each cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from memcap.formatting import span
from memcap.patterns.report import bits_per_param
from memcap.patterns.sizes import tolerance

METHODS = ("dense", "smaller", "lottery", "random", "sparse")  # table and legend order
SEEDS = 3  # seeds of an arm and of its reference before a verdict is given
# (row label, measurement column): labels the report tables' formats know (memcap.aggregate.tables.ROWS).
QUANTITIES = [
    ("Maximum number of memorized patterns", "memorized_max"),
    ("Bits per parameter", "bits_per_param"),
    ("Trainable parameters", "params"),
]
_MEASURED = ("N", "density", "params", "memorized_max", "memorized_mean", "bits_per_param")


def _column(df: pd.DataFrame, key: str, default) -> pd.Series:
    """A config column that a result holds only when it is not the default (memcap.config.topology_config)."""
    return df[key].fillna(default) if key in df else pd.Series(default, index=df.index)


def is_topology(df: pd.DataFrame) -> bool:
    """Does the frame hold any job that varies topology (pruning, density or activation)?"""
    return any(key in df for key in ("prune", "density", "activation"))


def weights(model: str, N: int) -> int:
    """Weights of a dense network (biases aside): N^2, plus N^2 - N for the recurrent R."""
    return N * N + (N * N - N if model == "recurrent" else 0)


def measurements(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (job, density) measured: network, method, N, density, params, memorized, bits per parameter."""
    activation = _column(df, "activation", "sigmoid")
    steps = df["steps"].map(lambda n: f" · {n} steps" if n > 1 else "")
    base = df["model"] + " · " + df["loss"] + steps
    network = base + activation.map(lambda a: "" if a == "sigmoid" else f" · {a}")
    jobs = df.assign(network=network, base=base, activation=activation, prune=_column(df, "prune", "none"),
                     density=_column(df, "density", 1.0))
    rows = []
    for _, job in jobs.iterrows():
        kind = {"network": job.network, "base": job.base, "activation": job.activation, "model": job.model}
        if job.prune != "none" and isinstance(job.get("rounds"), list):  # a fixed DS: one row per round
            rows += [{**kind, "method": job.prune, "N": job.N, **{k: r[k] for k in _MEASURED if k != "N"}}
                     for r in job["rounds"]]
        elif job.prune != "none":  # a capacity search of the pruned network: its nonzero weights set the density
            rows.append({**kind, "method": job.prune, **{k: job[k] for k in _MEASURED},
                         "density": round((job.params - job.N) / weights(job.model, job.N), 6)})
        else:
            rows.append({**kind, "method": "sparse" if job.density < 1 else "dense", **{k: job[k] for k in _MEASURED}})
    frame = pd.DataFrame(rows).astype({"memorized_max": float, "bits_per_param": float})
    reference = frame.groupby("network").N.transform("max")
    smaller = (frame.method == "dense") & (frame.N < reference)
    frame.loc[smaller, "method"] = "smaller"
    measured = np.sort(frame.loc[frame.method != "smaller", "density"].unique())
    frame.loc[smaller, "density"] = [
        _nearest(weights(m, n) / weights(m, ref), measured)
        for m, n, ref in zip(frame.model[smaller], frame.N[smaller], reference[smaller])]
    return frame


def _nearest(density: float, grid: np.ndarray) -> float:
    """The grid density closest to ``density`` on a log scale (the density itself when the grid is empty)."""
    return float(grid[np.abs(np.log(grid) - np.log(density)).argmin()]) if len(grid) else density


def topology_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{"<model> topology": table}: rows (Network · method, Quantity), columns density (largest first)."""
    if not is_topology(df):
        return {}
    frame = measurements(df)
    frame["density"] = frame.density.round(3)
    frame["_order"] = frame.method.map(METHODS.index)
    tables = {}
    for model, cells in frame.groupby("model", sort=False):
        rows = {}
        for (network, _, method), block in cells.sort_values(["network", "_order"]).groupby(
                ["network", "_order", "method"], sort=False):
            best = block.sort_values("memorized_max", ascending=False).drop_duplicates("density").set_index("density")
            for label, column in QUANTITIES:
                rows[f"{network} · {method}", label] = best[column].astype(float)
        table = pd.DataFrame(rows).T
        table.index.names = ["Network", "Quantity"]
        table = table[sorted(table.columns, reverse=True)]
        table.columns.name = "density"
        tables[f"{model} topology"] = table
    return tables


def capacity_comparison(df: pd.DataFrame) -> pd.DataFrame:
    """The topology at capacity (``+experiment=topology_capacity``): one row per (network, method, density) of the
    capacity searches in ``df``, over their seeds: nonzero parameters, capacity DS and perfect-recall DS (lo–hi),
    bits per nonzero parameter at the capacity DS (mean and lo–hi), unconverged seeds, and against the dense
    network of the reference N: "more" or "less" where every seed's bits lie above (below) every seed's of the
    dense network, else "not separated". The dense network of another feedback activation is compared with the
    sigmoid one (the report's) of the same model, loss, steps and N. A seed whose search found no DS on its grid
    (capacity below the first DS tried) counts between 0 and the bits of one pattern fewer than that DS; an
    unconverged seed (a deciding member at the step cap, even one that found no DS) counts its bits as a lower
    bound, with no upper end, so it can only be found "more". No verdict ("pending") before the arm and the
    reference have ``SEEDS`` seeds each. Empty where ``df`` holds no capacity search."""
    searched = df[df["search"] == "capacity"] if "search" in df else df.iloc[:0]
    if searched.empty:
        return pd.DataFrame()
    below = [min((p["DS"] for p in points), default=np.nan) if isinstance(points, list) else np.nan
             for points in searched["points"]]  # the first DS each search tried
    ceiling = [bits_per_param(N, s, tolerance(loss, N, s), first - 1, params) if first == first else np.nan
               for N, s, loss, first, params in zip(searched.N, searched.s, searched.loss, below, searched.params)]
    # a capacity search is one measurement (no rounds), so the rows line up with the jobs'
    frame = measurements(searched).assign(
        seed=searched["seed"].to_numpy(), capacity_ds=searched["capacity_ds"].to_numpy(),
        perfect_ds=searched["perfect_ds"].to_numpy(), first_ds=below,
        converged=searched["converged"].to_numpy() if "converged" in searched else None)
    frame["bits_lo"] = frame.bits_per_param.where(frame.capacity_ds.notna(), 0.0)
    frame["bits_hi"] = frame.bits_per_param.where(frame.capacity_ds.notna(), pd.Series(ceiling, index=frame.index))
    frame.loc[frame.converged.eq(False), "bits_hi"] = np.inf  # a lower bound: the step cap, not the network, stopped it
    frame["density"] = frame.density.round(3)
    frame["_order"] = frame.method.map(METHODS.index)
    rows = []
    for (network, _, method, density), cell in frame.sort_values(["network", "_order", "density"],
                                                                 ascending=[True, True, False]).groupby(
            ["network", "_order", "method", "density"], sort=False):
        dense = frame[(frame.network == network) & (frame.method == "dense")]
        own = cell.iloc[0]
        against_sigmoid = method == "dense" and own.activation != "sigmoid"  # another activation's dense network
        if against_sigmoid:
            dense = frame[(frame.base == own.base) & (frame.activation == "sigmoid") & (frame.method == "dense")
                          & (frame.N == own.N)]
        verdict = ("reference" if method == "dense" and not against_sigmoid else "–" if dense.empty else
                   "pending" if min(cell.seed.nunique(), dense.seed.nunique()) < SEEDS else
                   "more" if cell.bits_lo.min() > dense.bits_hi.max() else
                   "less" if cell.bits_hi.max() < dense.bits_lo.min() else "not separated")
        missing = int(cell.capacity_ds.isna().sum())
        bits = (f"{cell.bits_per_param.mean():.3f} ({span(cell.bits_per_param, '{:.3f}')})" if not missing else
                f"≤ {cell.bits_hi.max():.3f} ({missing} below the grid)" if np.isfinite(cell.bits_hi.max()) else
                f"unknown ({missing} below the grid, at the step cap)")
        capacity = span(cell.capacity_ds, "{:.0f}")
        if missing:
            first = cell.first_ds.min()
            capacity = ", ".join(filter(None, [capacity if missing < len(cell) else "",
                                               f"< {first:.0f}" if first == first else "none found"]))
        rows.append({"network": network, "method": method, "N": int(cell.N.iloc[0]), "density": density,
                     "seeds": cell.seed.nunique(), "nonzero params": int(cell.params.iloc[0]),
                     "capacity DS": capacity, "perfect DS": span(cell.perfect_ds, "{:.0f}") if not missing else capacity,
                     "bits / nonzero param": bits, "unconverged seeds": int(cell.converged.eq(False).sum()),
                     "vs dense": verdict})
    return pd.DataFrame(rows)


def figure_topology(df: pd.DataFrame, style=None) -> Figure:
    """Memorized patterns (max over runs) against nonzero parameters: one panel per network, one line per method.

    ``style`` (memcap.aggregate.figures.Style) sets the width; by default each panel is 5.2 inches wide.
    """
    frame = measurements(df)
    networks = list(dict.fromkeys(frame.network))
    size = (5.2 * len(networks), 4.0) if style is None else style.size(1, len(networks))
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, len(networks), squeeze=False).ravel()
    for ax, network in zip(axes, networks):
        for method in METHODS:
            line = frame[(frame.network == network) & (frame.method == method)].sort_values("params")
            if not line.empty:
                ax.plot(line.params, line.memorized_max, marker="o", label=method)
        ax.set(title=network, xlabel="nonzero parameters", ylabel="memorized patterns (max over runs)", xscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


TOPOLOGY_FIGURES = {"topology_memorized_vs_params": figure_topology}


def with_topology(tasks: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The aggregation's frames by task, plus "topology" (the pattern jobs again) when they vary topology."""
    patterns = tasks.get("patterns")
    return tasks | ({"topology": patterns} if patterns is not None and is_topology(patterns) else {})
