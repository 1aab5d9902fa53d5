"""The LightningModule that trains text autoencoders (members) side by side on the same sequences.

Members differ in width H and initialization and share nothing: each step sums
the members' losses, so each gets exactly its own gradient, and one Adam over
all parameters is one Adam per member (it is elementwise). A member that has
finished is left out of the loss; its gradients stay None, so Adam skips it and
it no longer changes while the others go on. Training several members in one
fit saves the Trainer's start-up and per-step overhead, which dominates for
networks this small.

Every ``check_every`` steps each member's reconstruction of all training
sequences is scored (character or exact-sequence accuracy). A member stops when
its score reaches ``target``, or when neither its score nor its loss improved
for ``patience`` checks; it keeps the weights of its best check, as the
pattern task keeps its best epoch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import cross_entropy

from memcap.fitting import adam
from memcap.text.members import STOP_REASONS, MembersModule


def accuracies(logits: torch.Tensor, codes: torch.Tensor) -> dict[str, float]:
    """Character accuracy (fraction of positions right) and exact accuracy (fraction of sequences all right)."""
    right = logits.argmax(-1) == codes
    return {"char": right.float().mean().item(), "exact": right.all(-1).float().mean().item()}


def reconstruction_loss(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the 256-way choice at every position."""
    return cross_entropy(logits.flatten(0, 1), codes.flatten())


class TextMemoryModule(MembersModule):
    def __init__(
        self,
        members: list[nn.Module],
        inputs: torch.Tensor,
        codes: torch.Tensor,
        *,
        metric: str,
        target: float,
        lr: float,
        max_steps: int,
        check_every: int,
        patience: int,
        schedule: str = "constant",
        batch_size: int | None = None,
        batch_seed: int = 0,
        step_offset: int = 0,
    ):
        super().__init__(members, max_steps, step_offset)
        self.register_buffer("inputs", inputs)
        self.register_buffer("codes", codes)
        self.metric, self.target, self.lr = metric, target, lr
        self.check_every, self.patience, self.schedule = check_every, patience, schedule
        # One generator for all members: the k-th minibatch is the same whoever else trains alongside.
        self.batch_size, self.batch_generator = batch_size, torch.Generator().manual_seed(batch_seed)

    # -- Lightning plumbing -------------------------------------------------

    def configure_optimizers(self):
        return adam(self.members.parameters(), self.lr, self.schedule, self.max_steps, foreach=True)

    def on_fit_start(self):
        self.optimizer, self.scheduler = self.optimizers(), self.lr_schedulers()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["batch_generator"] = self.batch_generator.get_state()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self.batch_generator.set_state(checkpoint["batch_generator"])

    def progress(self) -> str:
        """For the progress lines: members still training, and the best score so far."""
        return f"{sum(self.active)}/{len(self.active)} members training, best score {max(self.best_score):.3f}"

    # -- one step -------------------------------------------------------------
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.batch_size is None:
            return self.inputs, self.codes
        rows = torch.randint(0, len(self.codes), (self.batch_size,), generator=self.batch_generator).to(self.device)
        return self.inputs[rows], self.codes[rows]

    def training_step(self, batch, batch_idx):
        inputs, codes = self._batch()
        check = self.global_step % self.check_every == 0

        def on_check(i: int, logits: torch.Tensor, loss: torch.Tensor) -> None:
            with torch.no_grad():
                if self.batch_size is None:
                    self._check(i, logits, loss)
                else:  # a minibatch step: score the member on every sequence
                    logits = self.members[i](self.inputs)
                    self._check(i, logits, reconstruction_loss(logits, self.codes))

        self._step_members(inputs, lambda logits: reconstruction_loss(logits, codes), on_check if check else None)
        if self.scheduler is not None:
            self.scheduler.step()
        if check and self.logger is not None:
            self.logger.log_metrics(
                {"train/loss": sum(self.last_loss) / len(self.last_loss),
                 "train/best_score": sum(self.best_score) / len(self.best_score),
                 "train/active_members": sum(self.active)},
                step=self.step_offset + self.global_step,
            )
        if not any(self.active):
            self.trainer.should_stop = True

    def _check(self, i: int, logits: torch.Tensor, loss: torch.Tensor) -> None:
        self._record(i, accuracies(logits, self.codes)[self.metric], loss.item(), loss_tolerance=1e-4)

    def on_train_end(self):
        """Score the last weights of members that ran to the step cap, then restore every member's best."""
        with torch.no_grad():
            for i, member in enumerate(self.members):
                if self.active[i]:
                    logits = member(self.inputs)
                    self._check(i, logits, reconstruction_loss(logits, self.codes))
                    if self.active[i]:
                        self.active[i], self.stop[i] = False, STOP_REASONS.index("cap")
                member.load_state_dict(self.best_state[i])
