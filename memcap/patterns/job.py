"""The pattern task's work inside a job (memcap.lifecycle.Job): search the capacity, or train one DS, or prune.

    for each search round:  train_members(cfg, [(DS, run), ...], job)  -> points (saved per ensemble)
    metrics at the capacity DS (the report's numbers, the oracle's when asked) -> the summary line
"""

from __future__ import annotations

import logging
import sys

from memcap.config import learning_rate
from memcap.patterns.config import (
    criterion_bti,
    loss_name,
    loss_schedule,
    model_steps,
    search_batch,
    search_ceiling,
    search_start,
    settle_config,
    solver_checks,
    topology_config,
)
from memcap.patterns.engine import train_members
from memcap.patterns.models import build
from memcap.patterns.report import capacity_metrics, most_stored, network_name
from memcap.search import BEFORE_PLATEAU_STOPS, SETTLE, capacity_search, converged, settled

KEY = "DS"  # what a search round varies
ORACLE_DATASETS = "oracle_datasets"  # a running job's metrics: the oracle's intervals found so far (a resume reuses them)
log = logging.getLogger("memcap")


def flat_config(cfg) -> dict:
    """result.json's ``config``: the keys a table or a dashboard filters on, flat (docs/result-schema.md).

    The job's whole identity (every key that can change its result) is stored beside it.
    """
    return {
        "model": cfg.model.name, "loss": loss_name(cfg), "search": "fixed" if cfg.DS is not None else cfg.search.name,
        "N": cfg.N, "s": cfg.s, "steps": model_steps(cfg), "seed": cfg.seed, "runs": cfg.runs, "DS": cfg.DS,
        "lr": learning_rate(cfg), "max_steps": cfg.trainer.max_steps, "schedule": cfg.trainer.schedule,
        "batch_size": cfg.trainer.batch_size,
        # Only when pinned, so that results from before these keys keep their columns.
        **{key: cfg[key] for key in ("data_seed", "init_seed") if cfg[key] is not None},
        **dict(zip(("warmup", "warmup_steps"), loss_schedule(cfg)) if loss_schedule(cfg)[0] else {}),
        **topology_config(cfg),  # activation, density, prune: likewise only when not the default
        **({"decide": cfg.search.decide} if cfg.search.decide != "training" else {}),  # likewise
    }


def prepare(cfg) -> None:
    """Nothing to read before the work: a pattern job draws each member's data when it trains it."""
    return None


def run(job, data: None = None) -> str:
    """The job's work; fills ``job.result["metrics"]`` and returns its summary line."""
    cfg = job.cfg
    pruned = cfg.prune.name != "none"
    if pruned and cfg.DS is not None:
        from memcap.patterns.prune import run_rounds

        return run_rounds(job)
    if cfg.search.decide == "solver":
        from memcap.patterns import solver

        return solver.run(job)

    # Searched DS only: a member that cannot pass the capacity predicate stops "short" (search.stop_short).
    must_exceed = cfg.search.threshold if cfg.DS is None and cfg.search.stop_short else None

    def trained(ds_values: list[int]) -> dict[int, list[int]]:
        points = train_members(cfg, [(ds, run) for ds in ds_values for run in range(cfg.runs)], job,
                               must_exceed=must_exceed)
        scores = {ds: [p.memorized for p in sorted(points, key=lambda p: p.run) if p.DS == ds] for ds in ds_values}
        job.log_round(scores)
        return scores

    evaluate = trained
    if pruned:  # the capacity of the pruned network: each DS's points are the last pruning round's
        from memcap.patterns.prune import pruned_evaluate

        evaluate = pruned_evaluate(job, must_exceed)

    if cfg.DS is not None:
        runs = evaluate([cfg.DS])[cfg.DS]
        capacity_ds, perfect_ds, capped = cfg.DS, (cfg.DS if max(runs) == cfg.DS else None), False
    else:
        perfect_guess = search_start(cfg)
        if perfect_guess is not None:
            job.result["metrics"]["search_guess"] = {"perfect_ds": perfect_guess, "prior": cfg.search.prior}
            log.info("search starts from perfect DS=%d (search.prior=%g patterns per neuron)", perfect_guess,
                     cfg.search.prior)

        outcome = capacity_search(
            evaluate, step=cfg.search.step, resolution=cfg.search.resolution, threshold=cfg.search.threshold,
            batch=search_batch(cfg), max_ds=search_ceiling(cfg), on_phase=job.set_phase,
            guess=(perfect_guess, None), settle=None if pruned else settler(job),  # settling trains dense networks
        )
        capacity_ds, perfect_ds, capped = outcome.capacity_ds, outcome.perfect_ds, outcome.capped
        runs = outcome.results.get(capacity_ds, [])
    params = build(cfg).num_parameters()  # unmasked weights only (model.density)
    if pruned:
        from memcap.patterns.prune import kept_after

        params = cfg.N + kept_after(params - cfg.N, cfg.prune.rate, cfg.prune.rounds)  # the bias is never pruned
    points = job.result["points"]
    diverged = sum(p["stop"] == "diverged" for p in settled(points))
    answer = capacity_metrics(cfg.N, cfg.s, params, capacity_ds, perfect_ds, runs, bti=criterion_bti(cfg))
    job.result["metrics"] = {**job.result["metrics"], **answer, **most_stored(points),
                             "capped": capped, "diverged": diverged, "converged": converged(points, capacity_ds, perfect_ds),
                             "capped_points": sum(p["stop"] == "cap" for p in settled(points)),
                             **({"search_batch": search_batch(cfg)} if cfg.DS is None else {})}
    if cfg.search.oracle and capacity_ds is not None:
        from memcap.patterns.oracle import oracle_metrics

        metrics = job.result["metrics"]

        def keep(entries: list[dict]) -> None:  # each dataset's interval saved as found: a resume skips its LPs
            metrics[ORACLE_DATASETS] = entries
            job.save()

        metrics.update(oracle_metrics(cfg, capacity_ds, runs, progress=sys.stderr.isatty(),
                                      recorded=metrics.get(ORACLE_DATASETS, ()), on_dataset=keep))
        metrics.pop(ORACLE_DATASETS, None)  # a finished job has them as the oracle_*_runs metrics
    if solver_checks(cfg):
        from memcap.patterns import solver

        job.result["metrics"].update(solver.check(job))
    return summary_line(job.result)


def settler(job):
    """The search's ``settle`` (memcap.search.capacity_search): at each DS it is given, the runs whose point
    stopped before its plateau (a fail-fast rule, the step cap) are trained again under ``settle_config``,
    recorded beside the search's points (phase "settle"); each DS's counts, one per run, the settled ones in
    place of the search's. None where ``search.settle_factor`` is 0."""
    cfg = settle_config(job.cfg)
    if cfg is None:
        return None

    def settle(ds_values: list[int]) -> dict[int, list[int]]:
        done = {(p["DS"], p["run"]) for p in job.result["points"] if p.get("phase") == SETTLE}
        todo = [(p["DS"], p["run"]) for p in job.result["points"] if p["DS"] in ds_values and p.get("phase") is None
                and p["stop"] in BEFORE_PLATEAU_STOPS and (p["DS"], p["run"]) not in done]
        if todo:
            log.info("settling %d runs at DS=%s: trained again without fail-fast, to their plateau or %d steps",
                     len(todo), sorted({ds for ds, _ in todo}), cfg.trainer.max_steps)
            train_members(cfg, todo, job, phase=SETTLE)
        points = sorted(settled(job.result["points"]), key=lambda p: p["run"])
        return {ds: [p["memorized"] for p in points if p["DS"] == ds] for ds in ds_values}

    return settle


def summary_line(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    if m["capacity_ds"] is None:
        found = "no DS memorized above the threshold"
    else:
        perfect = f"perfect recall up to DS={m['perfect_ds']}" if m["perfect_ds"] is not None else "no DS recalled perfectly"
        found = (f"capacity DS={m['capacity_ds']}{' (capped: at least)' if m['capped'] else ''}: "
                 f"memorized max {m['memorized_max']}, mean {m['memorized_mean']:.1f} ± {m['memorized_std']:.1f} "
                 f"({100 * m['accuracy']:.1f}%), {perfect}")
        if (m.get("max_stored") or 0) > m["memorized_max"]:  # a run above the capacity DS stored more
            found += f", most stored {m['max_stored']} (at DS={m['max_stored_ds']})"
    diverged = f", {m['diverged']} members diverged" if m.get("diverged") else ""
    if m.get("converged") is False:
        diverged += " (not converged: members at the capacity DS or the DS that bounds it hit the step cap; a lower bound)"
    oracle = f", oracle {m['oracle_memorized']:.1f} (ratio {m['oracle_ratio']:.3f})" if "oracle_ratio" in m else ""
    if "oracle_upper" in m:
        oracle += f", proven best <= {m['oracle_upper']:.1f} (ratio {m['oracle_ratio_upper']:.3f})"
    if m.get("solver_perfect_ds") is not None:
        oracle += (f", LPs: perfect recall exact at DS={m['solver_perfect_ds']}"
                   f"{' (at least)' if m['solver_open_ds']['perfect recall'] else ''}")
        if m["perfect_vs_solver"] is not None:
            oracle += f" (training {m['perfect_vs_solver']:.3f} of it)"
    return (f"memcap {network_name(c)} N={c['N']} s={c['s']} runs={c['runs']} seed={c['seed']}: "
            f"{found}{oracle}{diverged}; params={m['params']}")
