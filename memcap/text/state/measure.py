"""The two state measures, inside the job lifecycle (memcap.lifecycle.Job): what the state carries, bits per parameter.

    search=state vary=width   the smallest width of the encoder's state whose held-out character accuracy
                              reaches the target at text.length (a stream of fresh strings: nothing to memorize)
    search=state vary=length  the largest L such a state of width model.hidden carries
    search=memorize           the most stored random strings a width reconstructs (bits per parameter),
                              search.freeze_encoder=true: with the encoder left at its initialization

A round trains one searched value (a width, an L or a count) with every lr of
``search.lrs`` and ``runs`` seeds as one group: member ``(value, run)`` with
``run = lr_index * runs + seed_run``, so the best of the group is the best over
the lr grid and the seeds, and a recorded group is reused on resume
(``job.run_groups``). A seed run's initialization is the same at every lr.
"""

from __future__ import annotations

import logging
import math

import torch

from memcap.fitting import Fit, run_fit
from memcap.search import SETTLE, gallop, settled
from memcap.text.config import hidden_grid, length_floor, topology_config, width_grid
from memcap.text.members import STOP_REASONS, init_seed
from memcap.text.models import Shape, build_autoencoder, num_parameters
from memcap.text.state.analysis import ablation, participation_ratio, position_accuracy
from memcap.text.state.information import codelength_bits, fano_bits
from memcap.text.state.module import StateModule, char_scores
from memcap.text.state.stream import (
    Stream,
    alphabet_size,
    draw_sets,
    encode_indices,
    input_size,
    validate_sets,
)
from memcap.topology.masks import unmasked_parameters

log = logging.getLogger("memcap")
KEYS = {"width": "hidden", "length": "length", "memorize": "count"}  # what a round varies, per search
SCORES = {"width": "heldout_char", "length": "heldout_char", "memorize": "train_char"}  # what it must reach
FLOAT32_BITS = 32


def search_kind(cfg) -> str:
    return "memorize" if cfg.search.name == "memorize" else cfg.search.vary


def flat_config(cfg) -> dict:
    text, model, search = cfg.text, cfg.model, cfg.search
    kind = search_kind(cfg)
    flat = {
        "model": model.name, "data": "text", "search": search.name, "loss": "cross_entropy", "steps": text.length,
        "hidden": None if kind == "width" else model.hidden, "layers": model.layers, "heads": model.heads,
        "decoder": model.decoder, "source": text.source, "alphabet": text.alphabet, "path": None,
        "length": text.length, "count": search.max_count if kind == "memorize" else None,
        "encoding": text.encoding, "metric": "char", "target": search.target,
        "min_hidden": search.min_hidden if kind == "width" else None,
        "refine": search.refine if kind == "width" else None,
        "settle_factor": search.settle_factor if kind in ("width", "memorize") else None,
        "max_hidden": search.max_hidden if kind == "width" else None,
        "seed": cfg.seed, "runs": cfg.runs, "lr": None, "max_steps": search.max_steps, "schedule": "constant",
        "batch_size": search.batch if kind != "memorize" else None,
        "vary": kind if kind != "memorize" else None, "lrs": list(search.lrs), "heldout": text.heldout,
        "validation": text.validation if kind != "memorize" else None, "alphabet_size": alphabet_size(text),
        "check_every": search.check_every, "patience": search.patience, "min_delta": search.min_delta,
        "max_length": search.max_length if kind == "length" else None,
        "min_count": search.min_count if kind == "memorize" else None,
        "max_count": search.max_count if kind == "memorize" else None,
        "freeze_encoder": search.freeze_encoder if kind == "memorize" else None,
        **topology_config(model),
    }
    if cfg.prune.name != "none":  # memcap.text.state.prune: model.hidden at text.length, through the rounds
        flat.update(hidden=model.hidden, min_hidden=None, max_hidden=None, vary=None, prune=cfg.prune.name,
                    prune_rate=cfg.prune.rate, prune_rounds=cfg.prune.rounds, prune_target=cfg.prune.target)
    return flat


# -- the searches (pure logic) -------------------------------------------------------------------------
def smallest_passing(values: list[int], passes, finer: list[int] | None = None) -> int | None:
    """The smallest of ascending ``values`` for which ``passes`` holds (assumed monotone): every other index
    (about x2 on a sqrt(2) grid) from the start until one passes, then bisection. None: none does.

    ``finer`` (ascending): once the bracket on ``values`` has closed, the values of ``finer`` strictly inside it
    are bisected as well, so the coarse grid finds the way and the finer one gives the answer."""
    last, capped = gallop(lambda j: not passes(values[j]), 0, lambda j: j + 2, len(values) - 1)
    if capped:
        return None
    if last is None:
        return values[0]
    answer = values[last + 1]
    return first_passing([v for v in finer or () if values[last] < v < answer], passes, answer)


def first_passing(inside: list[int], passes, otherwise: int) -> int:
    """Bisection over ascending ``inside``, all of which lie between a known failure and the known pass
    ``otherwise``: the smallest that passes (assumed monotone), else ``otherwise``."""
    fails, holds = -1, len(inside)  # indices into inside: the largest known to fail, the smallest known to pass
    while holds - fails > 1:
        mid = (fails + holds) // 2
        if passes(inside[mid]):
            holds = mid
        else:
            fails = mid
    return inside[holds] if holds < len(inside) else otherwise


def within(resolution: float):
    """A bracket [lo, hi] is narrow enough when it is at most ``resolution`` x lo wide (at least 1)."""
    return lambda lo, hi: hi - lo <= max(1, math.floor(lo * resolution))


def largest_passing(start: int, limit: int, passes, resolution: float = 0.0) -> tuple[int | None, bool]:
    """The largest integer in [start, limit] for which ``passes`` holds (assumed monotone): x2 from ``start``,
    then bisection until the bracket is narrower than ``resolution`` x the answer. (answer or None, capped)."""
    return gallop(passes, start, lambda v: 2 * v, limit, within(resolution))


def last_passing(passed: int, failed: int | None, limit: int, passes, resolution: float) -> int:
    """The largest count that passes above ``passed`` (known to pass): bisection up to ``failed`` (known to fail),
    or x2 up to ``limit`` where nothing above was tried, then bisection, until ``within(resolution)``."""
    lo, hi, close = passed, failed, within(resolution)
    while hi is None or not close(lo, hi):
        x = min(2 * lo, limit) if hi is None else (lo + hi) // 2
        if x == lo:
            break
        lo, hi = (x, hi) if passes(x) else (lo, x)
    return lo


# -- training one round ---------------------------------------------------------------------------------
def member_lr(cfg, run: int) -> tuple[float, int, int]:
    """(lr, lr_index, seed_run) of a member's ``run``."""
    lr_index, seed_run = divmod(run, cfg.runs)
    return float(cfg.search.lrs[lr_index]), lr_index, seed_run


def build(cfg, hidden: int, length: int, seed_run: int, salt: int):
    shape = Shape(input_size(cfg.text), length, hidden, cfg.model.layers, cfg.model.heads)
    with torch.random.fork_rng():
        torch.manual_seed(init_seed(cfg.seed, seed_run, salt))
        return build_autoencoder(cfg.model, shape, classes=alphabet_size(cfg.text))


def train_round(cfg, job, value: int, prepare=None, record: bool = True, checkpoint: bool = True,
                max_steps: int | None = None, phase: str | None = None) -> list[dict]:
    """Train (and score) every lr x run member of one searched ``value``; the points, through ``job.run_groups``.

    ``prepare(network, run)``, when given, changes each network after it is built and before it is trained
    (memcap.text.state.prune masks it); ``record`` and ``checkpoint`` go to ``job.run_groups``; ``max_steps``
    (default ``search.max_steps``) and ``phase``: a settling's longer fits (``settle_round``)."""
    kind = search_kind(cfg)
    search, text = cfg.search, cfg.text
    max_steps = max_steps or search.max_steps
    hidden = value if kind == "width" else cfg.model.hidden
    length = value if kind == "length" else text.length
    members = [(value, run) for run in range(len(search.lrs) * cfg.runs)]
    size = alphabet_size(text)

    def encode(indices):
        return encode_indices(indices, text)

    def fit_group(group, fit: Fit) -> list[dict]:
        runs = [member_lr(cfg, run) for _, run in group]
        # The initialization depends on (seed run, width): the same at every lr, and at every L of a length search.
        networks = [build(cfg, hidden, length, seed_run, hidden) for _, _, seed_run in runs]
        if prepare is not None:
            for (_, run), network in zip(group, networks):
                prepare(network, run)
        if kind == "memorize":
            sets = draw_sets(text, cfg.seed, length, stored=search.max_count)
            stored = sets.stored[:value]
            module = StateModule(networks, [lr for lr, _, _ in runs], encode, check=stored, codes=stored,
                                 frozen=search.freeze_encoder, target=search.target, max_steps=max_steps,
                                 check_every=search.check_every, patience=search.patience,
                                 min_delta=search.min_delta, step_offset=fit.step_offset)
        else:
            sets = draw_sets(text, cfg.seed, length)
            stream = Stream(size, length, search.batch, cfg.seed, torch.cat([sets.validation, sets.heldout]))
            module = StateModule(networks, [lr for lr, _, _ in runs], encode, check=sets.validation, stream=stream,
                                 target=search.target, max_steps=max_steps, check_every=search.check_every,
                                 patience=search.patience, min_delta=search.min_delta, step_offset=fit.step_offset)
        seconds = round(run_fit(cfg.trainer, module, fit, max_steps), 3)
        points = []
        for i, ((_, run), (lr, lr_index, seed_run), network) in enumerate(zip(group, runs, networks)):
            network.eval()
            point = score(cfg, network, sets, length, size, kind, value)
            point.update(hidden=hidden, run=run, length=length, lr=lr, lr_index=lr_index, seed_run=seed_run,
                         loss=module.last_loss[i], steps=module.steps_trained[i], seconds=seconds,
                         members=len(group), stop=STOP_REASONS[module.stop[i]], check_score=module.best_score[i])
            if kind == "memorize":
                point["count"] = value
            else:
                point["stream_rejected"] = stream.rejected
            points.append(point)
        return points

    # recorded points are matched on (the value this search varies, run), not on the task's key (hidden)
    return job.run_groups([members], fit_group, record=record, checkpoint=checkpoint, max_steps=max_steps,
                          key=KEYS[kind], phase=phase)


@torch.no_grad()
def score(cfg, network, sets, length: int, size: int, kind: str, value: int) -> dict:
    """A trained member's numbers: held-out accuracy and bits; for the state, where the information sits."""
    encode = lambda x: encode_indices(x, cfg.text)  # noqa: E731
    state = network.encoder(encode(sets.heldout))
    logits = network.decoder(state)
    char, exact, loss = char_scores(logits, sets.heldout)
    log2a = math.log2(size)
    params, encoder_params = num_parameters(network), num_parameters(network.encoder)
    point = {"state_size": network.encoder.state_size, "params": params, "encoder_params": encoder_params,
             "nonzero_params": unmasked_parameters(network), "encoder_nonzero_params": unmasked_parameters(network.encoder),
             "heldout_char": char, "heldout_exact": exact, "heldout_loss_bits": loss / math.log(2)}
    if kind == "memorize":
        stored = sets.stored[:value]
        t_char, t_exact, t_loss = char_scores(network(encode(stored)), stored)
        per_string = length * log2a
        point.update(train_char=t_char, train_exact=t_exact, train_loss_bits=t_loss / math.log(2),
                     bits=t_char * value * per_string,
                     codelength_bits=value * codelength_bits(t_loss / math.log(2), length, size),
                     generalization_bits=value * codelength_bits(loss / math.log(2), length, size),
                     trainable_params=num_parameters(network.decoder) if cfg.search.freeze_encoder else params)
        return point
    fano = fano_bits(char, length, size)
    point.update(fano_bits=fano, fano_bits_per_state=fano / network.encoder.state_size, trainable_params=params)
    if cfg.search.analyse:
        point.update(position_char=position_accuracy(logits, sets.heldout),
                     ablation=ablation(network.decoder, state, sets.heldout, char),
                     participation_ratio=participation_ratio(state))
    return point


# -- the job's work ---------------------------------------------------------------------------------------
def prepare(cfg) -> dict:
    """What a bad value can still break before any work: the fixed sets of the job's L (vary=length: checked per L)."""
    kind = search_kind(cfg)
    if kind == "width":
        validate_sets(cfg.text, cfg.text.length)
    return {"kind": kind}


def run(job, prepared: dict) -> str:
    """The state measure's search (``search=state`` / ``memorize``); pruning rounds are memcap.text.state.prune's."""
    cfg, kind = job.cfg, prepared["kind"]
    search = cfg.search
    best: dict[int, dict] = {}

    def passes(value: int) -> bool:
        points = train_round(cfg, job, value)
        top = max(points, key=lambda p: (p[SCORES[kind]], p["heldout_char"]))
        best[value] = top
        scores = {value: [p[SCORES[kind]] for p in points]}
        job.log_round(scores, key=KEYS[kind])
        return max(scores[value]) >= search.target

    if kind == "width":
        grid = width_grid(cfg.model, search.min_hidden, search.max_hidden)
        finer = hidden_grid(cfg.model, search.min_hidden, search.max_hidden) if search.refine else None
        answer = smallest_passing(grid, passes, finer)
        if search.settle_factor and answer is not None:
            widths = finer or grid
            answer = settle_answer(job, kind, answer, passes, best, lambda failed, beyond, ok: first_passing(
                [w for w in widths if (beyond or 0) < w < failed], ok, failed))
        capped = answer is None
        at = grid[-1] if capped else answer
        below = sorted(w for w in best if w < at)
        decisive = below[-1] if below else None
    elif kind == "length":
        floor = length_floor(cfg.text)
        answer, capped = largest_passing(floor, search.max_length, passes)
        at = answer if answer is not None else floor
        above = [v for v in best if v > at]
        decisive = min(above) if above else None
    else:
        answer, capped = largest_passing(search.min_count, search.max_count, passes, search.resolution)
        if search.settle_factor and answer is not None:
            answer = settle_answer(job, kind, answer, passes, best, lambda failed, beyond, ok: last_passing(
                failed, beyond, search.max_count, ok, search.resolution))
            capped = answer >= search.max_count
        at = answer if answer is not None else search.min_count
        above = [v for v in best if v > at]
        decisive = min(above) if above else None
    job.result["metrics"] = metrics(job, kind, answer, capped, at, decisive, best[at])
    return summary_line(job.result)


def settle_answer(job, kind: str, answer: int, passes, best: dict[int, dict], refine) -> int:
    """The search's answer once its deciding failures are trained longer (``search.settle_factor``).

    The deciding failure is the value tried next to the answer on the failing side: the widest width below it,
    the smallest count above it. While it had a network stop at the step cap, its networks are trained again for
    settle_factor x the steps (the same seeds and data: a network that stopped before the cap stops at the same
    step); if it then passes, the answer moves to it and ``refine(failure, beyond, passes)`` searches the values
    between it and the next value tried beyond it (None: none was), each failure that hit the cap settled in
    turn."""
    cfg, key, score = job.cfg, KEYS[kind], SCORES[kind]
    steps = cfg.search.settle_factor * cfg.search.max_steps
    side = (lambda v, of: v < of) if kind == "width" else (lambda v, of: v > of)  # the failing side of ``of``
    nearest = max if kind == "width" else min
    outcome: dict[int, bool] = {}

    def settle(value: int) -> bool:
        if value not in outcome:
            log.info("settling %s %d: its networks trained again, to their plateau or %d steps", key, value, steps)
            points = train_round(cfg, job, value, max_steps=steps, phase=SETTLE)
            top = max(points, key=lambda p: p[score])
            best[value] = max(best[value], top, key=lambda p: p[score])
            job.log_round({value: [p[score] for p in points]}, key=key)
            outcome[value] = top[score] >= cfg.search.target
        return outcome[value]

    def capped(value: int) -> bool:
        return any(p[key] == value and p["stop"] == "cap" and p.get("phase") != SETTLE for p in job.result["points"])

    def passes_settled(value: int) -> bool:
        return passes(value) or (capped(value) and settle(value))

    while True:
        failure = nearest((v for v in best if side(v, answer)), default=None)
        if failure is None or failure in outcome or not capped(failure) or not settle(failure):
            return answer
        beyond = nearest((v for v in best if side(v, failure)), default=None)
        answer = refine(failure, beyond, passes_settled)


def metrics(job, kind: str, answer, capped: bool, at: int, decisive, top: dict, points: list[dict] | None = None) -> dict:
    """result.json's metrics of a state or memorize search, from its ``points`` (all the job's unless given)."""
    cfg = job.cfg
    points = settled(job.result["points"] if points is None else points, KEYS[kind])
    size = alphabet_size(cfg.text)
    log2a = math.log2(size)
    key = KEYS[kind]
    # Converged: the answer's best network did not stop at the step cap, nor did any network of the
    # value that decided the bracket's other side (the width below, the L or count above).
    decisive_points = [p for p in points if decisive is not None and p[key] == decisive]
    converged = top["stop"] != "cap" and all(p["stop"] != "cap" for p in decisive_points)
    scored = SCORES[kind]
    m = {"min_hidden": answer if kind == "width" else None, "capped": capped, "hidden": top["hidden"],
         "state_size": top["state_size"], "params": top["params"], "encoder_params": top["encoder_params"],
         "decoder_params": top["params"] - top["encoder_params"], "train_char": top.get("train_char"),
         "train_exact": top.get("train_exact"), "heldout_char": top["heldout_char"],
         "heldout_exact": top["heldout_exact"], "nonzero_params": top["nonzero_params"],
         "encoder_nonzero_params": top["encoder_nonzero_params"],
         "score_runs": [p[scored] for p in points if p[key] == at],
         "bits_per_char": log2a, "bits_total": None, "bits": None, "bits_per_neuron": None, "bits_per_param": None,
         "length": top["length"], "lr": top["lr"], "converged": converged,
         "capped_members": sum(p["stop"] == "cap" for p in points),
         "decisive": decisive, "decisive_score": max((p[scored] for p in decisive_points), default=None)}
    if kind == "memorize":
        count = answer or 0
        bits = count * top["length"] * log2a
        m.update(measure="memorization", max_count=answer, bits_total=bits, bits=bits,
                 bits_per_param=bits / top["params"], bits_per_nonzero_param=bits / top["nonzero_params"], trainable_params=top["trainable_params"],
                 bits_per_trainable_param=bits / top["trainable_params"],
                 codelength_bits=top["codelength_bits"] if answer else None,
                 generalization_bits=top["generalization_bits"] if answer else None,
                 memorized_bits=(top["codelength_bits"] - top["generalization_bits"]) if answer else None,
                 frozen=bool(cfg.search.freeze_encoder))
        return m
    fano_all = [p["fano_bits_per_state"] for p in points]
    m.update(measure="state capacity", max_length=answer if kind == "length" else None, fano_bits=top["fano_bits"],
             fano_bits_per_state=top["fano_bits_per_state"], max_fano_bits_per_state=max(fano_all),
             bits=top["fano_bits"], bits_per_neuron=top["fano_bits_per_state"],
             bits_per_param=top["fano_bits"] / top["params"],
             bits_per_nonzero_param=top["fano_bits"] / top["nonzero_params"],
             bits_per_nonzero_encoder_param=top["fano_bits"] / top["encoder_nonzero_params"], position_char=top.get("position_char"),
             ablation=top.get("ablation"), participation_ratio=top.get("participation_ratio"),
             stream_rejected=top.get("stream_rejected"))
    return m


def summary_line(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    head = f"memcap text {c['model']} {c['search']} {c['alphabet']} {c['encoding']} runs={c['runs']} seed={c['seed']}"
    conv = "converged" if m["converged"] else "NOT converged (a deciding network hit the step cap)"
    if c["search"] == "memorize":
        what = "frozen encoder" if m["frozen"] else "trained encoder"
        if m["max_count"] is None:
            return f"{head}: H={m['hidden']} L={c['length']} ({what}) reconstructs not even {c['min_count']} strings"
        return (f"{head}: H={m['hidden']} L={c['length']} ({what}) reconstructs {'>= ' if m['capped'] else ''}"
                f"{m['max_count']} strings at char >= {c['target']}: {m['bits']:.0f} bits, "
                f"{m['bits_per_param']:.3f} bits/param ({m['params']} params), held-out char {m['heldout_char']:.3f}; "
                f"{conv}")
    if c["vary"] == "width":
        verdict = (f"no width up to {m['hidden']} reaches" if m["capped"] else f"min width {m['hidden']} reaches")
        where = f"L={c['length']}"
    else:
        verdict = (f"L >= {m['length']}" if m["capped"] else
                   f"max L={m['max_length']}" if m["max_length"] else "no L") + " reaches"
        where = f"H={m['hidden']}"
    return (f"{head} {where}: {verdict} held-out char >= {c['target']} (state {m['state_size']}, lr {m['lr']}): "
            f"held-out char {m['heldout_char']:.3f}, exact {m['heldout_exact']:.3f}, Fano >= {m['fano_bits']:.1f} bits, "
            f"{m['fano_bits_per_state']:.2f} bits/state number (max {m['max_fano_bits_per_state']:.2f}); {conv}")

