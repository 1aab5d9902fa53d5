"""result.json of a text job (``data=text``): its flat config, metrics and points (docs/text.md).

Shared by the writer (memcap.text.separability.engine builds ``Point``s) and the readers
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
    count: Optional[int] = None  # search=state: none (a stream); memorize: search.max_count
    encoding: str
    metric: str
    target: float
    min_hidden: Optional[int] = None
    max_hidden: Optional[int] = None
    refine: Optional[bool] = None  # search=state, vary=width: every width inside the grid's last bracket bisected
    settle_factor: Optional[int] = None  # search=state, vary=width, and search=memorize: deciding failures at the cap trained this x longer
    seed: int
    runs: int
    lr: Optional[float] = None  # search=state|memorize: none, the grid is `lrs`
    max_steps: int
    schedule: str = "constant"
    batch_size: Optional[int] = None
    # search=state | memorize
    vary: Optional[str] = None
    lrs: Optional[list[float]] = None
    heldout: Optional[int] = None
    validation: Optional[int] = None
    alphabet_size: Optional[int] = None
    check_every: Optional[int] = None
    patience: Optional[int] = None
    min_delta: Optional[float] = None
    max_length: Optional[int] = None
    min_count: Optional[int] = None
    max_count: Optional[int] = None
    freeze_encoder: Optional[bool] = None
    # the encoder's topology (docs/text.md): absent in results from before these keys
    activation: Optional[str] = None  # rnn, dense: the hidden nonlinearity; the others: none (their own)
    w0: Optional[float] = None  # activation=sine: SIREN's frequency
    density: Optional[float] = None  # fraction of every encoder weight matrix a fixed random mask keeps


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
    # search=state: the answer's best network
    measure: Optional[str] = None  # "state capacity" | "memorization" | the 64-sequence "separability" (neurons)
    max_length: Optional[int] = None  # vary=length: the largest L reaching the target
    length: Optional[int] = None
    lr: Optional[float] = None
    fano_bits: Optional[float] = None  # Fano's lower bound on the bits through the state, from held-out char error
    fano_bits_per_state: Optional[float] = None  # ... per number of the state
    max_fano_bits_per_state: Optional[float] = None  # the largest over every network trained (<= 32: float32)
    converged: Optional[bool] = None
    capped_members: Optional[int] = None  # networks stopped by the step cap, not by target or plateau
    # the value that decided the bracket's other side (the width below the answer; the L or count above it)
    # and its best score: how close the answer came to being one grid step smaller (or larger)
    decisive: Optional[int] = None
    decisive_score: Optional[float] = None
    position_char: Optional[list[float]] = None  # held-out char accuracy per position (the forgetting curve)
    ablation: Optional[list[float]] = None  # held-out char accuracy lost holding each state number at its mean
    participation_ratio: Optional[float] = None  # effective dimension of the state over held-out strings
    stream_rejected: Optional[int] = None  # stream rows drawn again because they were held-out strings
    nonzero_params: Optional[int] = None  # params less the entries a mask (model.density) holds at zero
    encoder_nonzero_params: Optional[int] = None
    bits_per_nonzero_param: Optional[float] = None  # bits (state: Fano's) / nonzero_params
    bits_per_nonzero_encoder_param: Optional[float] = None  # state: Fano bits / encoder_nonzero_params
    # search=memorize
    max_count: Optional[int] = None
    trainable_params: Optional[int] = None
    bits_per_trainable_param: Optional[float] = None
    codelength_bits: Optional[float] = None  # count L (log2|A| - cross-entropy in bits) at the answer
    generalization_bits: Optional[float] = None  # the same on held-out strings: what any string gets
    memorized_bits: Optional[float] = None  # codelength_bits - generalization_bits
    frozen: Optional[bool] = None


class Point(BaseModel):
    """One trained (H, run)."""

    model_config = _STRICT
    hidden: int
    run: int
    state_size: int  # numbers the decoder reads (LSTM: h and c, 2H)
    params: int  # encoder + decoder
    encoder_params: int
    train_char: Optional[float] = None  # search=state: none (every string is fresh)
    train_exact: Optional[float] = None
    heldout_char: float
    heldout_exact: float
    bits: Optional[float] = None  # bits reconstructed: correct training characters x bits per character
    loss: float
    steps: int
    seconds: float  # wall time of the fit that trained this member
    members: Optional[int] = None  # absent in the oldest files; networks in that fit
    stop: str  # target | plateau | cap (older files: other words)
    # search=state | memorize; run = lr_index * runs + seed_run
    length: Optional[int] = None
    count: Optional[int] = None
    lr: Optional[float] = None
    lr_index: Optional[int] = None
    seed_run: Optional[int] = None
    trainable_params: Optional[int] = None
    check_score: Optional[float] = None  # best validation (state) or stored (memorize) char accuracy
    heldout_loss_bits: Optional[float] = None  # cross-entropy per character, bits
    train_loss_bits: Optional[float] = None
    fano_bits: Optional[float] = None
    fano_bits_per_state: Optional[float] = None
    position_char: Optional[list[float]] = None
    ablation: Optional[list[float]] = None
    participation_ratio: Optional[float] = None
    codelength_bits: Optional[float] = None
    generalization_bits: Optional[float] = None
    nonzero_params: Optional[int] = None
    encoder_nonzero_params: Optional[int] = None


REQUIRED_CONFIG = ("model", "data", "search", "length", "seed", "metric", "target")
# The keys every text result has had since the first (newer ones are optional: old files still aggregate).
REQUIRED_METRICS = ("min_hidden", "capped", "hidden", "state_size", "params", "encoder_params", "decoder_params",
                    "train_char", "train_exact", "heldout_char", "heldout_exact", "score_runs", "bits_per_char",
                    "bits_total", "bits", "bits_per_neuron", "bits_per_param")
ORDER = ("model", "length", "seed", "job")
