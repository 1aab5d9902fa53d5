"""Train text autoencoders of given widths side by side: one fit per group of (H, run) members.

Every width and run sees the same sequences (drawn from the job's seed), so
the points form an accuracy-vs-H curve; each member's initialization comes
from its own seed, so a member's result does not depend on its companions.
"""

from __future__ import annotations

import torch

from memcap.config import learning_rate
from memcap.fitting import Fit, run_fit
from memcap.text.config import step_cap
from memcap.text.data import INPUT_SIZE, TextData, encode
from memcap.text.members import STOP_REASONS, init_seed
from memcap.text.models import Shape, TextAutoencoder, build_autoencoder, num_parameters
from memcap.text.schema import Point
from memcap.text.separability.module import TextMemoryModule, accuracies


def goal(cfg) -> tuple[str, float]:
    """(metric, target) a network trains for: the search's; search=fixed trains to exact recall of every sequence."""
    if cfg.search.name == "fixed":
        return "exact", 1.0
    return cfg.search.metric, cfg.search.target


def build_member(cfg, hidden: int, run: int) -> TextAutoencoder:
    shape = Shape(INPUT_SIZE[cfg.text.encoding], cfg.text.length, hidden, cfg.model.layers, cfg.model.heads)
    with torch.random.fork_rng():
        torch.manual_seed(init_seed(cfg.seed, run, hidden))
        return build_autoencoder(cfg.model, shape)


def train_widths(cfg, text: TextData, widths: list[int], job=None) -> list[Point]:
    """Train ``runs`` networks of every width in ``widths`` on the training sequences (one fit); one point each.

    Inside a ``job`` (memcap.lifecycle.Job) the fit's points are saved at once, a
    recorded fit is not trained again and a long fit is checkpointed.
    """
    members = [(hidden, run) for hidden in widths for run in range(cfg.runs)]
    max_steps = step_cap(cfg)

    def fit_group(group: list[tuple[int, int]], fit: Fit) -> list[dict]:
        networks = [build_member(cfg, hidden, run) for hidden, run in group]
        metric, target = goal(cfg)
        trainer_cfg = cfg.trainer
        module = TextMemoryModule(
            networks, encode(text.train, cfg.text.encoding), text.train, metric=metric, target=target,
            lr=learning_rate(cfg), max_steps=max_steps, check_every=trainer_cfg.check_every,
            patience=trainer_cfg.patience, schedule=trainer_cfg.schedule, batch_size=trainer_cfg.batch_size,
            batch_seed=cfg.seed, step_offset=fit.step_offset,
        )
        seconds = round(run_fit(trainer_cfg, module, fit, max_steps), 3)
        points = []
        for i, ((hidden, run), network) in enumerate(zip(group, networks)):
            train = reconstruct(network, text.train, cfg.text.encoding)
            heldout = reconstruct(network, text.heldout, cfg.text.encoding)
            points.append(Point(
                hidden=hidden, run=run, state_size=network.encoder.state_size, params=num_parameters(network),
                encoder_params=num_parameters(network.encoder), train_char=train["char"], train_exact=train["exact"],
                heldout_char=heldout["char"], heldout_exact=heldout["exact"],
                bits=train["char"] * text.train.numel() * text.bits_per_char, loss=module.last_loss[i],
                steps=module.steps_trained[i], seconds=seconds, members=len(group), stop=STOP_REASONS[module.stop[i]],
            ).model_dump())
        return points

    points = fit_group(members, Fit()) if job is None else job.run_groups([members], fit_group, max_steps=max_steps)
    return [Point.model_validate(p) for p in points]


@torch.no_grad()
def reconstruct(network: TextAutoencoder, codes: torch.Tensor, encoding: str) -> dict[str, float]:
    """Character and exact-sequence accuracy of ``network`` reconstructing ``codes``."""
    device = next(network.parameters()).device
    codes = codes.to(device)
    return accuracies(network(encode(codes, encoding)), codes)


