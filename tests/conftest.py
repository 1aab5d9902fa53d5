"""Shared fixtures: the real Hydra config, composed as train.py composes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from memcap.config import register_configs

ROOT = Path(__file__).resolve().parents[1]
os.environ["WANDB_MODE"] = "disabled"
register_configs()


@pytest.fixture
def make_cfg():
    """compose(overrides) -> the DictConfig train.py would run with."""

    def _compose(*overrides: str):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            return compose(config_name="train", overrides=["logger=none", *overrides])

    return _compose
