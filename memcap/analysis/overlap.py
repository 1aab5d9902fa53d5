"""Overlap of active bits between the patterns of one dataset, and its correlation with memorization.

The report (Discussion) suspected that datasets whose patterns share many active
bits are harder: two pairs whose inputs share bits and whose targets share bits
pull the same weights both ways. These statistics measure that per dataset, so
that across runs they can be set against the number memorized.

All statistics come from one Gram matrix X Xᵀ (shared active bits of every pair).
The mean pairwise overlap is a function of how unevenly the bits are used
(Σ_bits C(c_b, 2) / C(DS, 2) for bit usage counts c_b), so it also stands for
that; the maximum and nearest-neighbour statistics look at the worst pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import stats

# statistic -> what it measures, for tables and figure labels
STATISTICS = {
    "input_mean": "mean shared active bits, input pairs",
    "input_nearest": "mean over inputs of the most bits shared with another input",
    "input_max": "most active bits two inputs share",
    "output_mean": "mean shared active bits, target pairs",
    "output_nearest": "mean over targets of the most bits shared with another target",
    "output_max": "most active bits two targets share",
    "joint_mean": "mean over pairs of shared input bits × shared target bits",
}


def _shared_bits(M: torch.Tensor) -> torch.Tensor:
    """(DS, DS) matrix of active bits shared by each pair of rows, the diagonal set to -1 (no pair)."""
    gram = M.double() @ M.double().T
    return gram.fill_diagonal_(-1)


def _summary(shared: torch.Tensor) -> dict[str, float]:
    pairs = torch.triu_indices(*shared.shape, offset=1)
    values = shared[pairs[0], pairs[1]]
    return {"mean": float(values.mean()), "nearest": float(shared.max(dim=1).values.mean()),
            "max": float(values.max())}


def pattern_overlap(M: torch.Tensor) -> dict[str, float]:
    """Mean, nearest-neighbour (mean over rows of the row's largest) and maximum shared active bits
    over the distinct pairs of rows of a binary (DS, N) matrix; DS >= 2."""
    return _summary(_shared_bits(M))


def dataset_overlap(X: torch.Tensor, Y: torch.Tensor) -> dict[str, float]:
    """Every statistic of ``STATISTICS`` for one dataset (X, Y)."""
    shared_x, shared_y = _shared_bits(X), _shared_bits(Y)
    pairs = torch.triu_indices(*shared_x.shape, offset=1)
    joint = (shared_x * shared_y)[pairs[0], pairs[1]].mean()
    return {**{f"input_{k}": v for k, v in _summary(shared_x).items()},
            **{f"output_{k}": v for k, v in _summary(shared_y).items()},
            "joint_mean": float(joint)}


# per-pattern statistic -> what it measures: the same questions asked of one pattern against the rest
PATTERN_STATISTICS = {
    "input_nearest": "most active bits this input shares with another input",
    "output_nearest": "most active bits this target shares with another target",
    "joint_mean": "mean over the other pairs of shared input bits × shared target bits",
}


def pattern_overlaps(X: torch.Tensor, Y: torch.Tensor) -> pd.DataFrame:
    """One row per pattern of a dataset: each statistic of ``PATTERN_STATISTICS``."""
    shared_x, shared_y = _shared_bits(X), _shared_bits(Y)
    joint = (shared_x * shared_y).fill_diagonal_(0).sum(dim=1) / (len(X) - 1)
    return pd.DataFrame({"input_nearest": shared_x.max(dim=1).values.numpy(),
                         "output_nearest": shared_y.max(dim=1).values.numpy(), "joint_mean": joint.numpy()})


def correlations(frame: pd.DataFrame, target: str, columns: list[str]) -> pd.DataFrame:
    """Pearson r (with its 95% Fisher-z interval and p) and Spearman ρ (and p) of each column with ``target``.

    A column that does not vary (every dataset alike) has no correlation: NaN.
    """
    rows = []
    y = frame[target].to_numpy(float)
    n = len(y)
    for column in columns:
        x = frame[column].to_numpy(float)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            r = p = rho = p_rho = low = high = np.nan
        else:
            r, p = stats.pearsonr(x, y)
            rho, p_rho = stats.spearmanr(x, y)
            half = 1.96 / np.sqrt(n - 3) if n > 3 else np.inf
            low, high = np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half)
        rows.append({"statistic": column, "n": n, "mean": x.mean(), "sd": x.std(ddof=1) if n > 1 else np.nan,
                     "pearson_r": r, "r_low": low, "r_high": high, "pearson_p": p,
                     "spearman_rho": rho, "spearman_p": p_rho})
    return pd.DataFrame(rows)
