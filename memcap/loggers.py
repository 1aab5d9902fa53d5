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


def quiet_libraries() -> None:
    """Silence Lightning's start-up banners and known-harmless warnings: they would bury a job's one summary line."""
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="pytorch_lightning")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")


def run_name(flat_config: dict) -> str:
    """A job's W&B run name: what tells it from the other jobs of its sweep.

    Pattern jobs by network, N and seed; text jobs (data=text) by architecture,
    L and the width (the searched H, or the one fixed H), since N means nothing there.
    """
    c = flat_config
    if c.get("data") == "text":
        width = "Hsearch" if c["hidden"] is None else f"H{c['hidden']}"
        return f"{c['model']}-L{c['length']}-{width}-seed{c['seed']}"
    return f"{c['model']}-{c['loss']}-N{c['N']}-steps{c['steps']}-seed{c['seed']}"


def build_logger(cfg, out_dir: Path, group: str, flat_config: dict, run_id: str | None = None,
                 identity: dict | None = None):
    """The job's Lightning logger. W&B: one run per job, ``run_id`` stable across its attempts (a resumed or
    requeued job continues its own run), the flat config at the top level and the whole ``identity`` beside it."""
    name = cfg.logger.name
    if name == "none":
        return False
    if name == "csv":
        from pytorch_lightning.loggers import CSVLogger

        return CSVLogger(save_dir=str(out_dir), name="csv", version="")
    import wandb
    from pytorch_lightning.loggers import WandbLogger

    # No account or network needed: runs are written locally and `wandb sync` uploads them later.
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")

    def start(mode: str):
        logger = WandbLogger(
            mode=mode,
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            group=group,
            job_type=flat_config["model"],
            name=run_name(flat_config),
            save_dir=str(out_dir),
            config={**flat_config, **({"identity": identity} if identity else {})},
            id=run_id,
            resume="allow" if run_id else None,
            settings=wandb.Settings(init_timeout=cfg.logger.init_timeout),
        )
        logger.experiment  # start the run now, so a service error shows here and not mid-training
        return logger

    mode = os.environ["WANDB_MODE"]
    try:
        return start(mode)
    except Exception as error:  # wandb raises several kinds for network and auth trouble
        if mode != "online":
            raise
        print(f"memcap: W&B unreachable ({type(error).__name__}: {error}); logging offline, `wandb sync` later",
              file=sys.stderr, flush=True)
        os.environ["WANDB_MODE"] = "offline"  # and for the rest of this process's jobs
        return start("offline")


def finish_logger(logger, result: dict) -> None:
    """Put result.json's metrics (and points) in the W&B summary and close the run."""
    from pytorch_lightning.loggers import WandbLogger

    if isinstance(logger, WandbLogger):
        summary = {k: v for k, v in result["metrics"].items() if v is not None}
        logger.experiment.summary.update({**summary, "points": result["points"], "status": result["status"],
                                          "wall_time": result["wall_time"], "error": result["error"]})
        import wandb

        wandb.finish()
    elif logger:
        logger.finalize(result["status"])
