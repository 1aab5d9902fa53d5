"""One text-memory job (issue 5), top to bottom: validate, draw the text, search H, record, summarize.

    validate_text(cfg); text = make_text(cfg.text, cfg.seed)
    previous_attempt(result.json)  # a complete job is skipped; recorded (H, run) points are reused
    for each search round:  train_widths(...) -> points -> result.json (atomic), W&B
    metrics at the smallest H that reaches the target -> result.json, W&B summary, one line on stdout

The text counterpart of memcap.patterns.job.run: the same result.json top-level keys
(status, error, config, metrics, points, versions, wall_time), what they hold
here is in docs/text.md. Every width and run sees the same sequences (drawn
from the top-level seed), so the points form an accuracy-vs-H curve.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from memcap.config import learning_rate
from memcap.loggers import build_logger, quiet_libraries
from memcap.results import RESULT_FILE, new_result, previous_attempt, recorded, search_round
from memcap.search import neuron_search
from memcap.text.config import hidden_grid, step_cap, validate_text
from memcap.text.data import INPUT_SIZE, TextData, encode, make_text
from memcap.text.models import Shape, TextAutoencoder, build_autoencoder, num_parameters
from memcap.text.module import STOP_REASONS, TextMemoryModule, accuracies


@dataclass
class TextPoint:
    """One trained (H, run): the schema of result.json's ``points`` for data=text."""

    hidden: int
    run: int
    state_size: int  # numbers the decoder reads (LSTM: h and c, 2H)
    params: int  # encoder + decoder
    encoder_params: int
    train_char: float
    train_exact: float
    heldout_char: float
    heldout_exact: float
    bits: float  # bits reconstructed: correct training characters x bits per character
    loss: float
    steps: int
    seconds: float  # wall time of the fit that trained this member
    members: int  # networks in that fit
    stop: str  # target | plateau | cap

    def as_dict(self) -> dict:
        return asdict(self)


def goal(cfg) -> tuple[str, float]:
    """(metric, target) a network trains for: the search's; search=fixed trains to exact recall of every sequence."""
    if cfg.search.name == "fixed":
        return "exact", 1.0
    return cfg.search.metric, cfg.search.target


def flat_text_config(cfg) -> dict:
    """The keys a table or a dashboard filters on, flat (N and s mean nothing here and are left out)."""
    text, model = cfg.text, cfg.model
    metric, target = goal(cfg)
    fixed = cfg.search.name == "fixed"
    return {
        "model": model.name, "data": "text", "search": cfg.search.name,
        # The keys every job has (docs/result-schema.md): the loss, and the encoder's time steps (one per character).
        "loss": "cross_entropy", "steps": text.length,
        "hidden": model.hidden if fixed else None, "layers": model.layers, "heads": model.heads,
        "decoder": model.decoder,
        "source": text.source, "alphabet": text.alphabet if text.source == "random" else None,
        "path": text.path if text.source == "file" else None,
        "length": text.length, "count": text.count, "encoding": text.encoding,
        "metric": metric, "target": target,
        "min_hidden": None if fixed else cfg.search.min_hidden, "max_hidden": None if fixed else cfg.search.max_hidden,
        "seed": cfg.seed, "runs": cfg.runs, "lr": learning_rate(cfg), "max_steps": step_cap(cfg),
        "schedule": cfg.trainer.schedule, "batch_size": cfg.trainer.batch_size,
    }


def init_seed(seed: int, run: int, hidden: int) -> int:
    """An independent initialization seed per (H, run), from numpy's SeedSequence."""
    return int(np.random.SeedSequence([seed, run, hidden]).generate_state(1)[0])


def build_member(cfg, hidden: int, run: int) -> TextAutoencoder:
    shape = Shape(INPUT_SIZE[cfg.text.encoding], cfg.text.length, hidden, cfg.model.layers, cfg.model.heads)
    with torch.random.fork_rng():
        torch.manual_seed(init_seed(cfg.seed, run, hidden))
        return build_autoencoder(cfg.model, shape)


@contextlib.contextmanager
def cpu_threads(accelerator: str):
    """One intra-op thread while training on the CPU.

    These networks are so small that every op is a few microseconds of work;
    splitting each across threads costs more in synchronisation than it saves,
    and on a busy machine (a sweep beside other jobs) many times more.
    """
    on_cpu = accelerator == "cpu" or not torch.cuda.is_available()
    threads = torch.get_num_threads()
    if on_cpu:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_widths(cfg, text: TextData, widths: list[int], logger=False, step_offset: int = 0) -> list[TextPoint]:
    """Train ``runs`` networks of every width in ``widths`` on the training sequences (one fit); one point each."""
    members = [(hidden, run) for hidden in widths for run in range(cfg.runs)]
    networks = [build_member(cfg, hidden, run) for hidden, run in members]
    metric, target = goal(cfg)
    trainer_cfg, max_steps = cfg.trainer, step_cap(cfg)
    module = TextMemoryModule(
        networks, encode(text.train, cfg.text.encoding), text.train, metric=metric, target=target,
        lr=learning_rate(cfg), max_steps=max_steps, check_every=trainer_cfg.check_every, patience=trainer_cfg.patience,
        schedule=trainer_cfg.schedule, batch_size=trainer_cfg.batch_size, batch_seed=cfg.seed, step_offset=step_offset,
    )
    start = time.perf_counter()
    with cpu_threads(trainer_cfg.accelerator):
        pl.Trainer(
            accelerator=trainer_cfg.accelerator, devices=1, max_steps=max_steps, logger=logger,
            enable_checkpointing=False, enable_model_summary=False, enable_progress_bar=sys.stderr.isatty(),
            num_sanity_val_steps=0, limit_val_batches=0,
        ).fit(module)
    seconds = round(time.perf_counter() - start, 3)
    points = []
    for i, ((hidden, run), network) in enumerate(zip(members, networks)):
        train = reconstruct(network, text.train, cfg.text.encoding)
        heldout = reconstruct(network, text.heldout, cfg.text.encoding)
        points.append(TextPoint(
            hidden=hidden, run=run, state_size=network.encoder.state_size, params=num_parameters(network),
            encoder_params=num_parameters(network.encoder), train_char=train["char"], train_exact=train["exact"],
            heldout_char=heldout["char"], heldout_exact=heldout["exact"],
            bits=train["char"] * text.train.numel() * text.bits_per_char, loss=module.last_loss[i],
            steps=module.steps_trained[i], seconds=seconds, members=len(members), stop=STOP_REASONS[module.stop[i]],
        ))
    return points


@torch.no_grad()
def reconstruct(network: TextAutoencoder, codes: torch.Tensor, encoding: str) -> dict[str, float]:
    """Character and exact-sequence accuracy of ``network`` reconstructing ``codes``."""
    device = next(network.parameters()).device
    codes = codes.to(device)
    return accuracies(network(encode(codes, encoding)), codes)


def text_metrics(
    points: list[dict], hidden: int, min_hidden: int | None, capped: bool, metric: str, text: TextData
) -> dict:
    """The job's answer: the best run at ``hidden``, the smallest H that reached the target (or the largest tried)."""
    best = max((p for p in points if p["hidden"] == hidden), key=lambda p: (p[f"train_{metric}"], p["train_char"]))
    return {
        "min_hidden": min_hidden,
        "capped": capped,  # the search reached search.max_hidden short of the target: the minimum is larger, if any
        "hidden": hidden,
        "state_size": best["state_size"],
        "params": best["params"],
        "encoder_params": best["encoder_params"],
        "decoder_params": best["params"] - best["encoder_params"],
        **{key: best[key] for key in ("train_char", "train_exact", "heldout_char", "heldout_exact")},
        "score_runs": [p[f"train_{metric}"] for p in points if p["hidden"] == hidden],
        "bits_per_char": text.bits_per_char,
        "bits_total": text.train.numel() * text.bits_per_char,  # what there is to store
        "bits": best["bits"],
        "bits_per_neuron": best["bits"] / hidden,
        "bits_per_param": best["bits"] / best["params"],
    }


def run_text(cfg, out_dir: Path, group: str) -> dict:
    """Run the data=text job described by ``cfg``; write and return its result.json contents."""
    validate_text(cfg)
    text = make_text(cfg.text, cfg.seed)  # a bad source fails here, before anything is written
    quiet_libraries()
    start = time.perf_counter()
    config = flat_text_config(cfg)
    metric, target = goal(cfg)
    path = out_dir / RESULT_FILE
    complete, earlier = previous_attempt(path, config, cfg.runs, key="hidden")
    if complete is not None:
        return complete
    result = new_result(config)
    logger = build_logger(cfg, out_dir, group, config)

    def train(widths: list[int]) -> list[dict]:
        points = train_widths(cfg, text, widths, logger, step_offset=len(result["points"]) * step_cap(cfg))
        return [p.as_dict() for p in points]

    def evaluate(widths: list[int]) -> dict[int, list[float]]:
        return search_round(result, path, start, widths, earlier, "hidden", f"train_{metric}", train)

    with recorded(result, path, start, logger):
        if cfg.search.name == "fixed":
            hidden = cfg.model.hidden
            min_hidden, capped = (hidden if max(evaluate([hidden])[hidden]) >= target else None), False
        else:
            grid = hidden_grid(cfg.model, cfg.search.min_hidden, cfg.search.max_hidden)
            min_hidden = neuron_search(evaluate, grid=grid, target=target, batch=cfg.search.batch).min_hidden
            capped = min_hidden is None
            hidden = grid[-1] if capped else min_hidden
        result["metrics"] = text_metrics(result["points"], hidden, min_hidden, capped, metric, text)
    print(summary_line(result, path), flush=True)
    return result


def summary_line(result: dict, path: Path) -> str:
    c, m = result["config"], result["metrics"]
    goal_text = f"{c['metric']} accuracy >= {c['target']}"
    if c["search"] == "fixed":
        verdict = f"H={m['hidden']} {'reaches' if m['min_hidden'] is not None else 'falls short of'} {goal_text}"
    elif m["capped"]:
        verdict = f"no H up to {m['hidden']} reaches {goal_text}"
    else:
        verdict = f"min H={m['hidden']} reaches {goal_text}"
    return (f"memcap text {c['model']} {c['source']} L={c['length']} count={c['count']} {c['encoding']} "
            f"runs={c['runs']} seed={c['seed']}: {verdict} (state {m['state_size']}, params {m['params']}): "
            f"char {m['train_char']:.3f}, exact {m['train_exact']:.3f}, held-out char {m['heldout_char']:.3f}; "
            f"{m['bits_per_neuron']:.1f} bits/neuron, {m['bits_per_param']:.4f} bits/param; "
            f"{result['wall_time']:.1f}s -> {path}")
