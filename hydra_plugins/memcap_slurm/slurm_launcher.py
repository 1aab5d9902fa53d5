"""memcap's SLURM launcher (``hydra/launcher=slurm``): hydra-submitit-launcher's, with three changes (memcap.slurm).

- Before submitting, a request that no node of the partition can satisfy stops
  the sweep with one line naming what was asked and what the nodes have.
- While waiting, job states come from squeue where the cluster keeps no
  accounting (submitit's sacct would warn at every poll and never see a cancellation).
- A task the cluster ends without a result (``scancel``, a node failure) is
  recorded in its job directory and named by the sweep summary; the sweep's
  front end keeps waiting for the other tasks instead of raising.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as SubmititSlurmLauncher
except ImportError:  # without the cluster extra there is no SLURM launcher to extend
    SubmititSlurmLauncher = None

SlurmLauncher = None  # without the cluster extra (memcap.configs.register_configs registers it otherwise)
if SubmititSlurmLauncher is not None:

    class SlurmLauncher(SubmititSlurmLauncher):
        def launch(self, job_overrides, initial_job_idx):
            """Check the request, submit the array and wait as submitit's launcher does, then record each lost
            task in its job directory (the one Hydra would have made: its sweep dir and subdir)."""
            from omegaconf import open_dict

            from memcap import slurm
            from memcap.config import ConfigError
            from memcap.results import record_lost

            try:
                slurm.check_request(self.params)
            except ConfigError as error:
                sys.exit(f"memcap: error: {error}")
            with slurm.waiting_as_memcap():
                returns = super().launch(job_overrides, initial_job_idx)
            for number, job_return in enumerate(returns, initial_job_idx):
                if isinstance(job_return, slurm.LostTask):
                    cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(job_return.overrides))
                    with open_dict(cfg.hydra.job):
                        cfg.hydra.job.num = number
                    record_lost(Path(cfg.hydra.sweep.dir) / str(cfg.hydra.sweep.subdir), job_return.reason)
            return returns
