"""How much of the run-to-run spread in memorized patterns is the data's, and how much the initialization's.

The report's runs each drew new data and a new initialization, so its standard
deviations mix both (Discussion). A crossed design separates them: every one of
``a`` datasets is trained from every one of ``b`` initializations (one run per
cell), and a two-way random-effects ANOVA without replication splits the
variance of one run into

    σ²_data  (some datasets are harder than others, whatever the initialization),
    σ²_init  (some initializations are better than others, whatever the data),
    σ²_data×init  (the rest: how this initialization fares on this dataset).

With full-batch training on the CPU a cell is deterministic, so the last term
is the interaction itself, not measurement noise. Expected mean squares:
E[MS_data] = σ²_rest + b σ²_data, E[MS_init] = σ²_rest + a σ²_init,
E[MS_rest] = σ²_rest; the components are the method-of-moments (ANOVA)
estimates, negative ones reported as 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def variance_components(frame: pd.DataFrame, value: str, data: str, init: str) -> pd.DataFrame:
    """The ANOVA table of ``value`` over a complete crossed design of ``data`` x ``init`` (one row per cell).

    Rows: data, init, data × init, total; columns: df, SS, MS, F and p (for the
    main effects, against data × init), component (the variance estimate) and
    share (of the summed components).
    """
    table = frame.pivot(index=data, columns=init, values=value)
    if table.isna().any().any():
        raise ValueError(f"the {data} x {init} design is incomplete: every pair needs one {value}")
    y = table.to_numpy(float)
    a, b = y.shape
    if a < 2 or b < 2:
        raise ValueError(f"need at least 2 levels of each factor, got {a} x {b}")
    grand = y.mean()
    data_effect, init_effect = y.mean(axis=1) - grand, y.mean(axis=0) - grand
    rest = y - grand - data_effect[:, None] - init_effect[None, :]
    ss = np.array([b * (data_effect ** 2).sum(), a * (init_effect ** 2).sum(), (rest ** 2).sum()])
    dof = np.array([a - 1, b - 1, (a - 1) * (b - 1)])
    ms = ss / dof
    with np.errstate(divide="ignore", invalid="ignore"):
        F = ms[:2] / ms[2]
    p = stats.f.sf(F, dof[:2], dof[2])
    component = np.maximum([(ms[0] - ms[2]) / b, (ms[1] - ms[2]) / a, ms[2]], 0.0)
    share = component / component.sum() if component.sum() > 0 else np.full(3, np.nan)
    return pd.DataFrame({
        "source": [data, init, f"{data} × {init}", "total"],
        "df": [*dof, a * b - 1],
        "SS": [*ss, ((y - grand) ** 2).sum()],
        "MS": [*ms, ((y - grand) ** 2).sum() / (a * b - 1)],
        "F": [*F, np.nan, np.nan],
        "p": [*p, np.nan, np.nan],
        "component": [*component, component.sum()],
        "share": [*share, 1.0 if component.sum() > 0 else np.nan],
    })


def variance_summary(anova: pd.DataFrame) -> dict[str, float]:
    """The report's two questions in its own terms, as standard deviations of one run's count.

    ``same_data``: the spread of runs on one dataset (initializations vary):
    √(σ²_init + σ²_rest). ``same_init``: the spread of runs from one initialization
    (datasets vary): √(σ²_data + σ²_rest). ``independent``: the report's runs (both
    vary): √(sum of all three). ``data_share``: σ²_data over that sum.
    """
    data, init, rest = anova.component.iloc[:3]
    total = data + init + rest
    return {"same_data": float(np.sqrt(init + rest)), "same_init": float(np.sqrt(data + rest)),
            "independent": float(np.sqrt(total)), "data_share": float(data / total) if total > 0 else float("nan")}
