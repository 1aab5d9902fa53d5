"""memcap's Hydra plugin: the SLURM launcher (hydra/launcher=slurm); Hydra finds launchers only under hydra_plugins."""
