"""The pattern task's schemas (model, data, loss, search, prune) and its checks.

``validate`` runs after ``memcap.config.validate_common`` (the keys every task
shares); each bad value fails before any work with one ConfigError naming the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from omegaconf import OmegaConf

from memcap.config import ConfigError, at_least, choice, positive, validate_common
from memcap.patterns.layout import aligned_rows
from memcap.patterns.losses import LOSSES, MARGIN, TAU
from memcap.patterns.sizes import check_oracle_size, tolerance
from memcap.topology import ACTIVATIONS, check_prune, check_w0_density

MODELS = ("simple", "recurrent")
# The oracle's work per dataset after its heuristic (memcap.patterns.oracle.oracle_interval): counts, never
# seconds, so its interval is the same on any machine under any load.
ORACLE_ITERATIONS = 50  # rounds of circuits (Farkas LPs) and one covering MILP (0: the heuristic's interval)
ORACLE_NODES = 10000  # branch-and-bound nodes per covering MILP
SEARCHES = ("capacity", "fixed")
DECIDERS = ("training", "solver")  # search.decide: what decides a (DS, run) point (memcap.patterns.solver)


@dataclass
class ModelConfig:
    name: str = "simple"
    lr: float = 0.1  # the Adam lr this network trains best with (docs/recipe.md); top-level lr overrides
    loss: str = "log_hinge"  # the loss this network trains best with (docs/recipe.md); loss=NAME overrides
    activation: str = "sigmoid"  # what the recurrent path feeds back: sigmoid | tanh | relu | sine (docs/topology.md)
    w0: float = 30.0  # activation=sine: SIREN's frequency
    density: float = 1.0  # < 1: fixed random sparse connectivity, this fraction of every weight matrix kept
    runs: int = 5  # the runs per DS this network is measured with by default (top-level runs overrides)
    max_steps: int = 10000  # the step cap this network needs to plateau near capacity (trainer.max_steps overrides)
    patience_fraction: float = 0.0  # its plateau rule's window as a fraction of the checks so far (trainer.patience_fraction)
    plateau_before_first_pattern: bool = True  # whether its loss can stop it before its first pattern (trainer.*)
    fail_fast_steps: Optional[int] = 2000  # the steps it may take to memorize its first pattern (search.fail_fast_steps)
    warmup: Optional[str] = None  # the recipe's warm-up loss before model.loss (loss=recipe only), or none
    warmup_steps: int = 0  # its length in steps


@dataclass
class DataConfig:
    name: str = "patterns"


@dataclass
class LossConfig:
    name: Optional[str] = None  # None (loss=recipe): the model's own, model.loss
    margin: float = MARGIN  # hinge, log_hinge: how far past the threshold a bit must be
    tau: float = TAU  # log_hinge: a pattern's summed hinge at which it starts to count as hopeless
    warmup: Optional[str] = None  # train with this loss for the first warmup_steps steps, then with loss.name
    warmup_steps: Optional[int] = None  # None: the recipe's (model.warmup_steps with loss=recipe, else 0)


@dataclass
class SearchConfig:
    name: str = "capacity"
    step: int = 100  # capacity grid: perfect_ds + j * step, as the report
    resolution: int = 10  # grid of the perfect-recall DS search
    threshold: float = 0.9  # capacity: largest DS at which some run memorizes more than this
    batch: Optional[int] = None  # DS candidates trained together per search round (None: search_batch's choice)
    max_ds: Optional[int] = None  # upper end of the search (default: 40 * N)
    oracle: bool = False  # simple network: also compute the oracle's certified interval at the capacity DS
    oracle_iterations: int = ORACLE_ITERATIONS  # rounds of the oracle's certification per dataset (a count)
    oracle_nodes: int = ORACLE_NODES  # branch-and-bound nodes per covering MILP (a count)
    oracle_workers: int = 1  # datasets the oracle solves at once, one process each (not in the identity)
    fail_fast_steps: Optional[int] = 2000  # a member with no pattern memorized by this step stops (None: never)
    stop_short: bool = True  # from then on, one that cannot pass threshold x DS by the cap at its rate so far stops
    settle_factor: int = 2  # a deciding DS's runs stopped before their plateau train again, to this x the step cap (0: never)
    prior: Optional[float] = None  # patterns per neuron where the perfect-recall phase starts (None: the grid's first)
    decide: str = "training"  # what decides each (DS, run) point: training, or LPs for model=simple (solver)
    solver_patience: int = 3  # decide=solver: grid points in a row with no passing run that end a phase's scan
    solver_capacity: bool = True  # decide=solver: also scan the capacity above the perfect-recall DS
    solver_check: Optional[bool] = None  # a trained search beside the solver's perfect-recall DS (None: where it applies)
    solver_workers: int = 1  # threads deciding one dataset's neurons at once (the solver's LPs; not in the identity)


@dataclass
class PruneConfig:
    """Iterative pruning rounds: at a fixed DS (memcap.patterns.prune, docs/topology.md), or on a text encoder's
    state measure at a fixed width and L (memcap.text.state.prune, docs/text.md)."""

    name: str = "none"  # none | lottery (magnitude, rewound: the lottery ticket) | random (the control)
    rate: float = 0.2  # fraction of each member's remaining weights removed per round
    rounds: int = 5  # pruning rounds after the first (dense) training
    rewind_step: int = 0  # survivors restart from the weights after this many steps of the first training
    target: Optional[float] = 0.9  # stop after the first round where no run memorizes this fraction of DS (null: never)


# conf/model/simple.yaml extends pattern_schema in its defaults list (`defaults: [pattern_schema, _self_]`), etc.
SCHEMAS = {
    ("model", "pattern_schema"): ModelConfig,
    ("data", "patterns_schema"): DataConfig,
    ("loss", "loss_schema"): LossConfig,
    ("search", "search_schema"): SearchConfig,
    ("prune", "prune_schema"): PruneConfig,
}
# Top-level keys pattern jobs do not read, with their defaults (set to anything else: refused).
UNUSED = {"text": None}


def loss_name(cfg) -> str:
    """The effective loss: ``loss.name`` or the model's recipe default ``model.loss``."""
    return cfg.loss.name if cfg.loss.name is not None else cfg.model.loss


def loss_schedule(cfg) -> tuple[str | None, int]:
    """(warm-up loss or None, its steps): loss.warmup*, or with loss=recipe the model's own."""
    recipe = cfg.loss.name is None
    warmup = cfg.loss.warmup if cfg.loss.warmup is not None else (cfg.model.warmup if recipe else None)
    steps = cfg.loss.warmup_steps if cfg.loss.warmup_steps is not None else (cfg.model.warmup_steps if recipe else 0)
    return (warmup, steps) if warmup is not None and steps > 0 else (None, 0)


def criterion_bti(cfg) -> int:
    """Wrong bits tolerated per group by the memorization criterion: #bti for bce_ignore, else 0."""
    return tolerance(loss_name(cfg), cfg.N, cfg.s)


def model_steps(cfg) -> int:
    """The effective number of time steps: ``steps`` or the model's default."""
    if cfg.steps is not None:
        return cfg.steps
    return 1 if cfg.model.name == "simple" else 2


def validate(cfg) -> None:
    """Raise ConfigError for the first out-of-range value of a pattern job."""
    validate_common(cfg, UNUSED)
    choice("model", cfg.model.name, MODELS)
    choice("loss" if cfg.loss.name is not None else "model.loss", loss_name(cfg), LOSSES)
    choice("search", cfg.search.name, SEARCHES)
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
    for key in ("data_seed", "init_seed"):
        if cfg[key] is not None and cfg[key] < 0:
            raise ConfigError(key, f"must be a non-negative integer (or null), got {cfg[key]}")
    if cfg.data_seed is not None and cfg.init_seed is not None and cfg.runs > 1:
        raise ConfigError("init_seed", "with data_seed also set every run is the same; pin one of them, or set runs=1")
    total = math.comb(cfg.N, k)
    if cfg.DS is not None and cfg.DS < 1:
        raise ConfigError("DS", f"must be at least 1 (or null to search the capacity), got {cfg.DS}")
    if cfg.DS is not None and cfg.DS > total:
        raise ConfigError("DS", f"{cfg.DS} exceeds the C({cfg.N}, {k}) = {total} distinct patterns with {k} ones")
    if cfg.search.name == "fixed" and cfg.DS is None:
        raise ConfigError("DS", "search=fixed needs an integer DS")
    search = cfg.search
    for key in ("step", "resolution", "oracle_workers", "oracle_nodes", "solver_workers"):
        at_least(f"search.{key}", getattr(search, key))
    at_least("search.oracle_iterations", search.oracle_iterations, 0)
    if cfg.DS is None and search.resolution > total:
        raise ConfigError("search.resolution", f"the search's first DS, {search.resolution}, exceeds the C({cfg.N}, {k}) "
                          f"= {total} distinct patterns with {k} ones; allowed: 1 to {total}, or a larger N or s")
    at_least("search.settle_factor", search.settle_factor, 0)
    for key in ("batch", "fail_fast_steps"):
        if getattr(search, key) is not None:
            at_least(f"search.{key}", getattr(search, key))
    if not 0 < search.threshold <= 1:
        raise ConfigError("search.threshold", f"must lie in (0, 1], got {search.threshold}")
    if search.max_ds is not None:
        at_least("search.max_ds", search.max_ds)
    if search.prior is not None:
        positive("search.prior", search.prior)
    choice("search.decide", search.decide, DECIDERS)
    at_least("search.solver_patience", search.solver_patience)
    if search.decide == "solver":
        validate_solver(cfg)
    if search.solver_check and search.decide == "training" and solver_applies(cfg):
        key, value = solver_applies(cfg)
        raise ConfigError("search.solver_check", f"the solver decides the dense one-layer network's capacity search "
                                                 f"only (model=simple, model.density=1, prune=none, DS=null), not "
                                                 f"{key}={value}; leave it null (where it applies) or false")
    if search.oracle and cfg.model.name != "simple":
        raise ConfigError("search.oracle", f"the LP oracle exists for model=simple only, not {cfg.model.name}")
    for key in ("margin", "tau"):
        positive(f"loss.{key}", cfg.loss[key])
    for node, where in ((cfg.loss, "loss"), (cfg.model, "model")):
        if node.warmup is not None:
            choice(f"{where}.warmup", node.warmup, LOSSES)
        if node.warmup_steps is not None:
            at_least(f"{where}.warmup_steps", node.warmup_steps, 0)
    validate_topology(cfg)
    check_memory(cfg)


def validate_solver(cfg) -> None:
    """search.decide=solver: a capacity search of the dense one-layer network, whose LPs fit in memory."""

    refused = solver_applies(cfg)
    if refused:
        raise ConfigError(refused[0], f"search.decide=solver decides the dense one-layer network's capacity search "
                                      f"(model=simple, model.density=1, prune=none, DS=null); got {refused[1]}")
    try:
        check_oracle_size(search_ceiling(cfg), cfg.N, cfg.N, max_bytes=int(cfg.trainer.max_memory_gb * 2**30))
    except ValueError as error:
        raise ConfigError("search.max_ds", f"{error}; lower search.max_ds or N, or raise trainer.max_memory_gb") from None


def solver_applies(cfg) -> tuple[str, object] | None:
    """Why the solver cannot decide this job's capacity search (the dense one-layer network's, searched, not
    pruned): the key and its value, or None when it can."""
    for key, value, wanted in (("model", cfg.model.name, "simple"), ("model.density", cfg.model.density, 1.0),
                               ("prune", cfg.prune.name, "none"), ("DS", cfg.DS, None)):
        if value != wanted:
            return key, value
    return None


def solver_checks(cfg) -> bool:
    """Whether a trained search also runs the solver's perfect-recall scan (``search.solver_check``; null:
    wherever the solver applies and its answer is exact, i.e. exact recall). Under bits-to-ignore the scan's
    answer is a lower bound that costs a complete check and the tolerance's witness at every DS past exact
    capacity (about 10 minutes at N=100, an hour at N=200), so it runs there only when asked (true)."""
    if cfg.search.decide != "training" or cfg.search.solver_check is False:
        return False
    if cfg.search.solver_check is None and criterion_bti(cfg) > 0:
        return False
    return solver_applies(cfg) is None


def validate_topology(cfg) -> None:
    """The activation, connectivity and pruning keys (docs/topology.md)."""
    model, pruning = cfg.model, cfg.prune
    choice("model.activation", model.activation, ACTIVATIONS)
    if model.name == "simple" and model.activation != "sigmoid":
        raise ConfigError("model.activation", f"model=simple has no hidden path, only sigmoid outputs; "
                                              f"{model.activation!r} needs model=recurrent (it sets what R feeds back)")
    check_w0_density(model)
    check_prune(pruning)
    if cfg.search.oracle and (model.density < 1 or pruning.name != "none"):
        raise ConfigError("search.oracle", "the LP oracle solves the dense network; not with model.density < 1 or prune")


def settle_config(cfg):
    """The config a deciding DS's runs are trained again under (``search.settle_factor``): the same members,
    data and recipe, no fail-fast rule, ``settle_factor`` times the step cap. None: they are not."""
    if cfg.DS is not None or cfg.search.settle_factor == 0:
        return None
    return OmegaConf.merge(cfg, {"search": {"fail_fast_steps": None},
                                 "trainer": {"max_steps": cfg.search.settle_factor * cfg.trainer.max_steps}})


def search_batch(cfg) -> int:
    """DS candidates per search round: search.batch, or by the device's cost of a wider ensemble.

    On a CPU an ensemble's step costs about the sum of its members' (the matmuls
    are already wide enough to use every core), so every candidate trained beyond
    the one bisection needs is paid in full: one candidate a round trains least.
    On a GPU the members of a round train in parallel at little extra cost, and
    four candidates a round take about half the rounds. Either way the search
    lands on the same grid point when the predicate falls with DS (memcap.search).
    """
    if cfg.search.batch is not None:
        return cfg.search.batch
    import torch

    on_gpu = cfg.trainer.accelerator in ("gpu", "cuda") or (cfg.trainer.accelerator == "auto" and torch.cuda.is_available())
    return 4 if on_gpu else 1


def search_ceiling(cfg) -> int:
    """The largest DS the search may try: search.max_ds (default 40 N), at most C(N, k)."""
    return min(cfg.search.max_ds or 40 * cfg.N, math.comb(cfg.N, round(cfg.N * cfg.s)))


def search_start(cfg) -> int | None:
    """Where the perfect-recall phase starts: ``search.prior`` patterns per neuron, on the grid and under its
    ceiling; None (no prior): the gallop starts at the grid's first point.

    A function of the job's config alone, never of other jobs' results: the same config searches the same
    path, whatever else a sweep has finished and in whichever order."""
    if cfg.search.prior is None:
        return None
    resolution = cfg.search.resolution
    top = search_ceiling(cfg) // resolution * resolution
    return min(max(resolution, round(cfg.search.prior * cfg.N / resolution) * resolution), top)


def ensemble_bytes(cfg) -> int:
    """An estimate of the memory the largest ensemble of this job needs, in bytes.

    The data (X, Y: members x rows x N floats each, plus weights; rows is DS padded
    to the engine's alignment), and per member
    the parameters with their gradient, Adam's two moments and the best weights
    (N^2 per matrix), and the activations of every step (pre-activations, sigmoid
    and the backward pass's copy: about 3 x steps x rows x N). An upper end rather
    than a measurement: enough to refuse a job that cannot fit before it allocates.
    """
    ds = cfg.DS if cfg.DS is not None else search_ceiling(cfg)
    rows = aligned_rows(ds, cfg.N)  # every member's slab is padded to these rows, as build_module allocates
    members = max(1, min(cfg.trainer.max_members, cfg.runs * (1 if cfg.DS is not None else search_batch(cfg))))
    members = max(1, min(members, cfg.trainer.max_elements // max(1, rows * cfg.N)))
    matrices = 1 if cfg.model.name == "simple" else 2
    data = members * rows * (2 * cfg.N + 1)
    weights = members * 5 * (matrices * cfg.N * cfg.N + cfg.N)
    activations = members * 3 * model_steps(cfg) * rows * cfg.N
    return 4 * (data + weights + activations)


def check_memory(cfg) -> None:
    need = ensemble_bytes(cfg) / 2**30
    if need > cfg.trainer.max_memory_gb:
        raise ConfigError("N", f"this job's largest ensemble needs about {need:.1f} GB (N={cfg.N}, up to "
                               f"DS={cfg.DS or search_ceiling(cfg)}), above trainer.max_memory_gb="
                               f"{cfg.trainer.max_memory_gb}; lower N or search.max_ds, or raise trainer.max_memory_gb")


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
