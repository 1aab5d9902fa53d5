"""Text sources and encodings: what the networks are asked to remember."""

import hashlib
import math
import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

from memcap.text.config import TextConfig
from memcap.text.data import decode, encode, make_text, stdlib_text


def text_cfg(**overrides):
    return OmegaConf.structured(TextConfig(**overrides))


@pytest.mark.parametrize("encoding,size", [("scalar", 1), ("onehot", 256)])
def test_encodings_round_trip_every_code(encoding, size):
    codes = torch.arange(256).view(4, 64)
    inputs = encode(codes, encoding)
    assert inputs.shape == (4, 64, size)
    assert torch.equal(decode(inputs, encoding), codes)


def test_scalar_encoding_scales_codes_to_unit_interval():
    inputs = encode(torch.tensor([[0, 255, 51]]), "scalar")
    assert inputs.flatten().tolist() == pytest.approx([0.0, 1.0, 0.2])


def test_stdlib_text_is_large_ascii_english():
    text = stdlib_text()
    assert len(text) >= 100_000
    assert max(text) < 128
    assert b" the " in text and b"  " not in text


def test_stdlib_text_is_the_same_in_a_fresh_interpreter():
    digest = hashlib.sha256(stdlib_text()).hexdigest()
    code = "import hashlib; from memcap.text.data import stdlib_text; print(hashlib.sha256(stdlib_text()).hexdigest())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert fresh == digest


@pytest.mark.parametrize("source", ["random", "stdlib"])
def test_training_and_heldout_sequences_are_distinct_and_disjoint(source):
    data = make_text(text_cfg(source=source, length=6, count=50), seed=3)
    assert data.train.shape == data.heldout.shape == (50, 6)
    rows = {tuple(r) for r in torch.cat([data.train, data.heldout]).tolist()}
    assert len(rows) == 100


def test_same_seed_same_text_other_seed_other_text():
    cfg = text_cfg(source="stdlib", length=12, count=20)
    assert torch.equal(make_text(cfg, 0).train, make_text(cfg, 0).train)
    assert not torch.equal(make_text(cfg, 0).train, make_text(cfg, 1).train)


def test_stdlib_windows_are_cut_from_the_text():
    data = make_text(text_cfg(source="stdlib", length=20, count=5), seed=0)
    for row in data.train.tolist():
        assert bytes(row) in stdlib_text()
    assert 3 < data.bits_per_char < 6  # English letters: about 4.5 bits each, order-0


@pytest.mark.parametrize("alphabet,low,high,size", [("printable", 32, 126, 95), ("bytes", 0, 255, 256)])
def test_random_text_draws_from_its_alphabet(alphabet, low, high, size):
    data = make_text(text_cfg(source="random", alphabet=alphabet, length=32, count=64), seed=0)
    assert low <= int(data.train.min()) and int(data.train.max()) <= high
    assert data.bits_per_char == pytest.approx(math.log2(size))


def test_random_text_can_use_every_distinct_sequence():
    data = make_text(text_cfg(source="random", length=1, count=47), seed=0)  # 94 of the 95 printable characters
    assert len(set(torch.cat([data.train, data.heldout]).flatten().tolist())) == 94


def test_file_source_reads_bytes(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("caf\u00e9 au lait, ".encode() * 10)
    data = make_text(text_cfg(source="file", path=str(path), length=4, count=5), seed=0)
    assert int(data.train.max()) > 127  # the UTF-8 bytes of the accent, as codes
