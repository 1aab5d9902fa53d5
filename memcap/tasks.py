"""The registry of tasks: ``data=NAME`` picks the package that does the work.

A task is one package with the same faces (``memcap.patterns``, ``memcap.text``):

- ``config``: ``SCHEMAS`` (Hydra ConfigStore entries) and ``validate(cfg)``
- ``schema``: result.json's config, metrics and points for this task (pydantic; no torch)
- ``job``: ``KEY`` (what a search varies: "DS", "hidden"), ``flat_config(cfg)``,
  ``prepare(cfg)`` (what can fail on bad input, read before any work) and
  ``run(job, prepared) -> summary line``, the work inside :class:`memcap.lifecycle.Job`

Adding a task is one package and one line here. Importing this module imports
no task, no torch and no Hydra (the aggregation reads it); Hydra's side, the
config store and composing a config, is memcap.configs.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

TASKS = {"patterns": "memcap.patterns", "text": "memcap.text"}  # data.name -> package


def task_name(config: dict[str, Any]) -> str:
    """The task of a result's flat config: its ``data`` key (pattern results have none: the first task)."""
    return config.get("data", "patterns")


def module(task: str, face: str) -> ModuleType:
    """``memcap.<task>.<face>``, e.g. module("text", "job")."""
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    return importlib.import_module(f"{TASKS[task]}.{face}")
