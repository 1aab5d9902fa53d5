"""Pruning rounds, written once for both tasks: train, record, prune, save; a killed job resumes at its next round.

A pruning job (``prune=lottery | random``) trains its networks at one fixed size, then repeats: remove
``prune.rate`` of each network's remaining weights, rewind the survivors, retrain. It stops after
``prune.rounds`` rounds, or (``prune.target`` not null) after the first round that misses the target; its answer
is the sparsest round that met it. What a round trains, how masks are computed and what the answer reports are
the task's (``memcap.patterns.prune``, ``memcap.text.state.prune``: a ``Rounds``); the loop, the log lines, the
resume protocol and the file that carries the next round's masks across a kill are here.

A round is the unit that survives a kill: after each one its points and record are saved in result.json, and
the next round's state (masks, rewind weights: plain tensors) goes to ``<name>.<hash>.pt``, written whole or
not at all, so a resumed job starts at the next round.
"""

from __future__ import annotations

from typing import Protocol

import torch

from memcap.results import replacing


class Rounds(Protocol):
    """What a task does in its pruning rounds."""

    state_name: str  # the state file's stem: <state_name>.<job hash>.pt
    value: int  # the fixed size the rounds train (DS, width): each round's log line names it
    logged: tuple[str, ...]  # a round record's keys logged as prune/<key> (W&B, CSV)

    def train(self, round_index: int) -> tuple[list[dict], dict, list]:
        """Train one round: (its points for result.json, its record with ``met_target``, each run's score)."""

    def next_state(self, round_index: int) -> dict:
        """Prune the networks just trained: what round ``round_index`` starts from (tensors only)."""

    def load_state(self, saved: dict) -> None:
        """Take up what ``next_state`` returned, read back by a resumed job."""

    def metrics(self, rounds: list[dict]) -> dict:
        """result.json's metrics once the rounds end: the sparsest round that met the target, and every round."""

    def summary(self, result: dict) -> str:
        """The job's summary line."""


def goes_on(cfg, record: dict) -> bool:
    """Whether the rounds continue after ``record``: it met the target, or there is none."""
    return bool(record["met_target"]) or cfg.prune.target is None


def run_rounds(job, rounds_of: Rounds) -> str:
    """The pruning job's work: rounds until ``prune.rounds`` or the target fails; returns the summary line."""
    cfg = job.cfg
    state = job.dir / f"{rounds_of.state_name}.{job.hash}.pt"
    rounds = resume(job, rounds_of, state)
    while len(rounds) <= cfg.prune.rounds and (not rounds or goes_on(cfg, rounds[-1])):
        round_index = len(rounds)
        job.set_phase(f"prune round {round_index}")
        points, record, scores = rounds_of.train(round_index)
        rounds.append(record)
        job.log_round({rounds_of.value: scores})
        job.result["points"] += points
        if job.logger:
            job.logger.log_metrics({f"prune/{key}": record[key] for key in rounds_of.logged},
                                   step=job.logged_steps)
        if goes_on(cfg, record) and round_index < cfg.prune.rounds:
            with replacing(state) as tmp:
                torch.save({"next_round": round_index + 1, **rounds_of.next_state(round_index + 1)}, tmp)
        job.result["metrics"] = {"rounds": rounds}
        job.save()
    state.unlink(missing_ok=True)
    job.result["metrics"] = rounds_of.metrics(rounds)
    return rounds_of.summary(job.result)


def resume(job, rounds_of: Rounds, state) -> list[dict]:
    """The rounds an earlier attempt recorded, with the next round's state loaded; none (and the attempt's points
    dropped) when they cannot be continued: the state file is missing, unreadable or of another round."""
    rounds = list(job.result["metrics"].get("rounds", []))
    if not rounds or len(rounds) > job.cfg.prune.rounds or not goes_on(job.cfg, rounds[-1]):
        return rounds  # none yet, or finished: the loop will not run again
    try:
        saved = torch.load(state, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError):
        saved = {"next_round": None}
    if saved["next_round"] != len(rounds):
        job.result["points"], job.result["metrics"] = [], {}
        return []
    rounds_of.load_state(saved)
    return rounds
