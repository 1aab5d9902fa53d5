"""Shared fixtures: the real Hydra config, composed as train.py composes it; train.py with a test's hook.

The tests mirror the package: tests/patterns/, tests/text/, tests/aggregate/, tests/analysis/, the shared
modules' tests at the top, and tests/e2e/ for whole commands in subprocesses (train.py, sweeps, kills, a
terminal, SLURM, the wheel), marked ``e2e``: ``pytest -m "not e2e"`` runs the fast part alone. Plain shared
values (ROOT, ENV, TINY_JOB, train_py) are in tests/helpers.py.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from memcap.configs import compose
from tests.helpers import TRAIN

os.environ["WANDB_MODE"] = "disabled"


def pytest_collection_modifyitems(items) -> None:
    """Everything under tests/e2e/ is marked ``e2e``."""
    for item in items:
        if "e2e" in item.path.relative_to(Path(__file__).parent).parts[:1]:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def make_cfg():
    """make_cfg(*overrides) -> the DictConfig train.py would run with (logger=none unless overridden)."""
    return lambda *overrides: compose("logger=none", *overrides)


# -- train.py with a test's hook: a real sweep stopped at a recorded point, not after a guess at the time ----

_HOOK_PRELUDE = '''
import dataclasses, os, runpy, signal, sys, time
from pathlib import Path

import pytorch_lightning as pl

from memcap import fitting


def on_every_fit(callback):
    """Every fit of this process gets ``callback``, after the job's own (a mid-round checkpoint is saved first)."""
    make = fitting.make_trainer

    def make_trainer(trainer_cfg, fit, max_steps):
        return make(trainer_cfg, dataclasses.replace(fit, callbacks=[*fit.callbacks, callback]), max_steps)

    fitting.make_trainer = make_trainer


def checkpoint_now(trainer):
    """The fit's mid-round checkpoint (and the job's result.json after it) saved at this step, as its timer would."""
    saver = next(c for c in trainer.callbacks if isinstance(c, fitting.MidRoundCheckpoint))
    saver.last = float("-inf")
    saver.on_train_batch_end(trainer, trainer.lightning_module, None, None, 0)


def kill_the_sweep():
    """SIGKILL, as a preemption or a time limit would: nothing runs after it (the basic launcher: one process)."""
    os.kill(os.getpid(), signal.SIGKILL)


def mark(path, text=""):
    """An event the test waits for: ``path`` appears, whole, with ``text``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
'''

_HOOK_RUN = '''
sys.argv = [TRAIN, *sys.argv[1:]]
runpy.run_path(TRAIN, run_name="__main__")
'''


@pytest.fixture
def hooked_train():
    """hooked_train(hook) -> the command line (train.py's arguments follow it) that runs train.py, as
    ``python train.py ...`` does, in a fresh Python where ``hook`` (Python source) has run first.

    A test stops a real sweep at a point it chose (a step of a fit, the oracle's start) this way, instead of
    after a sleep that guesses how long getting there takes on this machine. The hook patches memcap in
    that process only, with the prelude's helpers: ``on_every_fit(callback)`` (a Lightning callback in
    every fit), ``checkpoint_now(trainer)``, ``kill_the_sweep()``, ``mark(path, text)``; ``pl``, ``os``,
    ``signal``, ``time`` and ``Path`` are imported.
    """
    train = str(TRAIN)

    def command(hook: str) -> list[str]:
        source = "\n".join([_HOOK_PRELUDE, textwrap.dedent(hook), f"TRAIN = {train!r}", _HOOK_RUN])
        return [sys.executable, "-c", source]

    return command
