"""Pruning rounds on a text encoder (``data=text search=state prune=lottery | random``): the sparsest encoder whose
state still carries L random characters.

The pattern task's rounds (memcap.patterns.prune) on the state measure. One job trains the width
``model.hidden`` at ``text.length`` (neither is searched) with every lr of ``search.lrs`` and ``runs`` seeds, on
the stream of fresh strings, then repeats: remove ``prune.rate`` of each network's remaining encoder weights,
rewind the survivors to their initialization, retrain.

- ``lottery`` (Frankle & Carbin 2019): the smallest trained weights go, ranked globally across all the
  encoder's weight matrices (as torch.nn.utils.prune.global_unstructured ranks a whole model).
- ``random``: the same rounds and so the same densities, weights chosen at random (seeded per network and
  round): the control the lottery claim is relative to.

The decoder stays dense: it is the measure's readout, the same at every density. Each network (an lr and a
seed) is pruned on its own trained weights, so a round's networks share a density, not a mask. Rewinding is
rebuilding: a network is built from its seed (memcap.text.state.measure.build), so every round starts from the same
initialization (``prune.rewind_step`` > 0 is the pattern task's only). A round meets the target when its best
network's held-out character accuracy reaches ``search.target``; the job stops after ``prune.rounds`` rounds, or
(``prune.target`` not null) after the first round that does not. Its answer is the sparsest round that met it,
with Fano's bits per nonzero encoder parameter.

The rounds' loop and resume are memcap.pruning's: after each round its points and record are saved, and the next
round's masks go to ``masks.<hash>.pt``; inside a round the fit is checkpointed as any other.
"""

from __future__ import annotations

import numpy as np
import torch

from memcap import pruning
from memcap.text.members import init_seed
from memcap.text.state import measure
from memcap.topology.masks import MemberwiseUnstructured, effective, mask_matrices, matrix_mask, weight_matrices

Masks = dict[tuple[str, str], torch.Tensor]  # (owner path, weight name) -> 0/1 mask


def next_masks(network, method: str, pruning: MemberwiseUnstructured, seed: int) -> Masks:
    """The encoder's masks after one more pruning step: ``pruning.amount`` of its kept weights removed."""
    encoder = network.encoder
    matrices = weight_matrices(encoder)
    current = [matrix_mask(encoder, m) for m in matrices]
    kept = torch.cat([mask.flatten() for mask in current])
    if method == "lottery":
        importance = torch.cat([effective(encoder.get_submodule(path), name).detach().abs().flatten()
                                for path, name in matrices])
    else:
        importance = torch.rand(len(kept), generator=torch.Generator().manual_seed(seed))
    pruned = pruning.compute_mask(importance[None], kept[None])[0].split([mask.numel() for mask in current])
    return {m: part.view_as(mask).clone() for m, part, mask in zip(matrices, pruned, current)}


def encoder_density(network) -> float:
    """Fraction of the encoder's weight-matrix entries its masks keep (1.0: dense)."""
    masks = [matrix_mask(network.encoder, m) for m in weight_matrices(network.encoder)]
    return sum(float(mask.sum()) for mask in masks) / sum(mask.numel() for mask in masks)


def prune_seed(cfg, run: int, round_index: int) -> int:
    """The random control's seed for network ``run`` (an lr and a seed run) before ``round_index``."""
    lr_index, seed_run = divmod(run, cfg.runs)
    return int(np.random.SeedSequence([init_seed(cfg.seed, seed_run, cfg.model.hidden), lr_index,
                                       round_index]).generate_state(1)[0])


def round_record(cfg, round_index: int, density: float, points: list[dict]) -> dict:
    """One round's line in metrics.rounds: its best network's numbers, and whether it met the target."""
    best = max(points, key=lambda p: (p["heldout_char"], p["heldout_exact"]))
    return {"round": round_index, "density": round(density, 6), "encoder_nonzero_params": best["encoder_nonzero_params"],
            "nonzero_params": best["nonzero_params"], "heldout_char": best["heldout_char"],
            "heldout_exact": best["heldout_exact"], "fano_bits": best["fano_bits"],
            "fano_bits_per_state": best["fano_bits_per_state"],
            "bits_per_nonzero_encoder_param": best["fano_bits"] / best["encoder_nonzero_params"],
            "lr": best["lr"], "score_runs": [p["heldout_char"] for p in sorted(points, key=lambda p: p["run"])],
            "converged": best["stop"] != "cap", "met_target": best["heldout_char"] >= cfg.search.target}


class TextRounds:
    """The text task's pruning rounds (memcap.pruning.Rounds): every lr and seed at model.hidden and text.length."""

    state_name = "masks"
    logged = ("round", "density", "encoder_nonzero_params", "heldout_char", "fano_bits")

    def __init__(self, job):
        cfg = self.cfg = job.cfg
        self.job, self.value = job, cfg.model.hidden
        self.pruning = MemberwiseUnstructured(cfg.prune.rate)
        self.masks: dict[int, Masks] = {}
        self.trained: dict[int, torch.nn.Module] = {}

    def train(self, round_index: int) -> tuple[list[dict], dict, list[float]]:
        cfg, self.trained = self.cfg, {}

        def prepare(network, run: int) -> None:
            if self.masks:
                mask_matrices(network.encoder, self.masks[run])
            self.trained[run] = network

        points = measure.train_round(cfg, self.job, cfg.model.hidden, prepare=prepare, record=False)
        record = round_record(cfg, round_index, encoder_density(next(iter(self.trained.values()))), points)
        return [{**p, "round": round_index, "density": record["density"]} for p in points], record, record["score_runs"]

    def next_state(self, round_index: int) -> dict:
        cfg = self.cfg
        self.masks = {run: next_masks(network, cfg.prune.name, self.pruning, prune_seed(cfg, run, round_index))
                      for run, network in self.trained.items()}
        return {"masks": {run: {f"{p}:{n}": t for (p, n), t in m.items()} for run, m in self.masks.items()}}

    def load_state(self, saved: dict) -> None:
        self.masks = {run: {tuple(key.split(":", 1)): t for key, t in m.items()} for run, m in saved["masks"].items()}

    def metrics(self, rounds: list[dict]) -> dict:
        return ticket_metrics(self.job, rounds)

    def summary(self, result: dict) -> str:
        return summary_line(result)


def run_rounds(job) -> str:
    """The pruning job's work (memcap.pruning.run_rounds with this task's rounds)."""
    return pruning.run_rounds(job, TextRounds(job))


def ticket_metrics(job, rounds: list[dict]) -> dict:
    """result.json metrics: the state measure's at the sparsest round that met the target (the first round if none
    did), and every round."""
    passing = [r for r in rounds if r["met_target"]]
    ticket = passing[-1] if passing else rounds[0]
    points = [p for p in job.result["points"] if p["round"] == ticket["round"]]
    top = max(points, key=lambda p: (p["heldout_char"], p["heldout_exact"]))
    hidden = job.cfg.model.hidden
    metrics = measure.metrics(job, "width", hidden if passing else None, False, hidden, None, top, points)
    return {**metrics, "measure": "state capacity, pruned", "ticket_round": ticket["round"] if passing else None,
            "ticket_density": ticket["density"], "rounds": rounds}


def summary_line(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    head = (f"memcap text {c['model']} prune={c['prune']} H={c['hidden']} L={c['length']} {c['alphabet']} "
            f"{c['encoding']} runs={c['runs']} seed={c['seed']}: {len(m['rounds'])} rounds")
    if m["ticket_round"] is None:
        return f"{head}, none reaches held-out char >= {c['target']} (dense: {m['heldout_char']:.3f})"
    conv = "converged" if m["converged"] else "NOT converged (its best network hit the step cap)"
    return (f"{head}, sparsest reaching held-out char >= {c['target']}: round {m['ticket_round']} (encoder density "
            f"{m['ticket_density']:.3f}, {m['encoder_nonzero_params']} nonzero encoder params): held-out char "
            f"{m['heldout_char']:.3f}, Fano >= {m['fano_bits']:.1f} bits, {m['bits_per_nonzero_encoder_param']:.4f} "
            f"bits/nonzero encoder param; {conv}")
