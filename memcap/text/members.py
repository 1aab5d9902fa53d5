"""What the text task's Lightning modules share: networks trained side by side, each with its own counters.

``MembersModule`` is the base of the separability search's module (memcap.text.separability.module) and of
the state measures' (memcap.text.state.module); ``init_seed`` gives every (width, run) its own initialization.
"""

from __future__ import annotations

import math

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader

STOP_REASONS = ("running", "target", "plateau", "cap")


def init_seed(seed: int, run: int, hidden: int) -> int:
    """An independent initialization seed per (H, run), from numpy's SeedSequence."""
    return int(np.random.SeedSequence([seed, run, hidden]).generate_state(1)[0])


class MembersModule(pl.LightningModule):
    """Text networks trained side by side in one fit, each with its own counters and best weights.

    What both text modules share (this one's ``TextMemoryModule`` and
    memcap.text.state.module's ``StateModule``): the per-member bookkeeping,
    its place in a mid-round checkpoint, and a loader that only counts steps
    (the data lives on the module). Subclasses add their data and extra
    checkpoint state (their random generators) by extending the two hooks.
    """

    _COUNTERS = ("active", "best_score", "best_loss", "last_loss", "stale", "steps_trained", "stop")

    def __init__(self, members: list[nn.Module], max_steps: int, step_offset: int = 0):
        super().__init__()
        self.automatic_optimization = False
        self.members = nn.ModuleList(members)
        self.max_steps = max_steps
        self.step_offset = step_offset  # where this fit's steps start on the job's W&B step axis
        n = len(members)
        self.active = [True] * n
        self.best_score, self.best_loss, self.last_loss = [-1.0] * n, [math.inf] * n, [math.inf] * n
        self.stale, self.steps_trained, self.stop = [0] * n, [0] * n, [0] * n
        self.best_state = [self._snapshot(m) for m in members]

    @staticmethod
    def _snapshot(member: nn.Module) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in member.state_dict().items()}

    def train_dataloader(self):
        return DataLoader(range(self.max_steps), batch_size=None)

    def _step_members(self, inputs: torch.Tensor, loss_of, on_check=None) -> None:
        """One optimizer step of every active member on ``inputs``; ``on_check(i, logits, loss)``, when given,
        scores member i on the weights it had before the step (a check step)."""
        losses = []
        for i, member in enumerate(self.members):
            if not self.active[i]:
                continue
            logits = member(inputs)
            losses.append(loss_of(logits))
            self.steps_trained[i] += 1
            if on_check is not None:
                on_check(i, logits, losses[-1])
        if losses:
            self.optimizer.zero_grad(set_to_none=True)
            self.manual_backward(torch.stack(losses).sum())
            self.optimizer.step()

    # mid-round checkpoints (memcap.fitting.MidRoundCheckpoint): Lightning saves the weights and the optimizer
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["counters"] = {name: list(getattr(self, name)) for name in self._COUNTERS}
        checkpoint["best_state"] = self.best_state

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        for name, values in checkpoint["counters"].items():
            setattr(self, name, list(values))
        self.best_state = checkpoint["best_state"]

    def _record(self, i: int, score: float, loss: float, *, loss_tolerance: float, min_delta: float = 0.0) -> None:
        """One check of member ``i``: keep its best weights; stop it at ``self.target`` or on a plateau.

        A check makes progress when the score rises by more than ``min_delta`` or
        the loss falls by more than ``loss_tolerance`` (relative); ``self.patience``
        checks without progress are a plateau.
        """
        improved = score > self.best_score[i] + min_delta
        if score > self.best_score[i]:
            self.best_score[i] = score
            self.best_state[i] = self._snapshot(self.members[i])
        better_loss = loss < self.best_loss[i] * (1 - loss_tolerance)
        self.best_loss[i] = min(loss, self.best_loss[i])
        self.last_loss[i] = loss
        self.stale[i] = 0 if improved or better_loss else self.stale[i] + 1
        if score >= self.target:
            self.active[i], self.stop[i] = False, STOP_REASONS.index("target")
        elif self.stale[i] >= self.patience:
            self.active[i], self.stop[i] = False, STOP_REASONS.index("plateau")
