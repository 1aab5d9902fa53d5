"""The LightningModule that trains an ensemble of pattern networks.

One ``training_step`` advances every member by the optimizer steps up to the
next check (``steps_per_call``; Lightning's own work around a call cost as much as
a small network's step, 0.4-0.6 ms on a CPU core). Members
differ in data, dataset size (padded rows carry weight 0) and initialization,
and share nothing but the batched matmuls: Adam is elementwise, so one Adam over
the stacked parameters is exactly one Adam per member.

Every ``check_every`` steps the module counts memorized patterns per member on
the device; that check is the only host synchronisation. A member stops when it
has memorized every pattern, or when its memorized count has not improved for
``patience`` checks, nor for ``patience_fraction`` of its checks so far (a window
that grows with training: the recurrent network's count still climbs after 1000
quiet steps near capacity). (The count, not the loss: bce's loss falls for ever as the
weights grow, so a loss criterion kept members far above capacity training to
the step cap, and they dominated a capacity search's cost. Only until a member
memorizes its first pattern does a loss falling by 0.1% per check count as
progress.) A member that has memorized nothing by ``fail_fast_steps``
stops too (stop "nothing"): it is far above capacity, and the falling loss
that kept it going would otherwise keep it to the step cap. In a capacity search
(``must_exceed``: the search's threshold) a member stops "short" when even its
average rate so far (above its current rate: counts rise fastest early) would
not take its count above ``must_exceed`` of its DS by the step cap: it fails
the predicate of every phase (perfect recall needs more), so training it on
changes no decision, only its own count, which is then a lower bound. From then on its
gradient and Adam momentum are zero, so it no longer changes while the others go on, and at that check it
leaves the computation (``compact``): its weights, Adam state and data rows are dropped from the stacked
tensors, so the batched matmuls no longer compute it (in the report's Table 1 jobs, members that had
stopped took about a quarter of all FLOPs). Every per-member record (counts, stop reasons, best weights)
stays full-size, indexed by the members' places in the group; ``live`` lists the places still computed.
Each member keeps the weights of its best check (most patterns memorized), the analogue of the
report's "best epoch"; after the fit the network holds them for every member again.

The recurrent network (``plateau_before_first_pattern=False``) has a loss that
stays flat until it takes off (N=100, 3 steps, DS=1190: nothing memorized at
1500 steps, 1140.7 on average by 6000: results/recurrent_slow_start): no loss rule can tell a slow starter
from a member that will never start, so before its first pattern only
``fail_fast_steps`` (the model's: 5000 there) stops it.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
from torch.nn.utils import prune
from torch.utils.data import DataLoader

from memcap.fitting import adam
from memcap.patterns.losses import ensemble_loss
from memcap.patterns.metrics import memorized

STOP_REASONS = ("running", "memorized", "plateau", "cap", "diverged", "nothing", "short")


class EnsembleModule(pl.LightningModule):
    def __init__(
        self,
        model: torch.nn.Module,
        X: torch.Tensor,
        Y: torch.Tensor,
        weight: torch.Tensor,
        *,
        loss: str,
        bti: int,
        lr: float,
        max_steps: int,
        check_every: int,
        patience: int,
        patience_fraction: float = 0.0,
        plateau_before_first_pattern: bool = True,
        schedule: str = "constant",
        margin: float,
        tau: float,
        batch_size: int | None = None,
        batch_seeds: list[int] | None = None,
        step_offset: int = 0,
        warmup: str | None = None,
        warmup_steps: int = 0,
        milestones: tuple[int, ...] = (),
        fail_fast_steps: int | None = None,
        must_exceed: float | None = None,
        steps_per_call: int | None = None,
        compact: bool = True,
    ):
        super().__init__()
        self.automatic_optimization = False
        self.model = model
        self.loss_name, self.bti, self.margin, self.tau, self.lr = loss, bti, margin, tau, lr
        # A loss schedule: ``warmup`` for the first ``warmup_steps`` steps, then ``loss`` (the criterion's).
        self.warmup, self.warmup_steps = warmup, warmup_steps if warmup else 0
        self.max_steps, self.check_every, self.patience, self.schedule = max_steps, check_every, patience, schedule
        self.patience_fraction, self.plateau_before_first_pattern = patience_fraction, plateau_before_first_pattern
        self.batch_size, self.step_offset = batch_size, step_offset
        self.fail_fast_steps, self.must_exceed = fail_fast_steps, must_exceed
        # One call runs from one check to the next: the steps are the same, Lightning's per-call work is not.
        self.steps_per_call = steps_per_call or check_every
        # A masked network (model.density, pruning) keeps all its members: its masks are not dropped with them
        # (and memcap.patterns.engine keeps them in every pruning round: its rewind snapshot reads them by place).
        self.compact = compact and not prune.is_pruned(model)
        self.optimizer = self.scheduler = None  # looked up in on_fit_start
        self._leaving = None  # set by a check where members stopped: who stays (``_keep``)
        # Mini-batches come from one generator per member, so a member draws the
        # same batches whichever ensemble it is trained in.
        self.batch_generators = [torch.Generator().manual_seed(int(s)) for s in (batch_seeds or [])]
        members = X.shape[0]
        # The data is rebuilt from the members' seeds (memcap.patterns.engine), so checkpoints leave it out.
        self.register_buffer("X", X, persistent=False)
        self.register_buffer("Y", Y, persistent=False)
        self.register_buffer("weight", weight, persistent=False)
        self.register_buffer("ds", weight.sum(-1).long())
        self.register_buffer("active", torch.ones(members, dtype=torch.bool))
        self.register_buffer("best_count", torch.full((members,), -1, dtype=torch.long))
        self.register_buffer("best_loss", torch.full((members,), math.inf))
        self.register_buffer("last_loss", torch.full((members,), math.inf))
        self.register_buffer("stale", torch.zeros(members, dtype=torch.long))
        self.register_buffer("steps_trained", torch.zeros(members, dtype=torch.long))
        self.register_buffer("stop", torch.zeros(members, dtype=torch.long))
        self.register_buffer("live", torch.arange(members))  # the members still in the computation
        self.best_state = {name: p.detach().clone() for name, p in model.named_parameters()}
        # The best count at each of these steps (multiples of check_every): the recipe studies' budgets.
        self.milestones = tuple(sorted(milestones))
        for step in self.milestones:
            self.register_buffer(f"best_at_{step}", torch.full((members,), -1, dtype=torch.long))

    # -- Lightning plumbing -------------------------------------------------
    def train_dataloader(self):
        # The data lives on the module (full batch); the loader only counts steps.
        return DataLoader(range(self.max_steps), batch_size=None)

    def configure_optimizers(self):
        return adam(self.model.parameters(), self.lr, self.schedule, self.max_steps)

    def on_fit_start(self):
        for name, tensor in self.best_state.items():
            self.best_state[name] = tensor.to(self.device)
        self._live_changed()
        # Looked up once: Lightning's accessors cost more than a tiny model's step.
        self.optimizer, self.scheduler = self.optimizers(), self.lr_schedulers()

    # -- mid-round checkpoints (memcap.fitting.MidRoundCheckpoint) -------------
    # The buffers (counters, active, best counts) and the optimizer are in Lightning's
    # checkpoint already; the best weights and the mini-batch generators are added here.
    # The data (X, Y, weight) is not saved (it is rebuilt from the seeds); a checkpoint of an earlier
    # version holds it, unpadded: it is dropped on loading, and the fit goes on with this module's data.
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["best_state"] = {name: t.cpu() for name, t in self.best_state.items()}
        checkpoint["batch_generators"] = [g.get_state() for g in self.batch_generators]

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        for name in ("X", "Y", "weight"):
            checkpoint["state_dict"].pop(name, None)
        live = checkpoint["state_dict"].setdefault("live", self.live.clone())  # older checkpoints: all live
        if len(live) < len(self.live):  # saved after members left: the same shapes before the weights load
            self._keep(torch.isin(self.live, live.to(self.live.device)))
        self.best_state = dict(checkpoint["best_state"])
        for generator, state in zip(self.batch_generators, checkpoint["batch_generators"]):
            generator.set_state(state)

    def progress(self) -> str:
        """For the progress lines: members still training, and the best count so far per DS."""
        best: dict[int, int] = {}
        for ds, count in zip(self.ds.tolist(), self.best_count.tolist()):
            best[ds] = max(best.get(ds, -1), count)
        return (f"{int(self.active.sum())}/{len(self.active)} members training, best memorized "
                + ", ".join(f"{count}/{ds}" for ds, count in sorted(best.items())))

    # -- one step -------------------------------------------------------------
    def _minibatch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.stack(
            [torch.randint(0, n, (self.batch_size,), generator=g) for n, g in zip(self._ds_list, self._generators)]
        )
        idx = idx.to(self.device)
        rows = torch.arange(idx.shape[0], device=self.device).unsqueeze(1)
        return self.X[rows, idx], self.Y[rows, idx], torch.ones_like(idx, dtype=self.X.dtype)

    def _losses(self, logits, Y, weight) -> torch.Tensor:
        name = self.warmup if self.global_step < self.warmup_steps else self.loss_name
        return ensemble_loss(name, logits, Y, weight, self.bti, self.margin, self.tau)

    def best_at(self, step: int) -> torch.Tensor:
        """Each member's best count by ``step`` (a milestone), or at its end if it stopped before."""
        return getattr(self, f"best_at_{step}")

    def training_step(self, batch, batch_idx):
        """Optimizer steps up to the next multiple of ``steps_per_call`` (a resumed fit may start between two),
        fewer at the step cap, none after every member stopped (``_check`` then asks Lightning to stop)."""
        for _ in range(min(self.steps_per_call - self.global_step % self.steps_per_call,
                           self.max_steps - self.global_step)):
            self._step()
            if self.trainer.should_stop:
                return

    def _step(self) -> None:
        """One optimizer step of every member, after a check when the step is a multiple of ``check_every``."""
        optimizer = self.optimizer
        full_batch = self.batch_size is None
        X, Y, weight = (self.X, self.Y, self.weight) if full_batch else self._minibatch()
        logits = self.model(X)
        losses = self._losses(logits, Y, weight)
        if self.global_step == self.warmup_steps > 0:
            self.best_loss.fill_(math.inf)  # another loss from here: its values do not compare with the warm-up's
        if self.global_step % self.check_every == 0:
            with torch.no_grad():
                if not full_batch:
                    logits = self.model(self.X)
                    losses_full = self._losses(logits, self.Y, self.weight)
                else:
                    losses_full = losses.detach()
                self._check(logits.detach(), losses_full)
        optimizer.zero_grad(set_to_none=False)
        self.manual_backward(losses.sum())
        self._freeze_finished(optimizer)
        optimizer.step()
        self.steps_trained.add_(self.active)
        if self.scheduler is not None:
            self.scheduler.step()
        if self._leaving is not None:
            self._keep(self._leaving)
            self._leaving = None

    def _check(self, logits: torch.Tensor, losses: torch.Tensor) -> None:
        """Count, keep the best weights, decide who stops (on the live members' ``logits`` and ``losses``)."""
        everyone = len(self.live) == len(self.active)
        count = (memorized(torch.sigmoid(logits), self.Y, self.bti) & (self.weight > 0)).sum(-1)
        if not everyone:  # the members that left are not active: their entries below change nothing
            count = self.best_count.index_copy(0, self.live, count)
            losses = self.last_loss.index_copy(0, self.live, losses)
        improved = self.active & (count > self.best_count)
        for name, p in self.model.named_parameters():
            shape = (-1,) + (1,) * (p.dim() - 1)
            weights = p.detach() if everyone else self.best_state[name].index_copy(0, self.live, p.detach())
            self.best_state[name] = torch.where(improved.view(shape), weights, self.best_state[name])
        # Before its first memorized pattern a member's count carries no signal (at a small lr
        # it can stay 0 for thousands of steps and then take off), so its loss decides then.
        better_loss = (self.best_count <= 0) & (losses < self.best_loss * (1 - 1e-3))
        self.best_count = torch.where(improved, count, self.best_count)
        self.best_loss = torch.where(self.active & better_loss, losses, self.best_loss)
        self.last_loss = torch.where(self.active, losses, self.last_loss)
        self.stale = torch.where(improved | better_loss, 0, self.stale + 1)
        done_memorized = self.active & (count >= self.ds)
        # A plateau: no new best in ``patience`` checks, nor in ``patience_fraction`` of the checks so far
        # (a recurrent member near capacity can sit 1000 steps on one count and then still climb).
        window = max(self.patience, self.patience_fraction * self.global_step / self.check_every)
        done_plateau = self.active & ~done_memorized & (self.stale >= window)
        if not self.plateau_before_first_pattern:  # the recurrent network's loss is flat until it takes off
            done_plateau = done_plateau & (self.best_count > 0)
        # Fail fast: no pattern by fail_fast_steps ends a member (far above capacity; see the docstring).
        nothing = torch.zeros_like(done_plateau)
        if self.fail_fast_steps is not None and self.global_step >= self.fail_fast_steps:
            nothing = self.active & ~done_memorized & (self.best_count <= 0)
        # Short: from fail_fast_steps on, a member whose count, growing on at its average rate so far, would
        # still not exceed must_exceed x DS by the step cap stops; it fails its round's predicate either way.
        short = torch.zeros_like(done_plateau)
        if self.must_exceed is not None and self.global_step >= (self.fail_fast_steps or 0):
            count_so_far = self.best_count.clamp_min(0)
            reach = count_so_far + count_so_far * (self.max_steps - self.global_step) / max(self.global_step, 1)
            started = self.best_count > 0  # before its first pattern only "nothing" ends a member (with fail_fast_steps)
            short = self.active & started & ~done_memorized & ~done_plateau & (reach <= self.must_exceed * self.ds)
        # A NaN or infinite loss ends the member; it keeps its best check's count and weights.
        diverged = self.active & ~torch.isfinite(losses)
        self.stop = torch.where(diverged, 4, torch.where(done_memorized, 1, torch.where(
            done_plateau, 2, torch.where(nothing, 5, torch.where(short, 6, self.stop)))))
        for step in self.milestones:
            if self.global_step <= step:
                self.best_at(step).copy_(self.best_count)
        self.active = self.active & ~done_memorized & ~done_plateau & ~diverged & ~nothing & ~short
        if self.logger is not None:
            fraction = (self.best_count.clamp_min(0) / self.ds).mean()
            self.logger.log_metrics(
                {"train/loss": losses.mean().item(), "train/memorized_fraction": fraction.item(),
                 "train/active_members": int(self.active.sum())},
                step=self.step_offset + self.global_step,
            )
        training = self.active[self.live]
        active = int(training.sum())  # the one host sync per check
        if active == 0:
            self.trainer.should_stop = True
        self._all_active = active == len(self.live)
        # Members that stopped leave after this step (its graph holds them): see _step.
        self._leaving = None if self._all_active or active == 0 or not self.compact else training

    def _keep(self, keep: torch.Tensor) -> None:
        """Only the live members where ``keep`` is true stay in the computation: their rows of the weights (and
        gradients), Adam's moments and the data; the full-size records are untouched. A batched matmul computes
        each member on its own, so the members that stay compute the same numbers as before."""
        index = keep.nonzero().squeeze(1)
        self.live = self.live[index]
        for p in self.model.parameters():
            p.data = p.data[index]
            if p.grad is not None:
                p.grad = p.grad[index]
            state = self.optimizer.optimizer.state.get(p, {}) if self.optimizer is not None else {}  # None: loading
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state:
                    state[key] = state[key][index]
        self.X, self.Y, self.weight = self.X[index], self.Y[index], self.weight[index]
        self._live_changed()

    def _live_changed(self) -> None:
        # Looked up once per change of the live members, not per step.
        live = self.live.tolist()
        self._ds_list = self.ds[self.live].tolist()
        self._generators = [self.batch_generators[i] for i in live] if self.batch_generators else []
        self._all_active = bool(self.active[self.live].all())  # False when resumed with members done

    def _freeze_finished(self, optimizer) -> None:
        """Zero the gradient (and so, with zero Adam momentum, the update) of finished members."""
        if self._all_active:
            return
        training = self.active[self.live]
        for p in self.model.parameters():
            keep = training.view((-1,) + (1,) * (p.dim() - 1))
            # where, not a product: a diverged member's NaN times 0 would still be NaN.
            p.grad.copy_(torch.where(keep, p.grad, 0.0))
            state = optimizer.optimizer.state.get(p)
            if state and "exp_avg" in state:
                state["exp_avg"].copy_(torch.where(keep, state["exp_avg"], 0.0))

    def on_train_end(self):
        """Final check on the last weights of members that ran to the step cap."""
        with torch.no_grad():
            logits = self.model(self.X)
            was_active = self.active.clone()
            self._check(logits, self._losses(logits, self.Y, self.weight))
            ran_out = was_active & ((self.stop == 0) | (self.stop == 2))  # neither memorized nor diverged
            self.stop = torch.where(ran_out, 3, self.stop)
            for name, p in self.model.named_parameters():  # every member again, each at its best check
                p.data = self.best_state[name].clone()
