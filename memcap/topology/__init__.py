"""What a network is made of besides its width, shared by the tasks: activations (with SIREN's initialization)
and masked weights (fixed random connectivity, pruning). The pattern networks (memcap.patterns.models,
memcap.patterns.prune) and the text encoders (memcap.text.models) both build on it, so one mask or one
initialization means the same thing in either task (docs/topology.md, docs/text.md)."""

from memcap.config import ConfigError, at_least, choice, positive

ACTIVATIONS = ("sigmoid", "tanh", "relu", "sine")  # model.activation (memcap.topology.activations); no torch here
PRUNINGS = ("none", "lottery", "random")  # prune= (memcap.patterns.prune, memcap.text.state.prune)


def check_w0_density(model) -> None:
    """``model.w0`` > 0 and ``model.density`` in (0, 1]: what both tasks require of these keys."""
    positive("model.w0", model.w0)
    if not 0 < model.density <= 1:
        raise ConfigError("model.density", f"must lie in (0, 1], got {model.density}")


def check_prune(pruning) -> None:
    """The ``prune`` group's keys, as both tasks read them."""
    choice("prune", pruning.name, PRUNINGS)
    if not 0 < pruning.rate < 1:
        raise ConfigError("prune.rate", f"must lie in (0, 1), got {pruning.rate}")
    at_least("prune.rounds", pruning.rounds)
    at_least("prune.rewind_step", pruning.rewind_step, 0)
    if pruning.target is not None and not 0 < pruning.target <= 1:
        raise ConfigError("prune.target", f"must lie in (0, 1] (or null: every round), got {pruning.target}")
