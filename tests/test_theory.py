import math

import pytest

from memcap.theory import gardner_alpha, gardner_bound, log2_binom


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
