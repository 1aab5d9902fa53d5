"""A Lightning fit of one group of members, as every task's engine runs it.

``make_trainer`` builds the Trainer; a job adds two callbacks (memcap.lifecycle.Job.fit):

- ``MidRoundCheckpoint``: every ``trainer.checkpoint_minutes`` the whole state
  of the fit (weights, optimizer, the module's counters and best weights, its
  random generators, the step) is saved atomically beside result.json, so a
  killed or requeued job continues the fit where it was instead of at its start.
  It is loaded with ``weights_only=True``: no code runs from a file in a shared directory.
- ``ProgressLog``: one log line a minute inside a long fit (the step, the members
  still training, the best so far), to the console and to the job's train.log.

In a terminal the fit shows one live bar (``FitProgressBar``, Lightning's tqdm
bar): the DS candidates (or widths) of the fit, its step against the cap, the
members still training and the best count so far per candidate. memcap draws no
other live display, so nothing competes for the terminal.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import TQDMProgressBar

from memcap.formatting import duration
from memcap.results import replacing

log = logging.getLogger("memcap")


@dataclass
class Fit:
    """What one fit of a group of members gets from its job (a fit outside any job: the defaults)."""

    logger: Any = False
    step_offset: int = 0  # where this fit's steps start on the job's W&B step axis
    callbacks: list = field(default_factory=list)
    ckpt_path: Path | None = None  # a mid-round checkpoint of this very group to resume from
    description: str = "training"  # what the terminal's bar calls this fit: "DS=[100, 200]"


def make_trainer(trainer_cfg, fit: Fit, max_steps: int) -> pl.Trainer:
    in_terminal = sys.stderr.isatty()
    bars = [FitProgressBar(fit.description)] if in_terminal else []
    return pl.Trainer(
        accelerator=trainer_cfg.accelerator,
        devices=1,
        max_steps=max_steps,
        logger=fit.logger,
        callbacks=[*fit.callbacks, *bars],
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=in_terminal,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )


def run_fit(trainer_cfg, module: pl.LightningModule, fit: Fit, max_steps: int) -> float:
    """Fit ``module`` (resuming from ``fit.ckpt_path`` when given); returns the wall seconds."""
    start = time.perf_counter()
    make_trainer(trainer_cfg, fit, max_steps).fit(module, ckpt_path=fit.ckpt_path, weights_only=True)
    return time.perf_counter() - start


WARMUP_FRACTION = 0.05  # trainer.schedule=warmup_cosine: the share of max_steps over which the lr rises


def adam(params, lr: float, schedule: str = "constant", max_steps: int | None = None, foreach: bool | None = None):
    """The optimizer of every memcap fit, as Lightning's ``configure_optimizers`` returns it: Adam, which is
    elementwise, so one Adam over an ensemble's stacked members is one Adam per member; with
    ``trainer.schedule=cosine`` its lr decays to 0 over ``max_steps``; ``warmup_cosine`` first rises linearly
    from lr/100 over the first ``WARMUP_FRACTION`` of them, then decays so. ``params`` may be parameter groups with
    their own lr (the state measure trains several lrs at once). ``foreach``: torch's fused loop (fewer ops
    per step for the many small tensors of the text encoders)."""
    optimizer = torch.optim.Adam(params, lr=lr, foreach=foreach)
    schedulers = torch.optim.lr_scheduler
    if schedule == "cosine":
        return [optimizer], [schedulers.CosineAnnealingLR(optimizer, T_max=max_steps)]
    if schedule == "warmup_cosine":
        warm = max(1, round(WARMUP_FRACTION * max_steps))
        return [optimizer], [schedulers.SequentialLR(
            optimizer, [schedulers.LinearLR(optimizer, start_factor=0.01, total_iters=warm),
                        schedulers.CosineAnnealingLR(optimizer, T_max=max(1, max_steps - warm))], milestones=[warm])]
    return optimizer


class MidRoundCheckpoint(pl.Callback):
    """Save the fit's whole state to ``path`` every ``minutes``, atomically, tagged with whose fit it is;
    then call ``on_save`` (the job saves its result.json, so its wall time stays current)."""

    def __init__(self, path: Path, minutes: float, tag: dict, on_save=None):
        self.path, self.seconds, self.tag, self.on_save = Path(path), 60 * minutes, tag, on_save
        self.last = time.monotonic()

    def on_train_start(self, trainer, pl_module) -> None:
        self.last = time.monotonic()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if time.monotonic() - self.last < self.seconds or trainer.should_stop:
            return
        with replacing(self.path) as tmp:
            trainer.save_checkpoint(tmp)
        if self.on_save is not None:
            self.on_save()  # the job's result.json: its wall time so far
        self.last = time.monotonic()

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["memcap"] = self.tag

    @staticmethod
    def matches(path: Path, tag: dict) -> bool:
        """Whether ``path`` holds a checkpoint of this fit (same job identity, same members)."""
        if not Path(path).exists():
            return False
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True).get("memcap")
        except Exception as error:  # a file that is not a checkpoint: train from the start
            log.warning("ignoring unreadable checkpoint %s (%s)", path, error)
            return False
        return saved == tag


class ProgressLog(pl.Callback):
    """One line a minute inside a fit: the step, its rate, the longest the fit can still take (to the step
    cap, at that rate: members that stop end it sooner), the members still training, ``pl_module.progress()``.

    A long sweep is watched through these lines (train.log, ``memcap status``): the rate and the bound say
    whether a round is worth waiting for. The rate counts this attempt's steps only (a resumed fit starts
    from its checkpoint's step).
    """

    def __init__(self, key: str, members: list, every_seconds: float = 60.0):
        self.key, self.members, self.every = key, members, every_seconds
        self.start = self.last = time.monotonic()
        self.first_step = 0

    def on_train_start(self, trainer, pl_module) -> None:
        self.start = self.last = time.monotonic()
        self.first_step = trainer.global_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            values = sorted({value for value, _ in self.members})
            per_minute = (trainer.global_step - self.first_step) / max(now - self.start, 1e-9) * 60
            left = duration((trainer.max_steps - trainer.global_step) / per_minute * 60) if per_minute else "?"
            log.info("  %s=%s step %d/%d (%.0f/min, at most %s left), %s, %.0fs", self.key, values,
                     trainer.global_step, trainer.max_steps, per_minute, left, pl_module.progress(),
                     now - self.start)


class FitProgressBar(TQDMProgressBar):
    """The one live display in a terminal: this fit's candidates, step / cap, members training, best so far."""

    def __init__(self, description: str, refresh_rate: int = 25):
        super().__init__(refresh_rate=refresh_rate)
        self.description = description

    def on_train_epoch_start(self, trainer, *args) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.total = trainer.max_steps  # steps, not "batches of epoch 0"
        self.train_progress_bar.set_description(self.description)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        bar = self.train_progress_bar
        if bar is not None and trainer.global_step % self.refresh_rate == 0:
            bar.n = trainer.global_step
            bar.set_postfix_str(pl_module.progress(), refresh=True)

    def get_metrics(self, trainer, pl_module) -> dict:
        return {}  # no "v_num", no loss: the postfix says what a search needs
