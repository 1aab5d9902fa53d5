import math

import pytest
import torch

from memcap.patterns.data import make_patterns


@pytest.mark.parametrize("N,DS,s", [(100, 300, 0.1), (50, 500, 0.1), (20, 150, 0.25), (8, 28, 0.25)])
def test_patterns_have_k_ones_and_distinct_rows(N, DS, s):
    X, Y = make_patterns(N, DS, s, seed=3)
    k = round(N * s)
    for M in (X, Y):
        assert M.shape == (DS, N) and M.dtype == torch.float32
        assert set(M.unique().tolist()) <= {0.0, 1.0}
        assert (M.sum(1) == k).all()
        assert len(torch.unique(M, dim=0)) == DS


def test_patterns_are_seeded():
    a = make_patterns(60, 200, 0.1, seed=1)
    b = make_patterns(60, 200, 0.1, seed=1)
    c = make_patterns(60, 200, 0.1, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert not torch.equal(a[0], a[1])  # X and Y are drawn independently


def test_every_position_is_used_uniformly():
    X, _ = make_patterns(50, 20000, 0.1, seed=0)
    freq = X.mean(0)
    assert torch.allclose(freq, torch.full_like(freq, 0.1), atol=0.01)


def test_all_distinct_patterns_can_be_drawn():
    X, _ = make_patterns(8, math.comb(8, 2), 0.25, seed=0)
    assert len(torch.unique(X, dim=0)) == 28


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(N=0, DS=10, s=0.1), "N must be"),
        (dict(N=10, DS=10, s=1.5), "s must"),
        (dict(N=10, DS=10, s=0.01), "0 active bits"),
        (dict(N=10, DS=0, s=0.1), "DS must"),
        (dict(N=10, DS=11, s=0.1), "C\\(10, 1\\) = 10"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_patterns(seed=0, **kwargs)
