"""Data of the two state measures (search=state, search=memorize): a seeded stream of fresh random strings, fixed held-out sets.

Strings are i.i.d. characters of an alphabet (``printable``: the 95 codes
32..126, ``bytes``: all 256), kept as alphabet *indices* 0..|A|-1; the decoder
chooses among the |A| characters, and ``encode`` turns indices into inputs:

- ``onehot``: |A| input neurons per step (95 or 256), one of them 1;
- ``scalar``: one input neuron, the character's byte code / 255 (the proposal's ASCII-to-float).

**State capacity** (``search=state``): every training step draws a fresh batch
from a ``torch.Generator`` seeded by the job's seed. Two fixed sets are drawn
once from ``numpy.random.SeedSequence([seed, 16])``: a *validation* set (its
score stops a fit) and a *held-out* set (its score is the answer), distinct
strings, disjoint from each other. **The stream never yields a string of
either set**: every drawn row is hashed (``string_keys``, exact for
|A|^L < 2^63 and a wrapping polynomial hash above, where equal strings still
have equal keys) and a row whose key is an excluded one is drawn again, so a
scored string is never trained on (a hash collision can only reject a harmless
extra row). The exclusion changes the stream's distribution by removing at most
``MAX_EXCLUDED`` (2 %) of all |A|^L strings: ``validate_sets`` refuses larger sets.

**Memorization** (``search=memorize``): ``count`` stored strings and the
held-out set, drawn together as distinct strings, so no held-out string is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from memcap.config import ConfigError
from memcap.text.data import ALPHABET_CODES, CODES, random_sequences

MAX_EXCLUDED = 0.02  # the held-out + validation strings may be at most this fraction of all |A|^L strings
MAX_STORED = 0.25  # memorization: stored + held-out strings at most this fraction of all strings
SET_STREAM = 16  # the SeedSequence tag of the fixed sets (the stream's generator is seeded apart)


def alphabet_size(text_cfg) -> int:
    return int(ALPHABET_CODES[text_cfg.alphabet].size)


def space_size(text_cfg, length: int | None = None) -> float:
    """|A|^L, the number of distinct strings (a float: it overflows integers only in the comparison's favour)."""
    return float(alphabet_size(text_cfg)) ** (text_cfg.length if length is None else length)


def validate_sets(text_cfg, length: int, stored: int = 0) -> None:
    """Refuse fixed sets the space of length-``length`` strings cannot keep apart from the stream (or the stored set)."""
    space, excluded = space_size(text_cfg, length), text_cfg.heldout + text_cfg.validation
    if stored:
        if stored + text_cfg.heldout > MAX_STORED * space:
            raise ConfigError("search.max_count", f"{stored} stored + {text_cfg.heldout} held-out strings are more than "
                                                  f"{MAX_STORED:.0%} of the {space:,.0f} strings of length {length}: "
                                                  "the held-out set would be a sample of what is stored")
        return
    if excluded > MAX_EXCLUDED * space:
        raise ConfigError("text.heldout", f"{text_cfg.heldout} held-out + {text_cfg.validation} validation strings "
                                          f"are more than {MAX_EXCLUDED:.0%} of the {space:,.0f} strings of length "
                                          f"{length}: they would overlap what the stream draws; use fewer or a larger L")


def string_keys(strings: torch.Tensor, size: int) -> torch.Tensor:
    """One int64 key per string (..., L): sum_i idx_i * size^i, exact below 2^63, a wrapping hash above."""
    length = strings.shape[-1]
    weights = np.ones(length, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(1, length):
            weights[i] = weights[i - 1] * np.uint64(size)
    weights = torch.from_numpy(weights.view(np.int64).copy()).to(strings.device)
    return (strings * weights).sum(-1)


@dataclass
class FixedSets:
    validation: torch.Tensor  # (n_validation, L) alphabet indices: stops a fit
    heldout: torch.Tensor  # (n_heldout, L): the reported score
    stored: torch.Tensor | None = None  # memorization: (max_count, L); a count c stores the first c


def draw_sets(text_cfg, seed: int, length: int, stored: int = 0) -> FixedSets:
    """The fixed sets of a job at string length ``length``, distinct and pairwise disjoint."""
    size = alphabet_size(text_cfg)
    rng = np.random.default_rng(np.random.SeedSequence([seed, SET_STREAM, length]))
    n_val = 0 if stored else text_cfg.validation
    rows = random_sequences(np.arange(size, dtype=np.int64), length, n_val + text_cfg.heldout + stored, rng)
    rows = torch.from_numpy(rows.astype(np.int64))
    return FixedSets(validation=rows[:n_val], heldout=rows[n_val:n_val + text_cfg.heldout],
                     stored=rows[n_val + text_cfg.heldout:] if stored else None)


class Stream:
    """Fresh i.i.d. strings, ``batch`` per step, never one of ``excluded``; the generator's state is checkpointable."""

    def __init__(self, size: int, length: int, batch: int, seed: int, excluded: torch.Tensor):
        self.size, self.length, self.batch = size, length, batch
        self.generator = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, 17, length]).generate_state(1)[0]))
        self.excluded = string_keys(excluded, size).unique()
        self.rejected = 0  # rows drawn again because they were excluded strings (or collided with one)

    def draw(self) -> torch.Tensor:
        rows = torch.randint(0, self.size, (self.batch, self.length), generator=self.generator)
        bad = torch.isin(string_keys(rows, self.size), self.excluded)
        while bad.any():
            self.rejected += int(bad.sum())
            rows[bad] = torch.randint(0, self.size, (int(bad.sum()), self.length), generator=self.generator)
            bad = torch.isin(string_keys(rows, self.size), self.excluded)
        return rows


def encode_indices(indices: torch.Tensor, text_cfg) -> torch.Tensor:
    """Alphabet indices (..., L) -> inputs (..., L, |A|) one-hot, or (..., L, 1) byte code / 255."""
    if text_cfg.encoding == "scalar":
        codes = torch.from_numpy(ALPHABET_CODES[text_cfg.alphabet].astype(np.float32)).to(indices.device)
        return (codes[indices] / (CODES - 1)).unsqueeze(-1)
    return torch.nn.functional.one_hot(indices, alphabet_size(text_cfg)).float()


def input_size(text_cfg) -> int:
    return 1 if text_cfg.encoding == "scalar" else alphabet_size(text_cfg)
