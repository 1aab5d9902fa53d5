"""What a network is made of besides its width, shared by the tasks: activations (with SIREN's initialization)
and masked weights (fixed random connectivity, pruning). The pattern networks (memcap.patterns.models,
memcap.patterns.prune) and the text encoders (memcap.text.models) both build on it, so one mask or one
initialization means the same thing in either task (docs/topology.md, docs/text.md)."""

from memcap.config import ConfigError, positive

ACTIVATIONS = ("sigmoid", "tanh", "relu", "sine")  # model.activation (memcap.topology.activations); no torch here


def check_w0_density(model) -> None:
    """``model.w0`` > 0 and ``model.density`` in (0, 1]: what both tasks require of these keys."""
    positive("model.w0", model.w0)
    if not 0 < model.density <= 1:
        raise ConfigError("model.density", f"must lie in (0, 1], got {model.density}")
