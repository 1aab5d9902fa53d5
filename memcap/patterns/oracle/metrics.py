"""What a job calls (``oracle_metrics``): the interval on each run's dataset, and trained / each end.

Each dataset's interval is handed on as soon as it is found, so that a resumed
job solves only the datasets still missing; with ``search.oracle_workers`` > 1
the datasets are solved at once, each in a worker process
(``_dataset_in_worker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from omegaconf import OmegaConf

from memcap.patterns.oracle.interval import OracleInterval, oracle_interval
from memcap.workers import map_in_processes

log = logging.getLogger("memcap")

@dataclass
class TrainedOptimum:
    """A dataset whose trained network recalls all ``DS`` patterns (by the same ``memorized`` criterion):
    the interval is [DS, DS] with the network as the witness. At N=400 the LPs that found the same
    ("trivial") took 335-569 s a dataset (results/report_table1/3)."""

    lower: int
    status: str = "trained"
    seconds: float = 0.0

    @property
    def upper(self) -> int:
        return self.lower


def _entry(run: int, DS: int, found: OracleInterval | TrainedOptimum) -> dict:
    """One dataset's interval as result.json keeps it (``metrics.oracle_datasets`` while the job runs): the
    work done (certification rounds, circuits) beside the seconds it took, which alone vary by machine."""
    return {"run": run, "DS": DS, "lower": found.lower, "upper": found.upper, "status": found.status,
            "iterations": getattr(found, "iterations", 0), "cuts": getattr(found, "cuts", 0),
            "seconds": round(found.seconds, 2)}


def _solve_dataset(cfg, DS: int, run: int, of: int, bti: int, progress: bool) -> dict:
    """One dataset's interval (its LPs: minutes to hours at large N, hence the line when they begin)."""
    from memcap.patterns.engine import member_data

    log.info("oracle: dataset %d/%d: the LPs begin", run + 1, of)
    return _entry(run, DS, oracle_interval(*member_data(cfg, DS, run), bti=bti, iterations=cfg.search.oracle_iterations,
                                           nodes=cfg.search.oracle_nodes, progress=progress))


def _dataset_in_worker(piece: tuple[dict, int, int, int, int]) -> dict:
    """``_solve_dataset`` in a worker process (``search.oracle_workers``), from the job's resolved config."""
    config, DS, run, of, bti = piece
    return _solve_dataset(OmegaConf.create(config), DS, run, of, bti, progress=False)


def oracle_metrics(cfg, DS: int, memorized_runs: list[int], progress: bool = True,
                   recorded: list[dict] = (), on_dataset: Callable[[list[dict]], None] | None = None) -> dict:
    """``search.oracle``: the certified interval on each run's dataset at ``DS``, and trained / each end.

    ``oracle_lower`` (also under its old name ``oracle_memorized``, with
    ``oracle_ratio`` = trained / lower) is achieved by weights the LPs found;
    ``oracle_upper`` is proven (``oracle_interval``); ``oracle_gap`` is their
    difference, 0 where the optimum is known. ``trained / oracle_upper`` is a
    proven lower bound on the fraction of the best possible that training reached.

    At N=500 one dataset's LPs take 30-40 minutes, longer than is left of many a
    cluster allocation, so each dataset's interval is handed to
    ``on_dataset`` (with those before it: a list of {"run", "DS", "lower",
    "upper", "status", "iterations", "cuts", "seconds"}) as soon as it is found, and a resumed job
    passes that list back as ``recorded``: a dataset recorded at this DS is not
    solved again (the job's identity fixes its data, bti and work limits).

    ``search.oracle_workers`` > 1 solves that many datasets at once, each in a
    worker process (``memcap.workers``), with each worker's memory (about
    ``check_oracle_size``'s estimate a dataset). The intervals are the same as
    one at a time: the work is limited by counts (``search.oracle_iterations``,
    ``search.oracle_nodes``), never by the clock.
    """
    from memcap.config import ConfigError
    from memcap.cpu import usable_cores
    from memcap.patterns.config import criterion_bti
    if cfg.model.name != "simple":
        raise ConfigError("search.oracle", f"the LP oracle exists for model=simple only, not {cfg.model.name}")
    bti = criterion_bti(cfg)
    workers, cores, of = cfg.search.oracle_workers, len(usable_cores()), len(memorized_runs)
    if workers > 1 and workers > cores:
        log.warning("search.oracle_workers=%d, but this process may use %d core(s): the datasets will share them, "
                    "each slower (the intervals are the same)", workers, cores)
    log.info("oracle: the certified interval at DS=%d on each of %d datasets (at most %d rounds, %d MILP nodes "
             "each%s)", DS, of, cfg.search.oracle_iterations, cfg.search.oracle_nodes,
             f"; {workers} at once" if workers > 1 else "")
    earlier = {entry["run"]: entry for entry in recorded if entry["DS"] == DS}
    found = dict(earlier)  # run -> its interval, as on_dataset saves them and the metrics below read them

    def say(e: dict, where: str = "") -> None:
        log.info("oracle: dataset %d/%d: %d <= best <= %d (%s), %.0fs%s", e["run"] + 1, of, e["lower"], e["upper"],
                 e["status"], e["seconds"], where)

    def record(entry: dict) -> None:
        found[entry["run"]] = entry
        if on_dataset is not None:
            on_dataset([found[run] for run in sorted(found)])
        say(entry)

    for run in sorted(earlier):
        say(earlier[run], ", recorded by an earlier attempt")
    to_solve = []
    for run, trained in enumerate(memorized_runs):
        if run in earlier:
            continue
        if trained == DS:  # the trained network witnesses the optimum: no LP
            record(_entry(run, DS, TrainedOptimum(DS)))
        else:
            to_solve.append(run)
    if workers > 1 and len(to_solve) > 1:
        data = OmegaConf.to_container(cfg, resolve=True)
        pieces = [(f"dataset {run + 1}", (data, DS, run, of, bti)) for run in to_solve]
        for entry in map_in_processes(_dataset_in_worker, pieces, workers):
            record(entry)
    else:
        for run in to_solve:
            record(_solve_dataset(cfg, DS, run, of, bti, progress))
    entries = [found[run] for run in range(of)]
    lower, upper = [e["lower"] for e in entries], [e["upper"] for e in entries]
    gap = [u - lo for lo, u in zip(lower, upper)]
    ratio_lower = [trained / best for trained, best in zip(memorized_runs, lower)]
    ratio_upper = [trained / best for trained, best in zip(memorized_runs, upper)]
    return {
        "oracle_memorized": float(np.mean(lower)),
        "oracle_memorized_runs": lower,
        "oracle_ratio": float(np.mean(ratio_lower)),
        "oracle_ratio_runs": ratio_lower,
        "oracle_lower": float(np.mean(lower)),
        "oracle_lower_runs": lower,
        "oracle_upper": float(np.mean(upper)),
        "oracle_upper_runs": upper,
        "oracle_gap": float(np.mean(gap)),
        "oracle_gap_runs": gap,
        "oracle_ratio_lower": float(np.mean(ratio_lower)),
        "oracle_ratio_upper": float(np.mean(ratio_upper)),
        "oracle_ratio_upper_runs": ratio_upper,
        "oracle_status_runs": [e["status"] for e in entries],
        "oracle_seconds_runs": [e["seconds"] for e in entries],
    }
