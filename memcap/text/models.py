"""The six encoders under study and the one decoder they share.

An encoder reads a sequence one character per step, (batch, L, input size), and
returns its *state* after the last character, (batch, state_size): everything
the decoder may use to reconstruct the L characters. ``hidden`` (H) is the
width the neuron search varies; ``state_size`` is what the decoder actually
reads, which differs from H where the architecture keeps more:

    rnn, gru      the final hidden state of every layer             layers * H
    lstm          the final hidden *and* cell state of every layer  2 * layers * H
    transformer   the last position's output vector (d_model = H)   H
    dense         the H-neuron bottleneck (no recurrence)           H
    hybrid        the final state of every layer                    layers * H

``model.activation`` sets the hidden neurons' nonlinearity where an encoder has
one to choose (rnn, dense: ``TAKES_ACTIVATION``; ``sine`` with SIREN's
initialization); the others keep their own (the LSTM's and GRU's sigmoid gates
and tanh candidates, the transformer's ReLU feed-forward, the hybrid's GRU
cell), and memcap.text.config refuses the key there. ``model.density`` < 1
masks every weight matrix of the encoder (memcap.topology.masks); the decoder
stays dense, as the measure's readout.

``build_autoencoder`` assembles encoder + decoder from the config; ``ENCODERS``
maps a ``model=`` name to its class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import torch
from torch import nn
from torch.nn.functional import scaled_dot_product_attention

from memcap.text.config import TAKES_ACTIVATION
from memcap.text.data import CODES
from memcap.topology.activations import Activation, activation, siren_bound
from memcap.topology.masks import effective, mask_matrices, random_matrix_masks


@dataclass(frozen=True)
class Shape:
    """What every encoder is built from (each takes the parts it needs)."""

    input_size: int
    length: int
    hidden: int
    layers: int = 1
    heads: int = 1


class RecurrentEncoder(nn.Module):
    """torch's own recurrent layers; the state is the final (h[, c]) of every layer, flattened."""

    network: type[nn.RNNBase]
    states: int = 1  # tensors in the final state: h, or h and c

    def __init__(self, shape: Shape, **options):
        super().__init__()
        self.net = self.network(shape.input_size, shape.hidden, num_layers=shape.layers, batch_first=True, **options)
        self.state_size = self.states * shape.layers * shape.hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, final = self.net(x)
        final = torch.cat(final) if isinstance(final, tuple) else final  # (states * layers, batch, H)
        return final.transpose(0, 1).flatten(1)


class ElmanEncoder(RecurrentEncoder):
    """nn.RNN's Elman network, h_t = f(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), with f = ``model.activation``.

    tanh and relu run torch's own kernel; sigmoid and sine (which nn.RNN does
    not offer) are unrolled over the L steps on the same parameters, read through
    their masks (``effective``: prune's hook refreshes them only when nn.RNN
    itself runs). For sine the weights get SIREN's ranges: layer 1's input
    weights are the first layer (fan-in: the input size), every other matrix a
    later one (fan-in H).
    """

    network = nn.RNN

    def __init__(self, shape: Shape, activation_name: str = "tanh", w0: float = 30.0):
        native = activation_name in ("tanh", "relu")
        super().__init__(shape, nonlinearity=activation_name if native else "tanh")
        self.function = None if native else activation(activation_name, w0)
        if activation_name == "sine":
            with torch.no_grad():
                for name, weight in self.net.named_parameters():
                    if name.startswith("weight"):
                        first = name == "weight_ih_l0"
                        bound = siren_bound(weight.shape[1], w0, first)
                        weight.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.function is None:
            return super().forward(x)
        finals = []
        for layer in range(self.net.num_layers):
            w_ih, w_hh, b_ih, b_hh = (effective(self.net, f"{kind}_l{layer}")
                                      for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            drive = x @ w_ih.T + (b_ih + b_hh)  # (batch, L, H): the input's part of every step at once
            h = x.new_zeros(x.shape[0], self.net.hidden_size)
            states = []
            for step in drive.unbind(1):
                h = self.function(step + h @ w_hh.T)
                states.append(h)
            x = torch.stack(states, 1)
            finals.append(h)
        return torch.cat(finals, -1)


class LSTMEncoder(RecurrentEncoder):
    network = nn.LSTM
    states = 2


class GRUEncoder(RecurrentEncoder):
    network = nn.GRU


def sinusoid(length: int, width: int) -> torch.Tensor:
    """Vaswani et al.'s fixed positional encoding (length, width); no parameters, any width."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]
    return table


class TransformerStateEncoder(nn.Module):
    """A causal pre-norm transformer of width d_model = H; the state is the last position's output.

    Causal, so the last output is what a streaming reader would hold after the
    last character. Pre-norm, so the residual stream (not a layer norm of it,
    which at d_model = 1 would be a constant) carries the state.
    """

    def __init__(self, shape: Shape):
        super().__init__()
        self.embed = nn.Linear(shape.input_size, shape.hidden)
        self.register_buffer("position", sinusoid(shape.length, shape.hidden), persistent=False)
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(shape.length), persistent=False)
        layer = nn.TransformerEncoderLayer(shape.hidden, shape.heads, dim_feedforward=4 * shape.hidden, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.net = nn.TransformerEncoder(layer, shape.layers, enable_nested_tensor=False)
        self.state_size = shape.hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.embed(x) + self.position, mask=self.causal, is_causal=True)[:, -1]


class DenseEncoder(nn.Module):
    """The whole encoded window at once through ``layers`` layers of H neurons (tanh, or ``model.activation``;
    sine with SIREN's ranges, the first layer's fan-in the window); the state is the last."""

    def __init__(self, shape: Shape, activation_name: str = "tanh", w0: float = 30.0):
        super().__init__()
        widths = [shape.length * shape.input_size] + [shape.hidden] * shape.layers
        self.net = nn.Sequential(*(nn.Sequential(nn.Linear(a, b), Activation(activation_name, w0))
                                   for a, b in pairwise(widths)))
        if activation_name == "sine":
            with torch.no_grad():
                for k, (linear, _) in enumerate(self.net):
                    bound = siren_bound(linear.in_features, w0, first=k == 0)
                    linear.weight.uniform_(-bound, bound)
        self.state_size = shape.hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class HybridLayer(nn.Module):
    """A GRU cell whose input at each step also holds what its previous state attends to among all its past states.

    Multi-head dot-product attention, written out so that each past state is
    projected to its key and value once, not again at every later step
    (nn.MultiheadAttention would re-project the whole past at each step, and
    this loop is the hybrid's whole cost). The initial zero state is the first
    past state, so the first step has something to attend to.
    """

    def __init__(self, input_size: int, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)  # the previous state's query, and its key and value for later steps
        self.out = nn.Linear(hidden, hidden)
        # How much of the attention the cell reads, from 0: the layer starts as a plain GRU and takes in
        # attention as it helps. Without it, the context (alike for every sequence at first) drives the
        # cell into saturation within a few steps and the state stops carrying the input (ReZero's cure).
        self.attention_gain = nn.Parameter(torch.zeros(1))
        self.cell = nn.GRUCell(input_size + hidden, hidden)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, ..., H) -> (batch, heads, ..., H / heads)."""
        return x.unflatten(-1, (self.heads, -1)).movedim(-2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs (batch, L, input size) -> the state after every step (batch, L, H)."""
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        keys, values, states = [], [], []
        for step in x.unbind(1):
            query, key, value = self.qkv(h).chunk(3, -1)
            keys.append(key)
            values.append(value)
            context = scaled_dot_product_attention(
                self._split(query.unsqueeze(1)), self._split(torch.stack(keys, 1)), self._split(torch.stack(values, 1))
            )  # (batch, heads, 1, H / heads)
            context = self.attention_gain * self.out(context.movedim(1, -2).flatten(-2).squeeze(1))
            h = self.cell(torch.cat([step, context], -1), h)
            states.append(h)
        return torch.stack(states, 1)


class HybridEncoder(nn.Module):
    """Stacked hybrid layers (each reads the state sequence of the one below); the state is every layer's last."""

    def __init__(self, shape: Shape):
        super().__init__()
        sizes = [shape.input_size] + [shape.hidden] * (shape.layers - 1)
        self.layers = nn.ModuleList(HybridLayer(size, shape.hidden, shape.heads) for size in sizes)
        self.state_size = shape.layers * shape.hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        finals = []
        for layer in self.layers:
            x = layer(x)
            finals.append(x[:, -1])
        return torch.cat(finals, -1)


ENCODERS: dict[str, type[nn.Module]] = {
    "rnn": ElmanEncoder,
    "lstm": LSTMEncoder,
    "gru": GRUEncoder,
    "transformer": TransformerStateEncoder,
    "dense": DenseEncoder,
    "hybrid": HybridEncoder,
}


class Decoder(nn.Module):
    """State (batch, S) -> logits (batch, L, 256): a linear readout per position, or an MLP with one hidden layer."""

    def __init__(self, kind: str, state_size: int, length: int, hidden: int, classes: int = CODES):
        super().__init__()
        self.length, self.classes = length, classes  # classes: 256 codes, or |alphabet| (the state measures)
        if kind == "linear":
            self.net = nn.Linear(state_size, length * classes)
        else:
            self.net = nn.Sequential(nn.Linear(state_size, hidden), nn.ReLU(), nn.Linear(hidden, length * classes))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net(state).view(state.shape[0], self.length, self.classes)


class TextAutoencoder(nn.Module):
    """Encoder then decoder: inputs (batch, L, input size) -> logits (batch, L, 256)."""

    def __init__(self, encoder: nn.Module, decoder: Decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def num_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def build_autoencoder(model_cfg, shape: Shape, classes: int = CODES) -> TextAutoencoder:
    """The ``model_cfg.name`` encoder of ``shape`` and the configured decoder (current torch RNG initializes them);
    the decoder chooses among ``classes`` per position (256 codes, or the alphabet's characters).

    With ``model_cfg.density`` < 1 the encoder's masks are drawn last, from a generator seeded by the same RNG:
    seeded by the member's initialization, and the weights (kept or not) and the decoder are the dense network's.
    """
    kind = model_cfg.name
    chosen = kind in TAKES_ACTIVATION and model_cfg.activation is not None  # None: the encoder's own (tanh)
    encoder = ENCODERS[kind](shape, model_cfg.activation, model_cfg.w0) if chosen else ENCODERS[kind](shape)
    decoder = Decoder(model_cfg.decoder, encoder.state_size, shape.length, model_cfg.decoder_hidden, classes)
    if model_cfg.density < 1:
        gen = torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))
        mask_matrices(encoder, random_matrix_masks(encoder, model_cfg.density, gen))
    return TextAutoencoder(encoder, decoder)
