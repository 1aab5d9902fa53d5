"""memcap's configs as Hydra sees them: the schemas registered in its config store, and a config composed.

``register_configs`` gives Hydra the top-level schema, every task's group schemas (memcap.tasks) and memcap's
SLURM launcher; ``compose`` is what train.py would run with some overrides, for tests, notebooks and scripts.
"""

from __future__ import annotations

from memcap import tasks
from memcap.paths import CONF_DIR  # the repository's conf/, or the copy a wheel installs


def register_configs() -> None:
    """Register ``TrainConfig`` (extended by conf/train.yaml), every task's group schemas and memcap's launcher.

    Hydra finds plugins by walking the ``hydra_plugins`` namespace with pkgutil,
    which does not see a package installed editable (PEP 660), so memcap's SLURM
    launcher (hydra_plugins/memcap_slurm) is registered here by name as well.
    """
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    from hydra_plugins.memcap_slurm.slurm_launcher import SlurmLauncher
    from memcap.config import TrainConfig

    if SlurmLauncher is not None:  # None without the cluster extra
        Plugins.instance().register(SlurmLauncher)

    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    for task in tasks.TASKS:
        for (group, name), node in tasks.module(task, "config").SCHEMAS.items():
            store.store(group=group, name=name, node=node)


def compose(*overrides: str):
    """The config train.py would run with these overrides (for tests, notebooks and scripts)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="train", overrides=list(overrides))
