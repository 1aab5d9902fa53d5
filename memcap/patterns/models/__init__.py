"""Networks, each stored as an ensemble: a leading dimension of independent members.

A single run is an ensemble of one. ``build`` maps a config's ``model`` name to
its class.
"""

from __future__ import annotations

from memcap.patterns.models.network import PatternEnsemble

__all__ = ["PatternEnsemble", "build"]


def build(cfg, seeds: list[int] | None = None) -> PatternEnsemble:
    """The pattern network named by ``cfg.model.name``, one member per seed.

    Without ``seeds``, one member initialized from ``cfg.seed``. ``cfg`` is a validated config: the job
    validated it at its start (memcap.lifecycle.run_job), ``train_members`` without a job does so itself.
    """
    from memcap.patterns.config import model_steps

    model = cfg.model
    return PatternEnsemble(N=cfg.N, steps=model_steps(cfg), seeds=seeds if seeds is not None else [cfg.seed],
                           activation=model.activation, w0=model.w0, density=model.density)
