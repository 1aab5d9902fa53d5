import itertools
import math

import pytest
import torch

from memcap.patterns.metrics import memorized
from memcap.theory import bits_per_pattern, gardner_alpha, gardner_bound, log2_accepted, log2_binom


def test_gardner_alpha_known_values():
    assert round(gardner_alpha(0.5), 3) == 2.000  # Cover's count
    assert round(gardner_alpha(0.1), 3) == 3.913


def test_gardner_alpha_is_symmetric_and_grows_with_sparsity():
    assert gardner_alpha(0.1) == pytest.approx(gardner_alpha(0.9))
    assert gardner_alpha(0.5) < gardner_alpha(0.2) < gardner_alpha(0.1) < gardner_alpha(0.01)


def test_gardner_alpha_rejects_degenerate_coding():
    with pytest.raises(ValueError):
        gardner_alpha(0.0)


def test_gardner_bound_is_alpha_times_n():
    assert gardner_bound(100, 0.1) == pytest.approx(391.29, abs=0.01)


def test_log2_binom_is_exact():
    assert log2_binom(10, 1) == pytest.approx(math.log2(10))
    assert log2_binom(100, 10) == pytest.approx(math.log2(17310309456440), rel=1e-15)
    assert log2_binom(500, 50) == pytest.approx(
        (math.lgamma(501) - math.lgamma(51) - math.lgamma(451)) / math.log(2), rel=1e-12)


@pytest.mark.parametrize("N, k, bti", [(8, 2, 1), (8, 3, 2), (7, 1, 1), (6, 2, 0)])
def test_log2_accepted_counts_every_output_the_criterion_accepts(N, k, bti):
    """A is the number of the 2^N outputs that memcap.patterns.metrics.memorized takes for one target."""
    target = torch.tensor([1.0] * k + [0.0] * (N - k))
    outputs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=N)))
    accepted = int(memorized(outputs, target.expand_as(outputs), bti).sum())
    assert log2_accepted(N, k, bti) == math.log2(accepted)
    assert bits_per_pattern(N, k, bti) == pytest.approx(math.log2(math.comb(N, k) / accepted), rel=1e-15)


def test_bits_per_pattern_without_tolerance_is_log2_binom():
    for N, k in [(8, 2), (100, 10), (500, 50)]:
        assert log2_accepted(N, k, 0) == 0.0
        assert bits_per_pattern(N, k, 0) == log2_binom(N, k)


def test_bits_per_pattern_is_exact_at_full_size():
    """N=500, k=50, bti=5: A = (sum_{a<=5} C(50, a)) * (sum_{b<=5} C(450, b)), far beyond a float's integers."""
    ones = sum(math.comb(50, a) for a in range(6))
    zeros = sum(math.comb(450, b) for b in range(6))
    assert log2_accepted(500, 50, 5) == pytest.approx(math.log2(ones) + math.log2(zeros), rel=1e-15)
    assert 0 < bits_per_pattern(500, 50, 5) < bits_per_pattern(500, 50, 4) < log2_binom(500, 50)
