"""Structured configs of the text-memory task and the checks Hydra cannot express.

The data settings live in a top-level ``text`` node (``text.length=16`` on the
command line), the architecture in ``model`` (``model.hidden`` is H) and the
neuron search in ``search``. ``validate`` checks ranges and combinations
before any work, with one ConfigError naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from memcap.config import ConfigError, at_least, choice, validate_common
from memcap.topology import ACTIVATIONS, check_prune, check_w0_density

SOURCES = ("random", "stdlib", "file")
ALPHABETS = ("printable", "bytes")
ENCODINGS = ("scalar", "onehot")
ARCHITECTURES = ("rnn", "lstm", "gru", "transformer", "dense", "hybrid")
TAKES_ACTIVATION = ("rnn", "dense")  # the encoders whose hidden nonlinearity model.activation sets (memcap.text.models)
DECODERS = ("linear", "mlp")
TEXT_SEARCHES = ("neurons", "fixed", "state", "memorize")
STATE_SEARCHES = ("state", "memorize")  # measured on fresh random strings (memcap.text.state)
VARY = ("width", "length")
METRICS = ("char", "exact")


@dataclass
class TextConfig:
    source: str = "stdlib"  # random | stdlib | file
    alphabet: str = "printable"  # random only: printable (95 ASCII codes) | bytes (all 256)
    path: Optional[str] = None  # file only: any file, read as bytes 0-255
    length: int = 16  # L: characters per sequence
    count: int = 64  # sequences to memorize (and as many held out)
    encoding: str = "onehot"  # onehot (256 inputs per step; search=state|memorize: |alphabet|) | scalar (code / 255)
    heldout: int = 1024  # search=state|memorize: held-out strings (never trained on) that score the answer
    validation: int = 256  # search=state: strings (never trained on) whose score stops a fit


@dataclass
class TextModelConfig:
    name: str = "lstm"
    hidden: int = 64  # H: the encoder's width (search=fixed trains exactly this H)
    layers: int = 1
    heads: int = 1  # transformer and hybrid: attention heads, must divide H
    decoder: str = "linear"  # linear: one readout per position | mlp: a hidden layer first
    decoder_hidden: int = 256  # mlp only: width of its hidden layer
    lr: float = 0.1  # the Adam lr this network trains with; top-level lr overrides
    # rnn, dense: the hidden neurons' nonlinearity, sigmoid | tanh | relu | sine (SIREN); their yaml says tanh.
    # The other encoders keep their own (gates, feed-forward): null, and anything else is refused.
    activation: Optional[str] = None
    w0: float = 30.0  # activation=sine: SIREN's frequency
    density: float = 1.0  # < 1: a fixed random mask keeps this fraction of every encoder weight matrix


@dataclass
class NeuronSearchConfig:
    name: str = "neurons"
    target: float = 0.99  # the accuracy H must reach on the training sequences
    metric: str = "char"  # char: character accuracy | exact: whole-sequence accuracy
    min_hidden: int = 1
    max_hidden: int = 512
    batch: int = 1  # H candidates per search round (1: least training on a CPU; more: fewer rounds on a GPU)
    max_steps: Optional[int] = 400  # step cap of every network the search trains; null: trainer.max_steps


@dataclass
class StateSearchConfig:
    """search=state: how many characters the encoder's final state carries, on a stream of fresh strings."""

    name: str = "state"
    vary: str = "width"  # width: the smallest state width at text.length | length: the largest L at model.hidden
    target: float = 0.99  # held-out character accuracy to reach
    min_hidden: int = 2  # vary=width: the width grid, about sqrt(2) apart (multiples of model.heads)
    max_hidden: int = 256
    refine: bool = False  # vary=width: then bisect every width (multiple of heads) between the grid's answer and the width below
    max_length: int = 64  # vary=length: the longest L tried
    lrs: list[float] = field(default_factory=lambda: [0.003, 0.01])  # Adam lrs tried at every width (best taken)
    batch: int = 128  # fresh strings per step
    max_steps: int = 4000  # step cap per network
    settle_factor: int = 0  # vary=width: the deciding width below the answer, where a network hit the cap, trained again for this x max_steps (0: never)
    check_every: int = 100  # steps between validation checks
    patience: int = 5  # checks without improvement (plateau) before a network stops
    min_delta: float = 0.002  # an improvement: validation char accuracy up by more than this (or loss down 1 %)
    analyse: bool = True  # per-position accuracy, ablation per state number, participation ratio


@dataclass
class MemorizeSearchConfig:
    """search=memorize: the most random strings a network of width model.hidden reconstructs."""

    name: str = "memorize"
    target: float = 0.99  # character accuracy on the stored strings
    min_count: int = 16  # the count search gallops x2 from here, then bisects
    max_count: int = 16384
    resolution: float = 0.0625  # bisection stops when the bracket is narrower than this fraction of the count
    freeze_encoder: bool = False  # true: the encoder stays at its initialization, only the decoder trains
    lrs: list[float] = field(default_factory=lambda: [0.01])
    max_steps: int = 3000  # full-batch Adam steps per network
    settle_factor: int = 0  # the smallest count above the answer, where a network hit the cap, trained again for this x max_steps (0: never)
    check_every: int = 50
    patience: int = 6
    min_delta: float = 0.001


# Registered by memcap.configs.register_configs; conf/model/lstm.yaml extends sequence_schema,
# conf/data/text.yaml puts text_schema at the top-level `text` node.
SCHEMAS = {
    ("model", "sequence_schema"): TextModelConfig,
    ("data", "text_schema"): TextConfig,
    ("search", "neurons_schema"): NeuronSearchConfig,
    ("search", "state_schema"): StateSearchConfig,
    ("search", "memorize_schema"): MemorizeSearchConfig,
}


# torch threads a text job takes when neither trainer.threads nor the launcher says (memcap.cpu.job_threads): its
# networks are so small that every op is a few microseconds of work, and splitting it across threads costs more in
# synchronisation than it saves (many times more on a busy machine).
THREADS = 1

# Keys of the pattern task that text jobs do not read, with their defaults (set to anything else: refused).
UNUSED = {"N": 100, "s": 0.1, "DS": None, "steps": None, "data_seed": None, "init_seed": None,
          "loss.name": None, "loss.margin": 1.0, "loss.tau": 10.0,
          "trainer.max_members": 64, "trainer.max_elements": 50_000_000, "trainer.max_padding": 2.0,
          "trainer.patience_fraction": 0.0, "trainer.plateau_before_first_pattern": True}


def validate(cfg) -> None:
    """Raise ConfigError for the first out-of-range value of a ``data=text`` job.

    Checks what can be checked without reading the source; whether the source
    holds enough distinct sequences is checked by memcap.text.data.make_text.
    """
    validate_prune(cfg)
    validate_common(cfg, UNUSED)
    text, model, search = cfg.text, cfg.model, cfg.search
    if model.name not in ARCHITECTURES:
        raise ConfigError("model", f"{model.name!r} is not a text model; allowed: {', '.join(ARCHITECTURES)}")
    validate_topology(model)
    if search.name not in TEXT_SEARCHES:
        raise ConfigError("search", f"{search.name!r} does not apply to data=text; allowed: neurons (the smallest H), "
                                    "fixed (train model.hidden)")
    choice("text.source", text.source, SOURCES)
    choice("text.alphabet", text.alphabet, ALPHABETS)
    choice("text.encoding", text.encoding, ENCODINGS)
    choice("model.decoder", model.decoder, DECODERS)
    if text.source == "file" and not text.path:
        raise ConfigError("text.path", "text.source=file needs a path, e.g. text.path=README.md")
    at_least("text.length", text.length)
    at_least("text.count", text.count)
    at_least("model.hidden", model.hidden)
    at_least("model.layers", model.layers)
    at_least("model.heads", model.heads)
    at_least("model.decoder_hidden", model.decoder_hidden)
    if search.name == "fixed":
        check_heads(model, model.hidden)
        return
    if search.name in STATE_SEARCHES:
        validate_state(cfg)
        return
    choice("search.metric", search.metric, METRICS)
    if not 0 < search.target <= 1:
        raise ConfigError("search.target", f"must lie in (0, 1], got {search.target}")
    at_least("search.min_hidden", search.min_hidden)
    at_least("search.batch", search.batch)
    if search.max_steps is not None:
        at_least("search.max_steps", search.max_steps)
    if search.max_hidden < search.min_hidden:
        raise ConfigError("search.max_hidden",
                          f"must be at least search.min_hidden={search.min_hidden}, got {search.max_hidden}")
    if not hidden_grid(model, search.min_hidden, search.max_hidden):
        raise ConfigError("search.max_hidden", f"no H in [{search.min_hidden}, {search.max_hidden}] "
                                               f"is a multiple of model.heads={model.heads}")


def validate_prune(cfg) -> None:
    """prune=lottery|random on text: the state measure's rounds at one width and one L (memcap.text.state.prune)."""
    pruning = cfg.prune
    check_prune(pruning)
    if pruning.name == "none":
        return
    if cfg.search.name != "state" or cfg.search.vary != "width":
        raise ConfigError("prune", f"prune={pruning.name} on data=text runs on the state measure at one width and "
                                   f"one L (model.hidden, text.length): set search=state and leave search.vary=width "
                                   f"(got search={cfg.search.name}"
                                   f"{', vary=' + str(cfg.search.vary) if cfg.search.name == 'state' else ''})")
    if pruning.rewind_step != 0:
        raise ConfigError("prune.rewind_step", f"text pruning rewinds to the initialization (0); rewinding to step "
                                               f"{pruning.rewind_step} is implemented for data=patterns only")


def validate_topology(model) -> None:
    """model.activation only where an encoder has a hidden nonlinearity to choose (memcap.text.models), w0, density."""
    if model.name in TAKES_ACTIVATION:
        choice("model.activation", model.activation, ACTIVATIONS)
    elif model.activation is not None:
        raise ConfigError("model.activation", f"model={model.name} keeps its own nonlinearities (lstm, gru, hybrid: "
                                              f"sigmoid gates and a tanh candidate; transformer: a ReLU feed-forward); "
                                              f"it applies to {' and '.join(TAKES_ACTIVATION)} only, leave it null "
                                              f"(got {model.activation!r})")
    check_w0_density(model)


def topology_config(model) -> dict:
    """result.json's flat config keys of the encoder's topology (w0 only where a sine reads it)."""
    return {"activation": model.activation, "w0": model.w0 if model.activation == "sine" else None,
            "density": model.density}


def validate_state(cfg) -> None:
    """The checks of search=state and search=memorize (one ConfigError naming the key)."""
    from memcap.text.state.stream import validate_sets  # torch: only for these searches

    text, model, search = cfg.text, cfg.model, cfg.search
    if text.source != "random":
        raise ConfigError("text.source", f"search={search.name} measures i.i.d. random strings; set text.source=random "
                                         f"(got {text.source!r})")
    if not 0 < search.target <= 1:
        raise ConfigError("search.target", f"must lie in (0, 1], got {search.target}")
    at_least("text.heldout", text.heldout)
    if not search.lrs:
        raise ConfigError("search.lrs", "needs at least one learning rate")
    for lr in search.lrs:
        if not (lr > 0 and lr < float("inf")):
            raise ConfigError("search.lrs", f"every lr must be a finite positive number, got {lr}")
    for key in ("max_steps", "check_every", "patience"):
        at_least(f"search.{key}", getattr(search, key))
    at_least("search.settle_factor", search.settle_factor, 0)
    if search.name == "memorize":
        check_heads(model, model.hidden)
        at_least("search.min_count", search.min_count)
        if search.max_count < search.min_count:
            raise ConfigError("search.max_count", f"must be at least search.min_count={search.min_count}, "
                                                  f"got {search.max_count}")
        validate_sets(text, text.length, stored=search.max_count)
        return
    choice("search.vary", search.vary, VARY)
    at_least("text.validation", text.validation)
    at_least("search.batch", search.batch)
    if cfg.prune.name != "none":  # memcap.text.state.prune trains model.hidden: no width grid
        check_heads(model, model.hidden)
        return
    if search.vary == "length":
        check_heads(model, model.hidden)
        at_least("search.max_length", search.max_length)
        floor = length_floor(text)
        if search.max_length < floor:
            raise ConfigError("search.max_length", f"{search.max_length} is below L={floor}, the shortest length whose "
                                                   f"strings keep text.heldout + text.validation apart from the stream")
        return
    at_least("search.min_hidden", search.min_hidden)
    if search.max_hidden < search.min_hidden:
        raise ConfigError("search.max_hidden", f"must be at least search.min_hidden={search.min_hidden}, "
                                               f"got {search.max_hidden}")
    if not width_grid(model, search.min_hidden, search.max_hidden):
        raise ConfigError("search.max_hidden", f"no width in [{search.min_hidden}, {search.max_hidden}] "
                                               f"is a multiple of model.heads={model.heads}")
    validate_sets(text, text.length)


def length_floor(text) -> int:
    """The shortest L whose strings can keep the held-out and validation sets apart from the stream."""
    from memcap.text.state.stream import MAX_EXCLUDED, space_size

    length = 1
    while (text.heldout + text.validation) > MAX_EXCLUDED * space_size(text, length):
        length += 1
    return length


def width_grid(model, low: int, high: int) -> list[int]:
    """Widths in [low, high] about sqrt(2) apart (low, then round(low * 2^(k/2)), rounded up to multiples of heads)."""
    step = model.heads if uses_heads(model) else 1
    widths, k = set(), 0
    while True:
        w = -(-round(low * 2 ** (k / 2)) // step) * step
        if w > high:
            break
        widths.add(w)
        k += 1
    return sorted(widths)


def uses_heads(model) -> bool:
    return model.name in ("transformer", "hybrid")


def check_heads(model, hidden: int) -> None:
    if uses_heads(model) and hidden % model.heads:
        raise ConfigError("model.heads", f"{model.heads} heads do not divide model.hidden={hidden}")


def hidden_grid(model, low: int, high: int) -> list[int]:
    """The widths H in [low, high] the architecture can take (multiples of heads where it attends)."""
    step = model.heads if uses_heads(model) else 1
    return list(range(-(-low // step) * step, high + 1, step))


def step_cap(cfg) -> int:
    """The step cap per network: the neuron search's own budget, else trainer.max_steps."""
    if cfg.search.name == "neurons" and cfg.search.max_steps is not None:
        return cfg.search.max_steps
    return cfg.trainer.max_steps
