"""result.json of a text job (``data=text``): its flat config, metrics and points (docs/text.md).

Shared by the writer (memcap.text.engine builds ``Point``s) and the readers
(memcap.results.read_result, the aggregation); strict types, extra keys allowed.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict

_STRICT = ConfigDict(strict=True, extra="allow")


class Config(BaseModel):
    model_config = _STRICT
    model: str
    data: Literal["text"]
    search: str
    loss: str = "cross_entropy"
    steps: int  # the encoder's time steps: L again
    hidden: Optional[int] = None  # search=fixed: the one H trained
    layers: int = 1
    heads: int = 1
    decoder: str = "linear"
    source: str
    alphabet: Optional[str] = None
    path: Optional[str] = None
    length: int
    count: int
    encoding: str
    metric: str
    target: float
    min_hidden: Optional[int] = None
    max_hidden: Optional[int] = None
    seed: int
    runs: int
    lr: float
    max_steps: int
    schedule: str = "constant"
    batch_size: Optional[int] = None


class Metrics(BaseModel):
    model_config = _STRICT
    min_hidden: Optional[int] = None
    capped: Optional[bool] = None
    hidden: Optional[int] = None
    state_size: Optional[int] = None
    params: Optional[int] = None
    encoder_params: Optional[int] = None
    decoder_params: Optional[int] = None
    train_char: Optional[float] = None
    train_exact: Optional[float] = None
    heldout_char: Optional[float] = None
    heldout_exact: Optional[float] = None
    score_runs: Optional[list[float]] = None
    bits_per_char: Optional[float] = None
    bits_total: Optional[float] = None
    bits: Optional[float] = None
    bits_per_neuron: Optional[float] = None
    bits_per_param: Optional[float] = None


class Point(BaseModel):
    """One trained (H, run)."""

    model_config = _STRICT
    hidden: int
    run: int
    state_size: int  # numbers the decoder reads (LSTM: h and c, 2H)
    params: int  # encoder + decoder
    encoder_params: int
    train_char: float
    train_exact: float
    heldout_char: float
    heldout_exact: float
    bits: float  # bits reconstructed: correct training characters x bits per character
    loss: float
    steps: int
    seconds: float  # wall time of the fit that trained this member
    members: Optional[int] = None  # absent in the oldest files; networks in that fit
    stop: str  # target | plateau | cap (older files: other words)


REQUIRED_CONFIG = ("model", "data", "search", "length", "seed", "metric", "target")
REQUIRED_METRICS = tuple(Metrics.model_fields)
ORDER = ("model", "length", "seed", "job")
