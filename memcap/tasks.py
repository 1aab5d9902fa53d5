"""The registry of tasks: ``data=NAME`` picks the package that does the work.

A task is one package with the same faces (``memcap.patterns``, ``memcap.text``):

- ``config``: ``SCHEMAS`` (Hydra ConfigStore entries) and ``validate(cfg)``
- ``schema``: result.json's config, metrics and points for this task (pydantic; no torch)
- ``job``: ``KEY`` (what a search varies: "DS", "hidden"), ``flat_config(cfg)``,
  ``prepare(cfg)`` (what can fail on bad input, read before any work) and
  ``run(job, prepared) -> summary line``, the work inside :class:`memcap.job.Job`

Adding a task is one package and one line here. Importing this module imports
no task, no torch and no Hydra (the aggregation reads ``schema_of``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

TASKS = {"patterns": "memcap.patterns", "text": "memcap.text"}  # data.name -> package

from memcap.paths import CONF_DIR  # noqa: E402  the repository's conf/, or the copy a wheel installs


def task_name(config: dict[str, Any]) -> str:
    """The task of a result's flat config: its ``data`` key (pattern results have none: the first task)."""
    return config.get("data", "patterns")


def module(task: str, face: str) -> ModuleType:
    """``memcap.<task>.<face>``, e.g. module("text", "job")."""
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    return importlib.import_module(f"{TASKS[task]}.{face}")


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
    for task in TASKS:
        for (group, name), node in module(task, "config").SCHEMAS.items():
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
