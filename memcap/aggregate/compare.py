"""Does a rerun reproduce committed results? Cell by cell, within run-to-run noise.

The same config and seed give the same numbers on the same CPU and thread
count (docs/architecture.md, Determinism); another thread count, BLAS or GPU
changes float sums and so, near a decision threshold, a memorized count or
the search's capacity DS. So a cell (network, N) reproduces when its capacity
DS is within one search step and its mean memorized count within two standard
errors of the difference (at least 2% of the mean: with identical runs the
standard error is zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from memcap.aggregate.tables import summarize

_KEYS = ["network", "N"]


def compare(committed: pd.DataFrame, fresh: pd.DataFrame, step: int = 100) -> pd.DataFrame:
    """One row per cell of ``committed``: both sets of numbers and ``reproduced`` (bool).

    ``committed`` and ``fresh`` are pattern-job frames (memcap.aggregate.load_dirs);
    a cell missing from ``fresh`` does not reproduce.
    """
    columns = ["capacity_ds", "memorized_max", "memorized_mean", "memorized_std"]
    old = summarize(committed)[_KEYS + columns + ["jobs"]]
    new = summarize(fresh)[_KEYS + columns]
    both = old.merge(new, on=_KEYS, how="left", suffixes=("", "_rerun"))
    runs = committed.groupby("N")["runs"].max().reindex(both["N"]).to_numpy(dtype=float)
    se = np.sqrt((both["memorized_std"] ** 2 + both["memorized_std_rerun"] ** 2) / runs)
    tolerance = np.maximum(2 * se, 0.02 * both["memorized_mean"])
    both["reproduced"] = (
        ((both["capacity_ds"] - both["capacity_ds_rerun"]).abs() <= step)
        & ((both["memorized_mean"] - both["memorized_mean_rerun"]).abs() <= tolerance)
    )
    return both.drop(columns="jobs")
