"""The six encoders and the shared decoder: shapes, state sizes, parameter counts, and that they can (not) remember."""

import pytest
import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf

from memcap.text.config import TextModelConfig
from memcap.text.data import encode
from memcap.text.members import STOP_REASONS
from memcap.text.models import ENCODERS, Shape, build_autoencoder, num_parameters
from memcap.text.separability.module import TextMemoryModule, accuracies

ARCHITECTURES = list(ENCODERS)


@pytest.fixture(autouse=True)
def one_thread():
    """As a text job trains on a CPU (memcap.text.config.THREADS): tiny networks run fastest on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def autoencoder(name, hidden, length, encoding="onehot", layers=1, heads=1, decoder="linear", seed=0):
    cfg = OmegaConf.structured(TextModelConfig(name, layers=layers, heads=heads, decoder=decoder, decoder_hidden=16))
    torch.manual_seed(seed)
    return build_autoencoder(cfg, Shape(1 if encoding == "scalar" else 256, length, hidden, layers, heads))


def train(network, codes, steps, lr=0.05):
    """Fit one network with the job's LightningModule until exact recall or ``steps``; (char accuracy, stop reason)."""
    module = TextMemoryModule([network], encode(codes, "onehot"), codes, metric="exact", target=1.0, lr=lr,
                              max_steps=steps, check_every=10, patience=100)
    pl.Trainer(accelerator="cpu", max_steps=steps, logger=False, enable_checkpointing=False, enable_model_summary=False,
               enable_progress_bar=False, num_sanity_val_steps=0, limit_val_batches=0).fit(module)
    with torch.no_grad():
        return accuracies(network(encode(codes, "onehot")), codes)["char"], STOP_REASONS[module.stop[0]]


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("encoding", ["scalar", "onehot"])
def test_shapes(name, encoding):
    network = autoencoder(name, hidden=6, length=5, encoding=encoding, layers=2, heads=2)
    x = encode(torch.randint(0, 256, (3, 5)), encoding)
    assert network.encoder(x).shape == (3, network.encoder.state_size)
    assert network(x).shape == (3, 5, 256)


@pytest.mark.parametrize("name,layers,state", [
    ("rnn", 1, 8), ("gru", 2, 16), ("lstm", 1, 16), ("lstm", 2, 32),  # h (and c) of every layer
    ("transformer", 2, 8), ("dense", 2, 8), ("hybrid", 2, 16),
])
def test_state_size_is_what_the_decoder_reads(name, layers, state):
    network = autoencoder(name, hidden=8, length=4, layers=layers, heads=2)
    assert network.encoder.state_size == state
    assert network.decoder.net.in_features == state


def test_parameter_counts():
    L, H, n = 4, 8, 256
    decoder = H * L * n + L * n
    assert num_parameters(autoencoder("rnn", H, L)) == H * (n + H) + 2 * H + decoder
    assert num_parameters(autoencoder("lstm", H, L)) == 4 * (H * (n + H) + 2 * H) + 2 * H * L * n + L * n
    assert num_parameters(autoencoder("dense", H, L)) == (L * n + 1) * H + decoder
    mlp = autoencoder("rnn", H, L, decoder="mlp")
    assert num_parameters(mlp.decoder) == (H + 1) * 16 + (16 + 1) * L * n


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_the_state_depends_on_the_first_character(name):
    """Whatever reads last, the state after the last character must still see the first."""
    network = autoencoder(name, hidden=8, length=6)
    codes = torch.randint(0, 256, (1, 6))
    other = codes.clone()
    other[0, 0] = (codes[0, 0] + 1) % 256
    with torch.no_grad():
        assert not torch.allclose(network.encoder(encode(codes, "onehot")), network.encoder(encode(other, "onehot")))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_generous_width_reconstructs_short_sequences(name):
    codes = torch.randint(32, 127, (8, 4), generator=torch.Generator().manual_seed(0))
    assert train(autoencoder(name, hidden=32, length=4), codes, steps=150) == (1.0, "target")


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_one_neuron_cannot_hold_long_random_text(name):
    codes = torch.randint(32, 127, (64, 32), generator=torch.Generator().manual_seed(0))
    accuracy, stop = train(autoencoder(name, hidden=1, length=32), codes, steps=100)
    assert accuracy < 0.5 and stop == "cap"
