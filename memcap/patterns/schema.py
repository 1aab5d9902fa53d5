"""result.json of a pattern job: its flat config, metrics and points (docs/result-schema.md).

Writers build these models (memcap.patterns.engine makes ``Point``s) and
readers check files against them (memcap.results.read_result), so a file with
a metric "abc" or N "twenty" is named as malformed instead of crashing a table.
Extra keys are allowed (the oracle's and pruning's metrics, a pruning round's
point fields), typed keys are strict: no string is taken for a number.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict

_STRICT = ConfigDict(strict=True, extra="allow")


class Config(BaseModel):
    """The flat config: the keys a table or a dashboard filters on."""

    model_config = _STRICT
    model: str
    loss: str
    search: str = "capacity"
    N: int
    s: float
    steps: int
    seed: int
    runs: int = 5
    DS: Optional[int] = None
    lr: Optional[float] = None
    max_steps: Optional[int] = None
    schedule: str = "constant"
    batch_size: Optional[int] = None


class Metrics(BaseModel):
    """Every key is optional while a job runs; the aggregation requires ``REQUIRED_METRICS`` of a finished one."""

    model_config = _STRICT
    capacity_ds: Optional[int] = None
    perfect_ds: Optional[int] = None
    memorized_max: Optional[int] = None
    memorized_mean: Optional[float] = None
    memorized_std: Optional[float] = None
    memorized_runs: Optional[list[int]] = None
    max_stored: Optional[int] = None  # the most patterns any run recalled at any DS tried
    max_stored_ds: Optional[int] = None
    accuracy: Optional[float] = None
    params: Optional[int] = None
    bits_per_param: Optional[float] = None
    capped: Optional[bool] = None
    diverged: Optional[int] = None  # members whose loss became non-finite (their best check counts)
    converged: Optional[bool] = None  # no member at a deciding DS (capacity_ds, the DS tried next above it or above perfect_ds) hit the step cap
    capped_points: Optional[int] = None  # members of the search that stopped at the step cap (settled: at its cap)


class Point(BaseModel):
    """One member (DS, run): trained, or decided by the solver (``stop`` "solver")."""

    model_config = _STRICT
    DS: int
    run: int
    memorized: Optional[int]  # None: a solver point that proved the run cannot store all, without counting
    loss: float
    steps: int
    seconds: float  # wall time of the ensemble that trained this member
    members: Optional[int] = None  # absent in the oldest files; size of that ensemble
    stop: str  # memorized | plateau | cap | diverged | nothing | short (older files: other words)
    phase: Optional[str] = None  # "settle": this member trained again to its plateau (memcap.search.settled)


REQUIRED_CONFIG = ("model", "loss", "N", "s", "steps", "seed")
REQUIRED_METRICS = ("capacity_ds", "perfect_ds", "memorized_max", "memorized_mean", "memorized_std",
                    "memorized_runs", "accuracy", "params", "bits_per_param")
ORDER = ("model", "loss", "steps", "N", "seed", "job")  # a frame's row order
