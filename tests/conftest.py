"""Shared fixtures: the real Hydra config, composed as train.py composes it."""

from __future__ import annotations

import os

import pytest

from memcap.tasks import compose

os.environ["WANDB_MODE"] = "disabled"


@pytest.fixture
def make_cfg():
    """make_cfg(*overrides) -> the DictConfig train.py would run with (logger=none unless overridden)."""
    return lambda *overrides: compose("logger=none", *overrides)
