"""The text task's work inside a job (memcap.lifecycle.Job): draw the text, search the smallest width H.

    text = prepare(cfg)                      # a bad source fails here, before anything is written
    for each search round:  train_widths(cfg, text, [H, ...], job) -> points (saved per fit)
    metrics at the smallest H that reaches the target -> the summary line

The same result.json top-level keys as every task (status, error, config,
metrics, points, versions, wall_time, job, identity); what they hold here is
in docs/text.md and memcap.text.schema.
"""

from __future__ import annotations

from memcap.config import learning_rate
from memcap.search import neuron_search
from memcap.text.config import STATE_SEARCHES, hidden_grid, step_cap, topology_config
from memcap.text.data import TextData, make_text
from memcap.text.separability.engine import goal, train_widths
from memcap.text.state import measure, prune

KEY = "hidden"  # what a search round varies


def flat_config(cfg) -> dict:
    """The keys a table or a dashboard filters on, flat (N and s mean nothing here and are left out)."""
    if cfg.search.name in STATE_SEARCHES:
        return measure.flat_config(cfg)
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
        **topology_config(model),
    }



def prepare(cfg) -> TextData | dict:
    """The job's sequences, drawn from its seed; a source that cannot give them fails here, before any work."""
    if cfg.search.name in STATE_SEARCHES:
        return measure.prepare(cfg)
    return make_text(cfg.text, cfg.seed)


def run(job, text: TextData) -> str:
    """The job's work on ``text``; fills ``job.result["metrics"]`` and returns its summary line."""
    cfg = job.cfg
    if cfg.search.name in STATE_SEARCHES:
        return prune.run_rounds(job) if cfg.prune.name != "none" else measure.run(job, text)
    metric, target = goal(cfg)

    def evaluate(widths: list[int]) -> dict[int, list[float]]:
        points = train_widths(cfg, text, widths, job)
        scores = {h: [getattr(p, f"train_{metric}") for p in sorted(points, key=lambda p: p.run) if p.hidden == h]
                  for h in widths}
        job.log_round(scores)
        return scores

    if cfg.search.name == "fixed":
        hidden = cfg.model.hidden
        min_hidden, capped = (hidden if max(evaluate([hidden])[hidden]) >= target else None), False
    else:
        grid = hidden_grid(cfg.model, cfg.search.min_hidden, cfg.search.max_hidden)
        min_hidden = neuron_search(evaluate, grid=grid, target=target, batch=cfg.search.batch).min_hidden
        capped = min_hidden is None
        hidden = grid[-1] if capped else min_hidden
    job.result["metrics"] = text_metrics(job.result["points"], hidden, min_hidden, capped, metric, text)
    return summary_line(job.result)


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
        # What this search measures: per-position linear separability of `count` training
        # sequences within the step cap, not text memory (held-out accuracy stays at chance).
        "measure": "separability",
    }


def summary_line(result: dict) -> str:
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
            f"{m['bits_per_neuron']:.1f} bits/neuron, {m['bits_per_param']:.4f} bits/param")
