"""Pruning rounds (``prune=lottery`` | ``random``): how much a network memorizes per nonzero weight.

With a fixed ``DS``, one job trains the ``runs`` members at it, then repeats: remove
``prune.rate`` of each member's remaining weights, rewind the survivors, retrain
(the rounds' loop and resume: memcap.pruning). Without one, the capacity search
runs the whole procedure at every DS it tries (``pruned_evaluate``): the capacity
of the pruned network, at the density ``prune.rounds`` rounds leave.

- ``lottery`` (Frankle & Carbin 2019): the smallest trained weights go, ranked
  globally across the member's W and R, and the survivors restart from their
  initial values (or from the weights after ``prune.rewind_step`` steps of the
  first training): the winning ticket.
- ``random``: the same rounds and so the same densities, weights chosen at
  random (seeded per member): the control the lottery claim is relative to.

Each member is its own network, so masks are computed per member (one
``MemberwiseUnstructured`` over the member's concatenated weights, as
torch.nn.utils.prune.global_unstructured does for a whole model) and applied
with ``prune.custom_from_mask``: W = W_orig * W_mask, so pruned weights get
zero gradient and stay zero (memcap.topology.masks). The job stops after
``prune.rounds`` rounds or after the first round in which no run memorizes
``prune.target`` of DS; its answer is the sparsest round that still met the
target, with its bits per nonzero parameter.
"""

from __future__ import annotations

import numpy as np
import torch

from memcap import pruning
from memcap.patterns.config import criterion_bti
from memcap.patterns.engine import member_seeds, train_members
from memcap.patterns.models import PatternEnsemble
from memcap.patterns.report import capacity_metrics, network_name
from memcap.topology.masks import MemberwiseUnstructured, apply_masks, effective, mask_of, parameter

Member = tuple[int, int]  # (DS, run)


class Tickets:
    """Each member's mask and rewind weights across rounds; ``prepare`` is ensemble.build_module's hook.

    Round 0 trains the network as built (``model.density`` may already mask it)
    and snapshots its weights after ``rewind_step`` optimizer steps; every later
    round builds the same members again, applies their masks and restores the
    snapshot. The networks of the current round are kept to be pruned after it.
    """

    def __init__(self, method: str, rate: float, rewind_step: int):
        self.method, self.pruning, self.rewind_step = method, MemberwiseUnstructured(rate), rewind_step
        self.masks: dict[Member, dict[str, torch.Tensor]] = {}  # (DS, run) -> weight name -> mask (N, N)
        self.rewind: dict[Member, dict[str, torch.Tensor]] = {}  # (DS, run) -> parameter name (W, b, R) -> values
        self.trained: list[tuple[PatternEnsemble, list[Member]]] = []

    def prepare(self, network: PatternEnsemble, members: list[Member]) -> None:
        if self.masks:
            apply_masks(network, {name: torch.stack([self.masks[member][name] for member in members])
                                  for name in network.weight_names})
            with torch.no_grad():
                for name in self.rewind[members[0]]:
                    parameter(network, name).copy_(torch.stack([self.rewind[member][name] for member in members]))
        else:
            self._snapshot_at_rewind_step(network, members)
        self.trained.append((network, members))

    def _snapshot_at_rewind_step(self, network: PatternEnsemble, members: list[Member]) -> None:
        """Record the weights as they are before optimizer step ``rewind_step`` + 1 (after ``rewind_step`` steps).

        The bias gets one gradient per optimizer step; when its (rewind_step + 1)-th
        arrives, the weights have been updated exactly rewind_step times.
        """
        names = ("b", *network.weight_names)
        backward_passes = 0

        def snapshot(_):
            nonlocal backward_passes
            backward_passes += 1
            if backward_passes == self.rewind_step + 1:
                for i, member in enumerate(members):
                    self.rewind[member] = {name: parameter(network, name)[i].detach().clone() for name in names}

        network.b.register_post_accumulate_grad_hook(snapshot)

    def prune_trained(self, seeds: dict[Member, int], round_index: int) -> None:
        """Compute every trained member's next mask; a run that stopped before the rewind step rewinds to its end."""
        for network, members in self.trained:
            names = network.weight_names
            current = torch.cat([mask_of(network, name, network.allowed(name)).flatten(1) for name in names], 1)
            if self.method == "lottery":
                importance = torch.cat([effective(network, name).detach().abs().flatten(1) for name in names], 1)
            else:
                importance = torch.stack([
                    torch.rand(current.shape[1], generator=torch.Generator().manual_seed(
                        int(np.random.SeedSequence([seeds[member], round_index]).generate_state(1)[0])))
                    for member in members])
            masks = self.pruning.compute_mask(importance.to(current.device), current).split(
                [network.allowed(name).numel() for name in names], dim=1)
            for i, member in enumerate(members):
                self.masks[member] = {name: mask[i].view(network.N, network.N).cpu()
                                      for name, mask in zip(names, masks)}
                self.rewind.setdefault(member, {name: parameter(network, name)[i].detach().clone()
                                                for name in ("b", *names)})
        self.trained = []


def weight_density(network: PatternEnsemble) -> float:
    """Fraction of one member's possible weights (W, and R off its diagonal) that its masks keep."""
    kept = network.num_parameters() - network.N
    possible = sum(int(network.allowed(name).sum()) for name in network.weight_names)
    return kept / possible


class PatternRounds:
    """The pattern task's pruning rounds (memcap.pruning.Rounds): the ``runs`` members at the fixed DS."""

    state_name = "tickets"
    logged = ("round", "density", "params", "memorized_max", "memorized_mean", "accuracy")

    def __init__(self, job):
        cfg = self.cfg = job.cfg
        self.job, self.value = job, cfg.DS
        self.tickets = Tickets(cfg.prune.name, cfg.prune.rate, cfg.prune.rewind_step)
        self.members = [(cfg.DS, run) for run in range(cfg.runs)]
        self.seeds = {(DS, run): member_seeds(cfg, run, DS)[1] for DS, run in self.members}

    def train(self, round_index: int) -> tuple[list[dict], dict, list[int]]:
        cfg = self.cfg
        # Round 0 snapshots the rewind weights during its fit: it is not resumed mid-fit.
        points = [p.model_dump() for p in train_members(cfg, self.members, self.job, prepare=self.tickets.prepare,
                                                        record=False, checkpoint=round_index > 0)]
        network = self.tickets.trained[0][0]
        runs = [p["memorized"] for p in sorted(points, key=lambda p: p["run"])]
        record = {"round": round_index, "density": round(weight_density(network), 6),
                  **capacity_metrics(cfg.N, cfg.s, network.num_parameters(), cfg.DS,
                                     cfg.DS if max(runs) == cfg.DS else None, runs, bti=criterion_bti(cfg))}
        record["met_target"] = cfg.prune.target is None or max(runs) / cfg.DS >= cfg.prune.target
        points = [{**p, "round": round_index, "density": record["density"], "params": record["params"]}
                  for p in points]
        return points, record, runs

    def next_state(self, round_index: int) -> dict:
        self.tickets.prune_trained(self.seeds, round_index)
        return {"masks": self.tickets.masks, "rewind": self.tickets.rewind}

    def load_state(self, saved: dict) -> None:
        # keyed by (DS, run); a state saved when they were keyed by run alone is read as this job's DS
        self.tickets.masks, self.tickets.rewind = ({key if isinstance(key, tuple) else (self.value, key): value
                                                    for key, value in saved[part].items()}
                                                   for part in ("masks", "rewind"))

    def metrics(self, rounds: list[dict]) -> dict:
        return ticket_metrics(rounds)

    def summary(self, result: dict) -> str:
        return summary_line(result)


def kept_after(remaining: int, rate: float, rounds: int) -> int:
    """The weights a member keeps after ``rounds`` rounds that each remove round(rate * remaining) of them (as
    MemberwiseUnstructured does): the nonzero count of every pruned network of a job, known before any training."""
    for _ in range(rounds):
        remaining -= round(rate * remaining)
    return remaining


def pruned_evaluate(job, must_exceed: float | None):
    """The capacity search's ``evaluate`` for a pruned network (``prune=lottery|random`` with ``DS`` null).

    A searched DS's point for a run is that run's network after the whole procedure on its own dataset: trained
    dense, then ``prune.rounds`` times pruned by ``prune.rate`` (lottery: smallest trained weights; random: the
    control) and retrained from the rewind point; the last round's count is the point (``prune.target`` is not
    used). Only the last round's points are recorded: a job killed inside a DS's rounds runs them again, and
    only the last round may stop short (``must_exceed``), since a cut round would change the next mask."""
    cfg = job.cfg

    def evaluate(ds_values: list[int]) -> dict[int, list[int]]:
        members = [(ds, run) for ds in ds_values for run in range(cfg.runs)]
        todo = [member for member in members if member not in job.recorded_points()]
        if todo:
            tickets = Tickets(cfg.prune.name, cfg.prune.rate, cfg.prune.rewind_step)
            seeds = {(ds, run): member_seeds(cfg, run, ds)[1] for ds, run in todo}
            for round_index in range(cfg.prune.rounds + 1):
                last = round_index == cfg.prune.rounds
                if round_index:
                    tickets.prune_trained(seeds, round_index)
                train_members(cfg, todo, job, prepare=tickets.prepare, record=last, checkpoint=False,
                              must_exceed=must_exceed if last else None)
        recorded = job.recorded_points()
        scores = {ds: [recorded[ds, run]["memorized"] for run in range(cfg.runs)] for ds in ds_values}
        job.log_round(scores)
        return scores

    return evaluate


def run_rounds(job) -> str:
    """The pruning job's work (memcap.pruning.run_rounds with this task's rounds)."""
    return pruning.run_rounds(job, PatternRounds(job))


def ticket_metrics(rounds: list[dict]) -> dict:
    """result.json metrics: the sparsest round that met the target (the first round if none did), and every round."""
    passing = [r for r in rounds if r["met_target"]]
    ticket = passing[-1] if passing else rounds[0]
    metrics = {k: v for k, v in ticket.items() if k not in ("round", "density", "met_target")}
    return {**metrics, "capped": False, "ticket_round": ticket["round"] if passing else None,
            "ticket_density": ticket["density"], "rounds": rounds}


def summary_line(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    found = (f"ticket (sparsest round meeting prune.target): round {m['ticket_round']} (density {m['ticket_density']:.3f}, "
             f"{m['params']} nonzero params, memorized max {m['memorized_max']} of {c['DS']}, "
             f"{m['bits_per_param']:.3f} bits/param)" if m["ticket_round"] is not None
             else f"no round met the target (dense: memorized max {m['memorized_max']} of {c['DS']})")
    return (f"memcap {network_name(c)} prune={c['prune']} N={c['N']} DS={c['DS']} runs={c['runs']} "
            f"seed={c['seed']}: {len(m['rounds'])} rounds, {found}")
