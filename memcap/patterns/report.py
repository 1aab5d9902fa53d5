"""What a pattern job reports: the report's numbers at a DS, and the network's name in the summary lines.

Shared by the capacity search (memcap.patterns.job) and the pruning rounds (memcap.patterns.prune), which each
report one DS's runs the same way.
"""

from __future__ import annotations

import numpy as np

from memcap.patterns.data import active_bits
from memcap.theory import log2_binom


def capacity_metrics(
    N: int, s: float, params: int, capacity_ds: int | None, perfect_ds: int | None, memorized_runs: list[int]
) -> dict:
    """The report's numbers at ``capacity_ds``, plus what it lacked."""
    best = max(memorized_runs) if capacity_ds is not None else None
    return {
        "capacity_ds": capacity_ds,
        "perfect_ds": perfect_ds,
        "memorized_max": best,
        "memorized_mean": float(np.mean(memorized_runs)) if memorized_runs else None,
        "memorized_std": float(np.std(memorized_runs)) if memorized_runs else None,  # population std, as the report
        "memorized_runs": memorized_runs,
        "accuracy": best / capacity_ds if best is not None else None,
        "params": params,
        "bits_per_param": best * log2_binom(N, active_bits(N, s)) / params if best is not None else None,
    }


def network_name(config: dict) -> str:
    """simple/log_hinge, recurrent/bce/3 steps, recurrent/bce/tanh: the network as the summary lines name it."""
    steps = f"/{config['steps']} steps" if config["steps"] > 1 else ""
    activation = f"/{config['activation']}" if "activation" in config else ""
    return f"{config['model']}/{config['loss']}{steps}{activation}"
