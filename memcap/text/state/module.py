"""The LightningModule of the state measures: members trained side by side, on a stream or on stored strings.

Members (one search value x the lr grid x runs) share nothing but the data:
one Adam with a parameter group per member (each its own lr; Adam is
elementwise, so it is one Adam per member), the loss the sum of the members'
losses. With ``stream`` every step draws a fresh batch (the same batch for
every member, whoever trains alongside); without it every step is the full
batch of ``codes`` (the stored strings). ``frozen`` leaves the encoders out of
the optimizer: they stay at their initialization and only the decoders learn.

Every ``check_every`` steps each member is scored on ``check`` (the validation
set, or the stored strings): character accuracy and loss. A member stops on
**target** (score >= target), on **plateau** (``patience`` checks in a row
without the score rising by more than ``min_delta`` or the loss falling by more
than 1 %), or at the **cap** (max_steps); it keeps the weights of its best check.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import cross_entropy

from memcap.fitting import adam
from memcap.text.members import STOP_REASONS, MembersModule


def char_scores(logits: torch.Tensor, targets: torch.Tensor) -> tuple[float, float, float]:
    """(character accuracy, exact accuracy, mean cross-entropy in nats)."""
    right = logits.argmax(-1) == targets
    loss = cross_entropy(logits.flatten(0, 1), targets.flatten()).item()
    return right.float().mean().item(), right.all(-1).float().mean().item(), loss


class StateModule(MembersModule):
    def __init__(self, members: list[nn.Module], lrs: list[float], encode, *, check: torch.Tensor, target: float,
                 max_steps: int, check_every: int, patience: int, min_delta: float, stream=None,
                 codes: torch.Tensor | None = None, frozen: bool = False, step_offset: int = 0):
        super().__init__(members, max_steps, step_offset)
        self.lrs, self.encode, self.stream, self.frozen = list(lrs), encode, stream, frozen
        self.register_buffer("check", check)
        self.register_buffer("check_inputs", encode(check))
        if codes is not None:
            self.register_buffer("codes", codes)
            self.register_buffer("inputs", encode(codes))
        self.target, self.check_every = target, check_every
        self.patience, self.min_delta = patience, min_delta

    def trainable(self, member: nn.Module):
        return member.decoder.parameters() if self.frozen else member.parameters()

    def configure_optimizers(self):
        groups = [{"params": list(self.trainable(m)), "lr": lr} for m, lr in zip(self.members, self.lrs)]
        return adam(groups, self.lrs[0], foreach=True)  # each group's own lr

    def on_fit_start(self):
        self.optimizer = self.optimizers()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        if self.stream is not None:
            checkpoint["stream"] = {"generator": self.stream.generator.get_state(), "rejected": self.stream.rejected}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        if self.stream is not None:
            self.stream.generator.set_state(checkpoint["stream"]["generator"])
            self.stream.rejected = checkpoint["stream"]["rejected"]

    def progress(self) -> str:
        return f"{sum(self.active)}/{len(self.active)} members training, best check score {max(self.best_score):.3f}"

    def training_step(self, batch, batch_idx):
        if self.stream is not None:
            codes = self.stream.draw().to(self.device)  # drawn every step, so the k-th batch never depends on members
            inputs = self.encode(codes)
        else:
            codes, inputs = self.codes, self.inputs
        check = self.global_step % self.check_every == 0
        self._step_members(inputs, lambda logits: cross_entropy(logits.flatten(0, 1), codes.flatten()),
                           (lambda i, logits, loss: self._check(i)) if check else None)
        if check and self.logger is not None:
            self.logger.log_metrics({"train/check_score": max(self.best_score), "train/active_members": sum(self.active)},
                                    step=self.step_offset + self.global_step)
        if not any(self.active):
            self.trainer.should_stop = True

    @torch.no_grad()
    def _check(self, i: int) -> None:
        score, _, loss = char_scores(self.members[i](self.check_inputs), self.check)
        self._record(i, score, loss, loss_tolerance=1e-2, min_delta=self.min_delta)

    def on_train_end(self):
        for i, member in enumerate(self.members):
            if self.active[i]:
                self._check(i)
                if self.active[i]:
                    self.active[i], self.stop[i] = False, STOP_REASONS.index("cap")
            member.load_state_dict(self.best_state[i])
