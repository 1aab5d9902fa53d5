"""What a pattern job reports: the report's numbers at a DS, and the network's name in the summary lines.

Shared by the capacity search (memcap.patterns.job), the pruning rounds (memcap.patterns.prune) and the
solver (memcap.patterns.solver), which each report one DS's runs the same way. No torch: the aggregation
recounts a stored result's bits here (``recount_bits``), so results written before a change to the count
read as a job writes them now.
"""

from __future__ import annotations

import numpy as np

from memcap.patterns.sizes import active_bits, tolerance
from memcap.theory import bits_per_pattern


def bits_per_param(N: int, s: float, bti: int, memorized: int | None, params: int) -> float | None:
    """The bits ``memorized`` patterns hold per parameter, each worth ``memcap.theory.bits_per_pattern``.

    Under bits-to-ignore (``bti`` > 0) a recalled pattern carries log2 C(N, k) - log2 A bits, not
    log2 C(N, k): the criterion accepts A outputs for each target. None when nothing was memorized.
    """
    return memorized * bits_per_pattern(N, active_bits(N, s), bti) / params if memorized is not None else None


def most_stored(points: list[dict]) -> dict:
    """The most patterns any run recalled at any DS tried (``max_stored``) and that DS (``max_stored_ds``).

    The report's "maximum" is the count at the capacity DS; a run at a larger DS that fell below the 90%
    threshold may still have stored more patterns, and this says how many. Counted from the points, so a
    result written before the metric existed reads the same (memcap.aggregate.sources)."""
    counted = [p for p in points if p.get("memorized") is not None]
    if not counted:
        return {"max_stored": None, "max_stored_ds": None}
    best = max(counted, key=lambda p: (p["memorized"], -p["DS"]))
    return {"max_stored": best["memorized"], "max_stored_ds": best["DS"]}


def recount_bits(config: dict, metrics: dict) -> dict:
    """``metrics`` of a stored pattern result with ``bits_per_param`` counted from its flat config (N, s, loss),
    ``memorized_max`` and ``params`` as a job counts it now, and so each pruning round's.

    result.json keeps the bits as written; files written before bits-to-ignore was counted
    (``bits_per_pattern``) hold log2 C(N, k) per bce_ignore pattern.
    """
    bti = tolerance(config["loss"], config["N"], config["s"])

    def recounted(record: dict) -> dict:
        if record.get("params") is None:
            return record
        return {**record, "bits_per_param": bits_per_param(config["N"], config["s"], bti, record.get("memorized_max"),
                                                           record["params"])}

    metrics = recounted(metrics)
    rounds = metrics.get("rounds")
    return {**metrics, "rounds": [recounted(r) for r in rounds]} if isinstance(rounds, list) else metrics


def capacity_metrics(
    N: int, s: float, params: int, capacity_ds: int | None, perfect_ds: int | None, memorized_runs: list[int],
    *, bti: int,
) -> dict:
    """The report's numbers at ``capacity_ds``, plus what it lacked; ``bti``: the criterion's tolerance
    (memcap.patterns.config.criterion_bti), which sets the bits a recalled pattern is worth."""
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
        "bits_per_param": bits_per_param(N, s, bti, best, params),
    }


def network_name(config: dict) -> str:
    """simple/log_hinge, recurrent/bce/3 steps, recurrent/bce/tanh: the network as the summary lines name it."""
    steps = f"/{config['steps']} steps" if config["steps"] > 1 else ""
    activation = f"/{config['activation']}" if "activation" in config else ""
    return f"{config['model']}/{config['loss']}{steps}{activation}"
