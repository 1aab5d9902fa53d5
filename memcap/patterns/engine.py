"""Train a list of (DS, run) members of one configuration, as few ensembles as fit.

This is where a search point becomes tensors: each member gets its own seeded
data and initialization (so its result does not depend on its companions),
members are grouped into ensembles of at most ``trainer.max_members`` and
``trainer.max_elements`` (members x DS x N), padded to the largest DS in the
group and on to an aligned row count (``memcap.patterns.layout``), and each group is
fitted by one Lightning Trainer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from memcap.config import learning_rate
from memcap.fitting import Fit, run_fit
from memcap.patterns.config import criterion_bti, loss_name, loss_schedule, validate
from memcap.patterns.data import make_patterns
from memcap.patterns.layout import aligned_rows
from memcap.patterns.models import PatternEnsemble, build
from memcap.patterns.module import STOP_REASONS, EnsembleModule
from memcap.patterns.schema import Point


def member_seeds(cfg, run: int, DS: int) -> tuple[int, int, int]:
    """Independent (data, init, batch) seeds for one member, from numpy's SeedSequence([seed, run, DS]).

    ``cfg.data_seed`` / ``cfg.init_seed``, when set, pin the data / the training
    (initialization and mini-batch order) of every member, so that ``runs`` varies
    only the other factor: the data-versus-initialization variance study.
    """
    data, init, batch = (int(s) for s in np.random.SeedSequence([cfg.seed, run, DS]).generate_state(3))
    if cfg.data_seed is not None:
        data = cfg.data_seed
    if cfg.init_seed is not None:
        init = batch = cfg.init_seed
    return data, init, batch


def member_data(cfg, DS: int, run: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The (X, Y) that member (DS, run) of this configuration trains on."""
    return make_patterns(cfg.N, DS, cfg.s, member_seeds(cfg, run, DS)[0])


def _groups(
    members: list[tuple[int, int]], N: int, max_members: int, max_elements: int, max_padding: float
) -> list[list[tuple[int, int]]]:
    """Split members (sorted by DS) into ensembles that fit the limits.

    A member joins the current ensemble only while its DS is at most ``max_padding``
    times the smallest DS there: every member computes on the longest one's rows (aligned:
    ``max_elements`` counts the rows ``build_module`` allocates).
    """
    groups, current = [], []
    for DS, run in sorted(members):
        full = len(current) >= max_members or (len(current) + 1) * aligned_rows(DS, N) * N > max_elements
        if current and (full or DS > max_padding * current[0][0]):
            groups.append(current)
            current = []
        current.append((DS, run))
    return groups + [current] if current else groups


Prepare = Callable[[PatternEnsemble, list[tuple[int, int]]], None]


def build_module(cfg, members: list[tuple[int, int]], max_steps: int | None = None, step_offset: int = 0,
                 prepare: Prepare | None = None, milestones: tuple[int, ...] = (),
                 must_exceed: float | None = None) -> EnsembleModule:
    """One ensemble of (DS, run) members: seeded data padded to the largest DS and aligned, seeded initializations.

    ``prepare(network, members)``, when given, changes the network before it is
    trained (memcap.patterns.prune masks and rewinds it) and may keep it to read after.
    ``must_exceed``: a capacity search's threshold, for the "short" stop (EnsembleModule).
    """
    N = cfg.N
    seeds = [member_seeds(cfg, run, DS) for DS, run in members]
    rows = aligned_rows(max(DS for DS, _ in members), N)
    X, Y, weight = torch.zeros(len(members), rows, N), torch.zeros(len(members), rows, N), torch.zeros(len(members), rows)
    for i, (DS, run) in enumerate(members):
        X[i, :DS], Y[i, :DS] = member_data(cfg, DS, run)
        weight[i, :DS] = 1.0
    network = build(cfg, [init for _, init, _ in seeds])
    warmup, warmup_steps = loss_schedule(cfg)
    if prepare is not None:
        prepare(network, members)
    return EnsembleModule(
        network, X, Y, weight,
        loss=loss_name(cfg), bti=criterion_bti(cfg), warmup=warmup, warmup_steps=warmup_steps,
        milestones=milestones, fail_fast_steps=cfg.search.fail_fast_steps, must_exceed=must_exceed,
        lr=learning_rate(cfg), margin=cfg.loss.margin, tau=cfg.loss.tau, max_steps=max_steps or cfg.trainer.max_steps,
        check_every=cfg.trainer.check_every, patience=cfg.trainer.patience,
        patience_fraction=cfg.trainer.patience_fraction, schedule=cfg.trainer.schedule,
        plateau_before_first_pattern=cfg.trainer.plateau_before_first_pattern,
        batch_size=cfg.trainer.batch_size, batch_seeds=[batch for _, _, batch in seeds], step_offset=step_offset,
        steps_per_call=cfg.trainer.steps_per_call,
        # A network that ``prepare`` changed keeps every member: pruning's rewind snapshot reads members by place.
        compact=cfg.trainer.compact and prepare is None,
    )


def train_members(cfg, members: list[tuple[int, int]], job=None, prepare: Prepare | None = None,
                  record: bool = True, checkpoint: bool = True, must_exceed: float | None = None,
                  phase: str | None = None) -> list[Point]:
    """Train every (DS, run) in ``members`` under ``cfg``; return one Point each (``prepare``: see build_module).

    Inside a ``job`` (memcap.lifecycle.Job) every ensemble's points are saved as soon
    as it is trained, an ensemble whose points are recorded is not trained
    again, and a long fit is checkpointed; ``record`` and ``checkpoint`` are
    passed on to ``Job.run_groups``, and ``phase`` (a second training of members recorded already: the search's
    settling); ``must_exceed``: see build_module. Without a job: just the training, after the config's checks (a
    job made them at its start).
    """
    if job is None:
        validate(cfg)
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = cfg.trainer.tf32
    limits = cfg.trainer
    groups = _groups(members, cfg.N, limits.max_members, limits.max_elements, limits.max_padding)

    def fit_group(group: list[tuple[int, int]], fit: Fit) -> list[dict]:
        module = build_module(cfg, group, step_offset=fit.step_offset, prepare=prepare, must_exceed=must_exceed)
        seconds = round(run_fit(cfg.trainer, module, fit, cfg.trainer.max_steps), 3)
        return [Point(DS=DS, run=run, memorized=int(module.best_count[i]), loss=float(module.last_loss[i]),
                      steps=int(module.steps_trained[i]), seconds=seconds, members=len(group),
                      stop=STOP_REASONS[int(module.stop[i])]).model_dump()
                for i, (DS, run) in enumerate(group)]

    if job is None:
        points = [p for group in groups for p in fit_group(group, Fit())]
    else:
        points = job.run_groups(groups, fit_group, record=record, checkpoint=checkpoint,
                                max_steps=cfg.trainer.max_steps, phase=phase)
    return [Point.model_validate(p) for p in points]
