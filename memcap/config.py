"""Structured configs (typed schemas for conf/) and the checks Hydra cannot express.

Hydra merges conf/*.yaml and the command line into ``TrainConfig``; types are
enforced at merge time (``N=abc`` fails there). ``validate`` then checks the
ranges and combinations, so a bad value fails before any work with one line
naming the key and what is allowed.
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from memcap.patterns.losses import LOSSES, bits_to_ignore
from memcap.patterns.models.activations import ACTIVATIONS

MODELS = ("simple", "recurrent")
SEARCHES = ("capacity", "fixed")
LOGGERS = ("wandb", "csv", "none")
SCHEDULES = ("constant", "cosine")
PRUNINGS = ("none", "lottery", "random")


class ConfigError(ValueError):
    """A config value is out of range; ``key`` names it."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass
class ModelConfig:
    name: str = "simple"
    lr: float = 0.1  # the Adam lr this network trains best with (docs/recipe.md); top-level lr overrides
    loss: str = "log_hinge"  # the loss this network trains best with (docs/recipe.md); loss=NAME overrides
    activation: str = "sigmoid"  # what the recurrent path feeds back: sigmoid | tanh | relu | sine (docs/topology.md)
    w0: float = 30.0  # activation=sine: SIREN's frequency
    density: float = 1.0  # < 1: fixed random sparse connectivity, this fraction of every weight matrix kept


@dataclass
class DataConfig:
    name: str = "patterns"


@dataclass
class LossConfig:
    name: Optional[str] = None  # None (loss=recipe): the model's own, model.loss
    margin: float = 1.0  # hinge, log_hinge: how far past the threshold a bit must be
    tau: float = 10.0  # log_hinge: a pattern's summed hinge at which it starts to count as hopeless


@dataclass
class SearchConfig:
    name: str = "capacity"
    step: int = 100  # capacity grid: perfect_ds + j * step, as the report
    resolution: int = 10  # grid of the perfect-recall DS search
    threshold: float = 0.9  # capacity: largest DS at which some run memorizes more than this
    batch: int = 4  # DS candidates trained together per search round
    max_ds: Optional[int] = None  # upper end of the search (default: 40 * N)
    oracle: bool = False  # simple network: also compute the LP oracle's count at the capacity DS
    oracle_time_limit: float = 60.0  # seconds per dataset for the oracle's certified interval


@dataclass
class TrainerConfig:
    max_steps: int = 10000  # step cap per run (patience usually stops a run first)
    check_every: int = 50  # steps between memorization checks (the only host syncs)
    patience: int = 20  # checks without a new best memorized count before a run stops
    schedule: str = "constant"  # constant | cosine (decays lr to 0 at max_steps)
    batch_size: Optional[int] = None  # None: full batch; else patterns per step per run
    accelerator: str = "auto"  # Lightning's: auto picks the GPU when one is present
    tf32: bool = True  # allow TF32 matmuls on Ampere+ GPUs
    max_members: int = 64  # runs x DS candidates trained as one ensemble
    max_elements: int = 50_000_000  # and at most this many members * DS * N (memory)
    max_padding: float = 2.0  # and largest DS / smallest DS at most this (padding is wasted compute)


@dataclass
class PruneConfig:
    """Iterative pruning rounds at a fixed DS (memcap.patterns.prune, docs/topology.md)."""

    name: str = "none"  # none | lottery (magnitude, rewound: the lottery ticket) | random (the control)
    rate: float = 0.2  # fraction of each member's remaining weights removed per round
    rounds: int = 5  # pruning rounds after the first (dense) training
    rewind_step: int = 0  # survivors restart from the weights after this many steps of the first training
    target: Optional[float] = 0.9  # stop after the first round where no run memorizes this fraction of DS (null: never)


@dataclass
class LoggerConfig:
    name: str = "wandb"
    project: str = "memcap"
    entity: Optional[str] = None
    init_timeout: float = 60.0  # seconds to wait for the W&B service before logging offline


@dataclass
class TrainConfig:
    """The top level. Groups are typed by the schema their option extends (see register_configs)."""

    N: int = 100
    s: float = 0.1
    steps: Optional[int] = None  # None: the model's own (simple 1, recurrent 2)
    seed: int = 0
    data_seed: Optional[int] = None  # set: every run trains on this dataset (runs vary the initialization)
    init_seed: Optional[int] = None  # set: every run starts from this initialization (runs vary the data)
    runs: int = 5
    DS: Optional[int] = None  # None: search the capacity; int: train exactly this DS
    lr: Optional[float] = None  # None: the model's own (model.lr)
    model: Any = MISSING
    data: Any = MISSING
    loss: LossConfig = field(default_factory=LossConfig)
    search: Any = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    prune: PruneConfig = field(default_factory=PruneConfig)
    text: Any = None  # data=text only: memcap.text.config.TextConfig (so the command line reads text.length=16)


# Options of the groups whose options differ in shape extend one of these schemas
# in their defaults list (conf/model/simple.yaml: `defaults: [pattern_schema, _self_]`).
GROUP_SCHEMAS = {
    ("model", "pattern_schema"): ModelConfig,
    ("data", "patterns_schema"): DataConfig,
    ("search", "search_schema"): SearchConfig,
}


def register_configs() -> None:
    """Register ``TrainConfig`` (extended by conf/train.yaml) and the group schemas."""
    from memcap.text.config import TEXT_SCHEMAS  # imported here: memcap.text.config imports this module

    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    for (group, name), node in {**GROUP_SCHEMAS, **TEXT_SCHEMAS}.items():
        store.store(group=group, name=name, node=node)


def learning_rate(cfg) -> float:
    """The effective Adam lr: ``lr`` or the model's recipe default ``model.lr``."""
    return cfg.lr if cfg.lr is not None else cfg.model.lr


def loss_name(cfg) -> str:
    """The effective loss: ``loss.name`` or the model's recipe default ``model.loss``."""
    return cfg.loss.name if cfg.loss.name is not None else cfg.model.loss


def criterion_bti(cfg) -> int:
    """Wrong bits tolerated per group by the memorization criterion: #bti for bce_ignore, else 0."""
    return bits_to_ignore(cfg.N, cfg.s) if loss_name(cfg) == "bce_ignore" else 0


def model_steps(cfg) -> int:
    """The effective number of time steps: ``steps`` or the model's default."""
    if cfg.steps is not None:
        return cfg.steps
    return 1 if cfg.model.name == "simple" else 2


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(key, f"unknown value {value!r}; allowed: {', '.join(allowed)}")


def validate(cfg) -> None:
    """Raise ConfigError for the first out-of-range value in ``cfg``."""
    _choice("model", cfg.model.name, MODELS)
    _choice("loss" if cfg.loss.name is not None else "model.loss", loss_name(cfg), LOSSES)
    _choice("search", cfg.search.name, SEARCHES)
    _choice("logger", cfg.logger.name, LOGGERS)
    _choice("trainer.schedule", cfg.trainer.schedule, SCHEDULES)
    if cfg.N <= 0:
        raise ConfigError("N", f"must be a positive integer, got {cfg.N}")
    if not 0 < cfg.s < 1:
        raise ConfigError("s", f"must lie in (0, 1), got {cfg.s}")
    k = round(cfg.N * cfg.s)
    if k == 0:
        raise ConfigError("s", f"round(N*s) = round({cfg.N}*{cfg.s}) = 0 active bits; raise N or s")
    if cfg.steps is not None and cfg.steps < 1:
        raise ConfigError("steps", f"must be at least 1, got {cfg.steps}")
    steps = model_steps(cfg)
    if cfg.model.name == "simple" and steps != 1:
        raise ConfigError("steps", f"model=simple has exactly 1 step, got {steps}; use model=recurrent for more")
    if cfg.model.name == "recurrent" and steps < 2:
        raise ConfigError("steps", f"model=recurrent needs steps >= 2 (one step is model=simple), got {steps}")
    if cfg.runs < 1:
        raise ConfigError("runs", f"must be at least 1, got {cfg.runs}")
    for key in ("data_seed", "init_seed"):
        if cfg[key] is not None and cfg[key] < 0:
            raise ConfigError(key, f"must be a non-negative integer (or null), got {cfg[key]}")
    if cfg.data_seed is not None and cfg.init_seed is not None and cfg.runs > 1:
        raise ConfigError("init_seed", "with data_seed also set every run is the same; pin one of them, or set runs=1")
    if learning_rate(cfg) <= 0:
        raise ConfigError("lr" if cfg.lr is not None else "model.lr", f"must be positive, got {learning_rate(cfg)}")
    total = math.comb(cfg.N, k)
    if cfg.DS is not None and cfg.DS < 1:
        raise ConfigError("DS", f"must be at least 1 (or null to search the capacity), got {cfg.DS}")
    if cfg.DS is not None and cfg.DS > total:
        raise ConfigError("DS", f"{cfg.DS} exceeds the C({cfg.N}, {k}) = {total} distinct patterns with {k} ones")
    if cfg.search.name == "fixed" and cfg.DS is None:
        raise ConfigError("DS", "search=fixed needs an integer DS")
    search = cfg.search
    for key in ("step", "resolution", "batch"):
        if getattr(search, key) < 1:
            raise ConfigError(f"search.{key}", f"must be at least 1, got {getattr(search, key)}")
    if not 0 < search.threshold <= 1:
        raise ConfigError("search.threshold", f"must lie in (0, 1], got {search.threshold}")
    if search.max_ds is not None and search.max_ds < 1:
        raise ConfigError("search.max_ds", f"must be at least 1, got {search.max_ds}")
    trainer = cfg.trainer
    for key in ("max_steps", "check_every", "patience", "max_members", "max_elements"):
        if getattr(trainer, key) < 1:
            raise ConfigError(f"trainer.{key}", f"must be at least 1, got {getattr(trainer, key)}")
    if trainer.max_padding < 1:
        raise ConfigError("trainer.max_padding", f"must be at least 1, got {trainer.max_padding}")
    if trainer.batch_size is not None and trainer.batch_size < 1:
        raise ConfigError("trainer.batch_size", f"must be at least 1 (or null for full batch), got {trainer.batch_size}")
    if not search.oracle_time_limit > 0:
        raise ConfigError("search.oracle_time_limit", f"must be positive, got {search.oracle_time_limit}")
    if search.oracle and cfg.model.name != "simple":
        raise ConfigError("search.oracle", f"the LP oracle exists for model=simple only, not {cfg.model.name}")
    for key in ("margin", "tau"):
        if cfg.loss[key] <= 0:
            raise ConfigError(f"loss.{key}", f"must be positive, got {cfg.loss[key]}")
    validate_topology(cfg)


def validate_topology(cfg) -> None:
    """The activation, connectivity and pruning keys (docs/topology.md)."""
    model, pruning = cfg.model, cfg.prune
    _choice("model.activation", model.activation, ACTIVATIONS)
    if model.name == "simple" and model.activation != "sigmoid":
        raise ConfigError("model.activation", f"model=simple has no hidden path, only sigmoid outputs; "
                                              f"{model.activation!r} needs model=recurrent (it sets what R feeds back)")
    if model.w0 <= 0:
        raise ConfigError("model.w0", f"must be positive, got {model.w0}")
    if not 0 < model.density <= 1:
        raise ConfigError("model.density", f"must lie in (0, 1], got {model.density}")
    _choice("prune", pruning.name, PRUNINGS)
    if not 0 < pruning.rate < 1:
        raise ConfigError("prune.rate", f"must lie in (0, 1), got {pruning.rate}")
    if pruning.rounds < 1:
        raise ConfigError("prune.rounds", f"must be at least 1, got {pruning.rounds}")
    if pruning.rewind_step < 0:
        raise ConfigError("prune.rewind_step", f"must be at least 0, got {pruning.rewind_step}")
    if pruning.target is not None and not 0 < pruning.target <= 1:
        raise ConfigError("prune.target", f"must lie in (0, 1] (or null: every round), got {pruning.target}")
    if pruning.name != "none" and cfg.DS is None:
        raise ConfigError("DS", f"prune={pruning.name} trains one dataset size through its rounds: give an integer DS")
    if cfg.search.oracle and (model.density < 1 or pruning.name != "none"):
        raise ConfigError("search.oracle", "the LP oracle solves the dense network; not with model.density < 1 or prune")


def topology_config(cfg) -> dict:
    """The topology keys of result.json's flat config, each only when it is not the default
    (as data_seed and init_seed), so results from before these keys keep their identity."""
    model, pruning = cfg.model, cfg.prune
    keys = {}
    if model.activation != "sigmoid":
        keys["activation"] = model.activation
    if model.activation == "sine":
        keys["w0"] = model.w0
    if model.density < 1:
        keys["density"] = model.density
    if pruning.name != "none":
        keys.update(prune=pruning.name, prune_rate=pruning.rate, prune_rounds=pruning.rounds,
                    rewind_step=pruning.rewind_step, prune_target=pruning.target)
    return keys


CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def compose(*overrides: str):
    """The config train.py would run with these overrides (for tests, notebooks and scripts)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="train", overrides=list(overrides))
