"""The top-level config schema, the checks every task shares, and a job's identity.

A leaf: it imports no task and neither torch nor Hydra, so anything (the
aggregation included) can read it. Each task's own schemas and checks live in
its package (``memcap.patterns.config``, ``memcap.text.config``); the registry
``memcap.tasks`` stores them all in Hydra's ConfigStore.

Hydra merges conf/*.yaml and the command line into ``TrainConfig``; types are
enforced at merge time (``N=abc`` fails there). ``validate_common`` and the
task's ``validate`` then check ranges and combinations, so a bad value fails
before any work with one line naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING, DictConfig, OmegaConf

LOGGERS = ("wandb", "csv", "none")
SCHEDULES = ("constant", "cosine", "warmup_cosine")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")


class ConfigError(ValueError):
    """A config value is out of range; ``key`` names it."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


def choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(key, f"unknown value {value!r}; allowed: {', '.join(allowed)}")


def at_least(key: str, value: int, low: int = 1) -> None:
    if value < low:
        raise ConfigError(key, f"must be at least {low}, got {value}")


def positive(key: str, value: float) -> None:
    """A finite value > 0 (``inf`` and ``nan`` are refused: every run would diverge, or compare false)."""
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(key, f"must be a finite positive number, got {value}")


@dataclass
class TrainerConfig:
    max_steps: int = 10000  # step cap per run (patience usually stops a run first)
    check_every: int = 50  # steps between memorization checks (the only host syncs)
    patience: int = 20  # checks without a new best memorized count before a run stops...
    patience_fraction: float = 0.0  # ...and without one in this fraction of its checks so far (the model's)
    plateau_before_first_pattern: bool = True  # False: with nothing memorized only search.fail_fast_steps stops it (the model's)
    schedule: str = "constant"  # constant | cosine (decays lr to 0 at max_steps) | warmup_cosine (rises over 5% first)
    batch_size: Optional[int] = None  # None: full batch; else patterns per step per run
    accelerator: str = "auto"  # Lightning's: auto picks the GPU when one is present
    tf32: bool = True  # allow TF32 matmuls on Ampere+ GPUs
    max_members: int = 64  # runs x DS candidates trained as one ensemble
    max_elements: int = 50_000_000  # and at most this many members * DS * N (memory)
    max_padding: float = 2.0  # and largest DS / smallest DS at most this (padding is wasted compute)
    max_memory_gb: float = 8.0  # refuse a job whose largest ensemble would need more (estimated before allocating)
    checkpoint_minutes: float = 5.0  # mid-round checkpoint every this many minutes of a fit (0: never)
    threads: Optional[int] = None  # torch CPU threads; None: the launcher's share (memcap.cpu)
    flush_subnormals: bool = True  # CPU: subnormal floats as zero (bce jobs 2.5-3.2x faster on a 2-core CPU, the same points: memcap.cpu)
    steps_per_call: Optional[int] = None  # pattern ensembles: optimizer steps per Lightning call; None: check_every (the same points)
    compact: bool = True  # pattern ensembles: members that stopped leave the batched matmuls (the same points)


@dataclass
class LoggerConfig:
    name: str = "wandb"
    project: str = "memcap"
    entity: Optional[str] = None
    init_timeout: float = 60.0  # seconds to wait for the W&B service before logging offline


@dataclass
class TrainConfig:
    """The top level. Task nodes are typed by the schema their option extends (memcap.configs.register_configs)."""

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
    loss: Any = MISSING
    search: Any = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    prune: Any = MISSING
    text: Any = None  # data=text only: memcap.text.config.TextConfig (so the command line reads text.length=16)


def learning_rate(cfg) -> float:
    """The effective Adam lr: ``lr`` or the model's recipe default ``model.lr``."""
    return cfg.lr if cfg.lr is not None else cfg.model.lr


def unknown_keys(node, prefix: str = "") -> list[str]:
    """Keys in ``node`` that its schema dataclass does not declare (``+foo=1`` adds one), recursively."""
    if not isinstance(node, DictConfig):
        return []
    schema = OmegaConf.get_type(node)
    declared = {f.name for f in dataclasses.fields(schema)} if dataclasses.is_dataclass(schema) else None
    found = []
    for key in node.keys():
        path = f"{prefix}{key}"
        if declared is not None and key not in declared:
            found.append(path)
        elif key != "hydra":
            found += unknown_keys(node._get_node(key), f"{path}.")
    return found


def validate_common(cfg, task_keys: dict[str, Any]) -> None:
    """The keys every task reads, unknown keys, and keys this task does not read.

    ``task_keys`` maps each top-level key the task ignores to its default: a
    key set to anything else is refused (a text job has no N, a pattern job no ``text``).
    """
    unknown = unknown_keys(cfg)
    if unknown:
        raise ConfigError(unknown[0], "no such key in the config (see `python train.py --cfg job` for every key)")
    for key, default in task_keys.items():
        value = OmegaConf.select(cfg, key)
        value = OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value
        if value != default:
            raise ConfigError(key, f"is not used by data={cfg.data.name} jobs; leave it at its default ({default})")
    choice("logger", cfg.logger.name, LOGGERS)
    choice("trainer.schedule", cfg.trainer.schedule, SCHEDULES)
    choice("trainer.accelerator", cfg.trainer.accelerator, ACCELERATORS)
    at_least("runs", cfg.runs)
    at_least("seed", cfg.seed, 0)
    positive("lr" if cfg.lr is not None else "model.lr", learning_rate(cfg))
    trainer = cfg.trainer
    for key in ("max_steps", "check_every", "patience", "max_members", "max_elements"):
        at_least(f"trainer.{key}", getattr(trainer, key))
    if trainer.batch_size is not None:
        at_least("trainer.batch_size", trainer.batch_size)
    if trainer.threads is not None:
        at_least("trainer.threads", trainer.threads)
    if trainer.steps_per_call is not None:
        at_least("trainer.steps_per_call", trainer.steps_per_call)
    if not (0 <= trainer.patience_fraction < 1):
        raise ConfigError("trainer.patience_fraction", f"must be in [0, 1), got {trainer.patience_fraction}")
    if trainer.max_padding < 1:
        raise ConfigError("trainer.max_padding", f"must be at least 1, got {trainer.max_padding}")
    positive("trainer.max_memory_gb", trainer.max_memory_gb)
    if not (math.isfinite(trainer.checkpoint_minutes) and trainer.checkpoint_minutes >= 0):
        raise ConfigError("trainer.checkpoint_minutes", f"must be 0 (never) or positive, got {trainer.checkpoint_minutes}")
    check_accelerator(trainer.accelerator)


def check_accelerator(accelerator: str) -> None:
    """A GPU asked for where there is none is refused before any work (Lightning would raise mid-job)."""
    if accelerator in ("gpu", "cuda"):
        import torch  # only here: asking for a GPU is rare, and the aggregation never does

        if not torch.cuda.is_available():
            raise ConfigError("trainer.accelerator", f"{accelerator!r} asked for, but no CUDA GPU is visible here; "
                                                     "use auto or cpu")


# Keys that cannot change a result: where it is written and shown, and how the CPU computes it: how many
# threads (the machine's share, as the launcher's) and whether subnormals are flushed (the same points either
# way, tests/test_cpu.py; versions.torch_threads and versions.subnormals_flushed record both), how many
# datasets the LP oracle solves at once (the same datasets and bounds, tests/patterns/test_oracle_interval.py), and
# how many optimizer steps one Lightning call runs and whether stopped members leave the computation (the same
# steps, tests/patterns/test_ensemble.py). Everything else identifies the job.
NOT_IDENTITY = ("logger", "hydra", "trainer.checkpoint_minutes", "trainer.threads", "trainer.flush_subnormals",
                "trainer.steps_per_call", "trainer.compact", "search.oracle_workers",
                "search.solver_workers")


def per_steps(steps: int | None, own: int, table: dict) -> Any:
    """``${memcap.per_steps:${steps},2,{2: 0.1, 3: 0.03}}`` in a model's yaml: a recipe default that depends on the
    recurrent network's time steps (``own``, the network's own count, where ``steps`` is null): the entry of the
    largest tabled step count not above them (the smallest entry below them all). Only the resolved value enters a
    job's identity, so tabling a new step count changes no other job's."""
    steps = own if steps is None else steps
    counts = sorted(table)
    return table[max((k for k in counts if k <= steps), default=counts[0])]


# Registered on import: every process that resolves a config (a joblib or SLURM worker too) imports this module.
if not OmegaConf.has_resolver("memcap.per_steps"):
    OmegaConf.register_new_resolver("memcap.per_steps", per_steps)


def identity(cfg) -> dict:
    """A job's identity: its whole resolved config minus ``NOT_IDENTITY``.

    Two jobs with equal identities compute the same result (on one machine and
    thread count), so a rerun may reuse a finished one; any other difference
    (``loss.tau``, ``trainer.patience``, ``search.step``, ...) makes another job.
    """
    config = OmegaConf.to_container(cfg, resolve=True)
    for key in NOT_IDENTITY:
        *parents, last = key.split(".")
        node = config
        for parent in parents:
            node = node.get(parent, {})
        node.pop(last, None)
    return config


def identity_hash(config: dict) -> str:
    """A short hash that is equal exactly when two identities are equal."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
