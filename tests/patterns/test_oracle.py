"""The LP oracle against references that do not use linear programming."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from memcap.patterns.data import make_patterns
from memcap.patterns.metrics import memorized
from memcap.patterns.oracle import lp_memorized, perfect_recall, separable


def cube(n: int) -> np.ndarray:
    """All 2^n binary vectors of length n, one per row."""
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=float)


def perceptron_converges(X: np.ndarray, labelings: np.ndarray, epochs: int) -> np.ndarray:
    """Run the perceptron (with bias) on every labeling at once; True where it converged.

    A converged perceptron is a strict separator, so True proves separability,
    and on non-separable data it can never converge. On separable data it makes
    at most (R/γ)² mistakes (Novikoff), so enough epochs find a separator.
    """
    Xb = np.hstack([X, np.ones((len(X), 1))])
    sign = 2 * labelings - 1
    w = np.zeros((len(labelings), Xb.shape[1]))
    for _ in range(epochs):
        mistakes = np.zeros(len(labelings), dtype=bool)
        for i, x in enumerate(Xb):
            wrong = sign[:, i] * (w @ x) <= 0
            w[wrong] += sign[wrong, i, None] * x
            mistakes |= wrong
        if not mistakes.any():
            break
    return ~mistakes


@pytest.mark.parametrize("n, count", [(1, 4), (2, 14), (3, 104)])
def test_counts_the_linearly_separable_boolean_functions(n, count):
    # Threshold functions of n binary inputs: 4, 14 and 104 of 2^(2^n).
    X = cube(n)
    assert sum(separable(X, y) for y in cube(2**n)) == count


def test_xor_is_not_separable_and_and_is():
    X = cube(2)
    assert not separable(X, [0, 1, 1, 0])
    assert not separable(X, [1, 0, 0, 1])
    assert separable(torch.tensor(X), torch.tensor([0.0, 0, 0, 1]))


@pytest.mark.parametrize("N, P, seed", [(4, 8, 0), (6, 10, 1), (8, 10, 2)])
def test_agrees_with_the_perceptron_on_every_labeling(N, P, seed):
    rng = np.random.default_rng(seed)
    X = cube(N)[rng.choice(2**N, size=P, replace=False)]
    labelings = cube(P)
    expected = perceptron_converges(X, labelings, epochs=2000)
    got = np.array([separable(X, y) for y in labelings])
    assert 0 < got.sum() < len(labelings)  # both answers occur: the comparison is not vacuous
    np.testing.assert_array_equal(got, expected)


def test_counts_dichotomies_of_points_in_general_position():
    # Cover (1965): P points in general position in R^N have 2 * sum_{k<=N} C(P-1, k)
    # dichotomies separable by an affine hyperplane.
    P, N = 8, 3
    X = np.random.default_rng(0).standard_normal((P, N))
    count = sum(separable(X, y) for y in cube(P))
    assert count == 2 * sum(math.comb(P - 1, k) for k in range(N + 1))


def planted(N_in: int, N_out: int, DS: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse inputs labeled by a random one-layer teacher, so every column is separable."""
    X, _ = make_patterns(N_in, DS, 0.1, seed)
    gen = torch.Generator().manual_seed(seed)
    W, b = torch.randn(N_out, N_in, generator=gen), torch.randn(N_out, generator=gen)
    return X, (X @ W.T + b >= 0).float()


def test_planted_teacher_is_stored_exactly():
    X, Y = planted(N_in=40, N_out=7, DS=200, seed=3)
    assert perfect_recall(X, Y).ok
    result = lp_memorized(X, Y, progress=False)
    assert result.memorized == 200
    assert result.W.shape == (7, 40) and result.b.shape == (7,)


def contradictory(N: int, DS: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Patterns whose first two inputs are equal and whose targets differ."""
    X, Y = make_patterns(N, DS, 0.1, seed)
    X[1] = X[0]
    return X, Y


def test_contradictory_patterns_are_not_separable():
    X, Y = contradictory(N=50, DS=40, seed=0)  # DS < N: otherwise every column is separable
    differ = torch.nonzero(Y[0] != Y[1]).flatten().tolist()
    recall = perfect_recall(X, Y)
    assert not recall.ok
    assert recall.failing == differ


def test_contradictory_patterns_are_never_both_memorized():
    X, Y = contradictory(N=50, DS=100, seed=0)
    result = lp_memorized(X, Y, progress=False)
    assert not (result.mask[0] and result.mask[1])
    assert result.memorized <= 99


def assert_consistent(result, X, Y, bti):
    """``memorized`` and ``mask`` are what the returned weights recall, and at most DS."""
    outputs = torch.sigmoid(X @ result.W.T + result.b)
    mask = memorized(outputs, Y, bti)
    assert torch.equal(result.mask, mask)
    assert result.memorized == int(mask.sum()) <= len(X)


@pytest.mark.parametrize("N, DS, bti", [(100, 300, 0), (100, 300, 1), (20, 120, 0), (20, 120, 1)])
def test_count_is_achieved_by_the_returned_weights(N, DS, bti):
    X, Y = make_patterns(N, DS, 0.1, seed=2)
    result = lp_memorized(X, Y, bti=bti, progress=False)
    assert_consistent(result, X, Y, bti)
    if N == 20:  # 6N patterns, far beyond capacity: the greedy removal must do the work
        assert 0 < result.memorized < DS


def test_stores_everything_well_under_capacity():
    X, Y = make_patterns(50, 100, 0.1, seed=0)
    assert perfect_recall(X, Y).ok
    assert lp_memorized(X, Y, progress=False).memorized == 100


def test_matches_the_known_capacity_at_n100():
    # About 298 of 300 on average, and all 300 on one of three datasets.
    counts = [lp_memorized(*make_patterns(100, 300, 0.1, seed), progress=False).memorized for seed in range(3)]
    assert np.mean(counts) >= 297 and max(counts) == 300


@pytest.mark.slow
def test_matches_the_known_capacity_at_n200():
    X, Y = make_patterns(200, 700, 0.1, seed=0)
    result = lp_memorized(X, Y, progress=False)
    assert_consistent(result, X, Y, 0)
    assert result.memorized >= 677


def test_without_greedy_removal_the_count_is_the_plain_hinge_optimum():
    """Far above capacity the removal is what stores most patterns; the plain optimum is consistent too."""
    X, Y = make_patterns(20, 120, 0.1, seed=2)
    plain = lp_memorized(X, Y, progress=False, greedy=False)
    assert_consistent(plain, X, Y, 0)
    assert plain.memorized < lp_memorized(X, Y, progress=False).memorized


def test_a_long_heuristic_reports_its_progress_to_the_log(caplog):
    """Without a terminal (a sweep's train.log) the greedy LPs say where they are; the answer is the same."""
    X, Y = make_patterns(20, 120, 0.1, seed=2)
    with caplog.at_level("INFO", logger="memcap"):
        logged = lp_memorized(X, Y, bti=1, progress=False, log_every=0)
    lines = [r.getMessage() for r in caplog.records if "oracle: hinge LPs" in r.getMessage()]
    assert lines[0].startswith("  oracle: hinge LPs, round 1: neuron 1/20, 0 patterns dropped, 0 bits waived")
    assert any("round 2:" in line for line in lines)
    quiet = lp_memorized(X, Y, bti=1, progress=False)
    assert logged.memorized == quiet.memorized and torch.equal(logged.W, quiet.W)


def test_a_warm_resolve_reaches_the_cold_optimum_of_the_smaller_lp(capfd):
    """The greedy re-solves from each neuron's last basis with dropped bits' slacks out of the cost: the
    optimum (total hinge slack) must equal that of a cold LP without those constraints, drop after drop."""
    import scipy.sparse as sp

    from memcap.patterns.oracle.lp import _margin_lp, _WarmHingeLPs
    X, Y = make_patterns(40, 240, 0.1, seed=4)  # 6N patterns: far beyond what a column separates
    Xs, sign = sp.csr_matrix(X.numpy().astype(float)), 2.0 * Y.numpy() - 1
    lps = _WarmHingeLPs(Xs, sign)
    assert capfd.readouterr().out == ""  # HiGHS's banner is kept off stdout
    j = int(np.argmax([_margin_lp(Xs, sign[:, k], hinge=True).fun for k in range(40)]))  # the most slack
    enforced, solved = np.ones(240, dtype=bool), 0
    for _ in range(6):
        x = lps.solve(j, enforced)
        slack = np.where(enforced, np.maximum(1 - sign[:, j] * (Xs @ x[:40] + x[40]), 0), 0)
        rows = np.flatnonzero(enforced)
        cold = _margin_lp(Xs[rows], sign[rows, j], hinge=True)
        assert slack.sum() == pytest.approx(cold.fun, rel=1e-6, abs=1e-6)
        solved += cold.fun > 1e-6
        if cold.fun <= 1e-6:
            break
        enforced[np.argmax(slack)] = False  # the greedy's move: the worst bit leaves the LP
    assert solved >= 2  # the warm path was exercised on an LP with slack
    assert j in lps.bases
