"""Train a list of (DS, run) members of one configuration, as few ensembles as fit.

This is where a search point becomes tensors: each member gets its own seeded
data and initialization (so its result does not depend on its companions),
members are grouped into ensembles of at most ``trainer.max_members`` and
``trainer.max_elements`` (members x DS x N), padded to the largest DS in the
group, and each group is fitted by one Lightning Trainer.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pytorch_lightning as pl
import torch

from memcap.config import criterion_bti, learning_rate, loss_name
from memcap.patterns.data import make_patterns
from memcap.patterns.models import PatternEnsemble, build
from memcap.patterns.module import STOP_REASONS, EnsembleModule


@dataclass
class Point:
    """One trained member: the schema of result.json's ``points``."""

    DS: int
    run: int
    memorized: int
    loss: float
    steps: int
    seconds: float  # wall time of the ensemble that trained this member
    members: int  # size of that ensemble
    stop: str  # memorized | plateau | cap

    def as_dict(self) -> dict:
        return asdict(self)


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
    times the smallest DS there: every member computes on the longest one's rows.
    """
    groups, current = [], []
    for DS, run in sorted(members):
        full = len(current) >= max_members or (len(current) + 1) * DS * N > max_elements
        if current and (full or DS > max_padding * current[0][0]):
            groups.append(current)
            current = []
        current.append((DS, run))
    return groups + [current] if current else groups


def make_trainer(cfg, logger, max_steps: int) -> pl.Trainer:
    return pl.Trainer(
        accelerator=cfg.trainer.accelerator,
        devices=1,
        max_steps=max_steps,
        logger=logger,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=sys.stderr.isatty(),
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )


Prepare = Callable[[PatternEnsemble, list[tuple[int, int]]], None]


def build_module(cfg, members: list[tuple[int, int]], max_steps: int | None = None, step_offset: int = 0,
                 prepare: Prepare | None = None) -> EnsembleModule:
    """One ensemble of (DS, run) members: seeded data padded to the largest DS, seeded initializations.

    ``prepare(network, members)``, when given, changes the network before it is
    trained (memcap.patterns.prune masks and rewinds it) and may keep it to read after.
    """
    N = cfg.N
    seeds = [member_seeds(cfg, run, DS) for DS, run in members]
    longest = max(DS for DS, _ in members)
    X, Y, weight = torch.zeros(len(members), longest, N), torch.zeros(len(members), longest, N), torch.zeros(len(members), longest)
    for i, (DS, run) in enumerate(members):
        X[i, :DS], Y[i, :DS] = member_data(cfg, DS, run)
        weight[i, :DS] = 1.0
    network = build(cfg, [init for _, init, _ in seeds])
    if prepare is not None:
        prepare(network, members)
    return EnsembleModule(
        network, X, Y, weight,
        loss=loss_name(cfg), bti=criterion_bti(cfg),
        lr=learning_rate(cfg), margin=cfg.loss.margin, tau=cfg.loss.tau, max_steps=max_steps or cfg.trainer.max_steps,
        check_every=cfg.trainer.check_every, patience=cfg.trainer.patience, schedule=cfg.trainer.schedule,
        batch_size=cfg.trainer.batch_size, batch_seeds=[batch for _, _, batch in seeds], step_offset=step_offset,
    )


def train_members(cfg, members: list[tuple[int, int]], logger=False, step_offset: int = 0,
                  prepare: Prepare | None = None) -> list[Point]:
    """Train every (DS, run) in ``members`` under ``cfg``; return one Point each (``prepare``: see build_module)."""
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = cfg.trainer.tf32
    points = []
    limits = cfg.trainer
    for group in _groups(members, cfg.N, limits.max_members, limits.max_elements, limits.max_padding):
        module = build_module(cfg, group, step_offset=step_offset, prepare=prepare)
        start = time.perf_counter()
        make_trainer(cfg, logger, cfg.trainer.max_steps).fit(module)
        seconds = time.perf_counter() - start
        step_offset += cfg.trainer.max_steps
        for i, (DS, run) in enumerate(group):
            points.append(Point(
                DS=DS, run=run, memorized=int(module.best_count[i]), loss=float(module.last_loss[i]),
                steps=int(module.steps_trained[i]), seconds=round(seconds, 3), members=len(group),
                stop=STOP_REASONS[int(module.stop[i])],
            ))
    return points
