"""Lightning loggers for a job: W&B (offline unless WANDB_MODE says otherwise), CSV, or none.

One W&B run per job, grouped by the sweep directory, with the flat config keys
at the top level of its config so dashboards can filter on N, s, steps, ...
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

from pytorch_lightning.loggers import WandbLogger

log = logging.getLogger("memcap")


def quiet_libraries() -> None:
    """Silence Lightning's start-up banners and known-harmless warnings: they would bury a job's one summary line."""
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="pytorch_lightning")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    # On any machine with SLURM installed, Lightning suggests srun for every job run outside it.
    warnings.filterwarnings("ignore", message=".*The `srun` command is available on your system.*")


def run_name(flat_config: dict, overrides: list[str] = ()) -> str:
    """A job's W&B run name: what tells it from the other jobs of its sweep.

    Pattern jobs by network, N and seed; text jobs (data=text) by architecture,
    L and the width (the searched H, or the one fixed H), since N means nothing there;
    then every other key its command line set (``overrides``: a sweep over ``lr=0.1,0.3``
    gives ``...-seed0-lr=0.1`` and ``...-seed0-lr=0.3``).
    """
    c = flat_config
    if c.get("data") == "text":
        width = "Hsearch" if c["hidden"] is None else f"H{c['hidden']}"
        name, named = f"{c['model']}-L{c['length']}-{width}-seed{c['seed']}", ("model", "data", "text.length", "seed")
    else:
        name, named = f"{c['model']}-{c['loss']}-N{c['N']}-steps{c['steps']}-seed{c['seed']}", \
            ("model", "loss", "N", "steps", "seed", "logger")
    extra = [o.lstrip("+~") for o in overrides if o.lstrip("+~").split("=")[0] not in named]
    return "-".join([name, *(o for o in extra if not o.startswith(("logger", "hydra")))])


def job_overrides() -> list[str]:
    """The command-line overrides of the running Hydra job (none outside Hydra: tests, notebooks)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return list(HydraConfig.get().overrides.task)
    except ValueError:
        return []


def job_tags(flat_config: dict) -> list[str]:
    """W&B tags to filter runs by: the task, the model and the experiment (``+experiment=NAME``)."""
    tags = [f"task:{flat_config.get('data', 'patterns')}", f"model:{flat_config['model']}"]
    try:
        from hydra.core.hydra_config import HydraConfig

        experiment = HydraConfig.get().runtime.choices.get("experiment")
    except ValueError:
        experiment = None
    return tags + ([f"experiment:{experiment}"] if experiment else [])


def build_logger(cfg, out_dir: Path, group: str, flat_config: dict, run_id: str | None = None,
                 identity: dict | None = None, versions: dict | None = None):
    """The job's Lightning logger. W&B: one run per job, ``run_id`` stable across its attempts (a resumed or
    requeued job continues its own run), the flat config at the top level and the whole ``identity`` beside it."""
    name = cfg.logger.name
    if name == "none":
        return False
    if name == "csv":
        from pytorch_lightning.loggers import CSVLogger

        return CSVLogger(save_dir=str(out_dir), name="csv", version="")
    import wandb

    # No account or network needed: runs are written locally and `wandb sync` uploads them later.
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")

    def start(mode: str):
        # memcap starts the run itself and hands it to Lightning: WandbLogger would pass wandb.init an
        # ``anonymous`` argument, which every wandb since 0.19 answers with a deprecation warning.
        run = wandb.init(
            mode=mode,
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            group=group,
            job_type=flat_config["model"],
            name=run_name(flat_config, job_overrides()),
            tags=job_tags(flat_config),
            dir=str(out_dir),
            config={**flat_config, **({"identity": identity} if identity else {}), "versions": versions},
            id=run_id,
            resume="allow" if run_id else None,
            settings=wandb.Settings(init_timeout=cfg.logger.init_timeout),
        )
        define_axes(run)
        return TolerantWandbLogger(experiment=run, save_dir=str(out_dir))

    mode = os.environ["WANDB_MODE"]
    try:
        return start(mode)
    except Exception as error:  # wandb raises several kinds for network and auth trouble
        if mode != "online":
            raise
        print(f"memcap: W&B unreachable ({type(error).__name__}: {error}); logging offline, `wandb sync` later",
              file=sys.stderr, flush=True)
        os.environ["WANDB_MODE"] = "offline"  # and for the rest of this process's jobs
        wandb.teardown()  # the failed online start leaves its service half-open
        return start("offline")


class TolerantWandbLogger(WandbLogger):
    """Lightning's W&B logger, except that W&B can never fail the measurement it watches.

    wandb writes through a service process (wandb-core). When that process dies
    during a job (killed, out of memory, its disk full), every later call raises
    ``ConnectionResetError``: the fit, the job and, since the dead service stays
    the process's, every later job of a sweep would fail with it. Here the first
    error is reported once, W&B stops for this job, the service is let go so the
    next job starts a fresh one, and the work goes on: result.json and train.log
    remain its record (``wandb sync`` uploads what was written before the error).
    """

    lost: str | None = None  # the error that stopped W&B for this job

    def guarded(self, call, *args, **kwargs) -> None:
        """``call(*args, **kwargs)`` unless W&B has failed in this job; its first failure is reported, not raised."""
        if self.lost:
            return
        try:
            call(*args, **kwargs)
        except Exception as error:
            import wandb

            self.lost = f"{type(error).__name__}: {error}"
            log.warning("W&B stopped logging this job (%s); its result.json and train.log still record it", self.lost)
            try:
                wandb.teardown()  # forget the dead service: the next wandb.init starts a new one
            except Exception:
                pass  # a dead service's teardown raises too, and still lets it go

    def log_metrics(self, metrics, step=None) -> None:
        self.guarded(super().log_metrics, metrics, step)

    def log_hyperparams(self, params) -> None:
        self.guarded(super().log_hyperparams, params)

    def after_save_checkpoint(self, checkpoint_callback) -> None:
        self.guarded(super().after_save_checkpoint, checkpoint_callback)

    def finalize(self, status: str) -> None:
        self.guarded(super().finalize, status)


def define_axes(run) -> None:
    """Each family of W&B history keys gets its own step axis, so none contradicts another.

    Lightning's rows (``train/*``, pruning's ``prune/*``) are plotted against
    ``trainer/global_step``, the job's training steps; the search's rows
    (``search/*``, ``log_search_round``) against ``search/round``.
    """
    run.define_metric("trainer/global_step")
    run.define_metric("train/*", step_metric="trainer/global_step")
    run.define_metric("prune/*", step_metric="trainer/global_step")
    run.define_metric("search/round")
    run.define_metric("search/*", step_metric="search/round")


def log_search_round(logger, key: str, round_number: int, scores: dict[int, list]) -> None:
    """W&B history: one row per candidate of a search round, so the UI charts the capacity curve
    (``search/best`` against ``search/<key>``: the memorized count against DS for the pattern task).

    Each row has ``search/round``, the candidate ``search/<key>`` (DS, or the text task's H) and its best
    and mean score over the runs, ``search/best`` and ``search/mean`` (memorized patterns; the text task's
    accuracy). Other loggers have no use for it.
    """
    if isinstance(logger, TolerantWandbLogger):
        for value, runs in scores.items():
            logger.guarded(logger.experiment.log, {"search/round": round_number, f"search/{key}": value,
                                   "search/best": max(runs), "search/mean": sum(runs) / len(runs)})


def finish_logger(logger, result: dict) -> None:
    """Put result.json's metrics (null ones too) and points in the W&B summary and close the run.

    ``points`` stays the list result.json holds (the aggregation reads it back);
    ``points_table`` is the same as a wandb.Table, which the UI charts (memorized against DS).
    """
    if isinstance(logger, TolerantWandbLogger):
        logger.guarded(_finish_wandb, logger, result)
    elif logger:
        logger.finalize(result["status"])


def _finish_wandb(logger: TolerantWandbLogger, result: dict) -> None:
    import wandb

    points = result["points"]
    columns = list(dict.fromkeys(key for point in points for key in point))
    table = wandb.Table(columns=columns, data=[[point.get(key) for key in columns] for point in points])
    logger.experiment.summary.update({**result["metrics"], "points": points, "points_table": table,
                                      "status": result["status"], "wall_time": result["wall_time"],
                                      "error": result["error"], "job": result.get("job")})
    wandb.finish()
