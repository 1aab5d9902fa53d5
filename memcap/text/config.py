"""Structured configs of the text-memory task (issue 5) and the checks Hydra cannot express.

The data settings live in a top-level ``text`` node (``text.length=16`` on the
command line), the architecture in ``model`` (``model.hidden`` is H) and the
neuron search in ``search``. ``validate`` checks ranges and combinations
before any work, with one ConfigError naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from memcap.config import ConfigError, at_least, choice, validate_common

SOURCES = ("random", "stdlib", "file")
ALPHABETS = ("printable", "bytes")
ENCODINGS = ("scalar", "onehot")
ARCHITECTURES = ("rnn", "lstm", "gru", "transformer", "dense", "hybrid")
DECODERS = ("linear", "mlp")
TEXT_SEARCHES = ("neurons", "fixed")
METRICS = ("char", "exact")


@dataclass
class TextConfig:
    source: str = "stdlib"  # random | stdlib | file
    alphabet: str = "printable"  # random only: printable (95 ASCII codes) | bytes (all 256)
    path: Optional[str] = None  # file only: any file, read as bytes 0-255
    length: int = 16  # L: characters per sequence
    count: int = 64  # sequences to memorize (and as many held out)
    encoding: str = "onehot"  # onehot (256 inputs per step) | scalar (1 input: code / 255)


@dataclass
class TextModelConfig:
    name: str = "lstm"
    hidden: int = 64  # H: the encoder's width (search=fixed trains exactly this H)
    layers: int = 1
    heads: int = 1  # transformer and hybrid: attention heads, must divide H
    decoder: str = "linear"  # linear: one readout per position | mlp: a hidden layer first
    decoder_hidden: int = 256  # mlp only: width of its hidden layer
    lr: float = 0.1  # the Adam lr this network trains with; top-level lr overrides


@dataclass
class NeuronSearchConfig:
    name: str = "neurons"
    target: float = 0.99  # the accuracy H must reach on the training sequences
    metric: str = "char"  # char: character accuracy | exact: whole-sequence accuracy
    min_hidden: int = 1
    max_hidden: int = 512
    batch: int = 1  # H candidates per search round (1: least training on a CPU; more: fewer rounds on a GPU)
    max_steps: Optional[int] = 400  # step cap of every network the search trains; null: trainer.max_steps


# Registered by memcap.tasks.register_configs; conf/model/lstm.yaml extends sequence_schema,
# conf/data/text.yaml puts text_schema at the top-level `text` node.
SCHEMAS = {
    ("model", "sequence_schema"): TextModelConfig,
    ("data", "text_schema"): TextConfig,
    ("search", "neurons_schema"): NeuronSearchConfig,
}


# Keys of the pattern task that text jobs do not read, with their defaults (set to anything else: refused).
UNUSED = {"N": 100, "s": 0.1, "DS": None, "steps": None, "data_seed": None, "init_seed": None,
          "loss.name": None, "loss.margin": 1.0, "loss.tau": 10.0, "prune.name": "none",
          "trainer.max_members": 64, "trainer.max_elements": 50_000_000, "trainer.max_padding": 2.0}


def validate(cfg) -> None:
    """Raise ConfigError for the first out-of-range value of a ``data=text`` job.

    Checks what can be checked without reading the source; whether the source
    holds enough distinct sequences is checked by memcap.text.data.make_text.
    """
    validate_common(cfg, UNUSED)
    text, model, search = cfg.text, cfg.model, cfg.search
    if model.name not in ARCHITECTURES:
        raise ConfigError("model", f"{model.name!r} is not a text model; allowed: {', '.join(ARCHITECTURES)}")
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
