"""Each neuron's separability decided by the cheapest proof (rank, a certified PDLP solution, the simplex):
the same verdicts as one plain LP per neuron, and weights that hold every row with margin."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from memcap.patterns.data import make_patterns
from memcap.patterns.oracle import perfect_recall, recalled_by
from memcap.patterns.oracle.separability import DatasetLPs


def plain_lp(X: np.ndarray, y: np.ndarray) -> bool:
    """Feasibility of s_i (x_i·w + b) >= 1 by scipy's linprog: the reference verdict."""
    s = np.where(y > 0.5, 1.0, -1.0)
    A = -sp.diags(s) @ sp.csr_matrix(np.hstack([X, np.ones((len(X), 1))]))
    res = linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(X)), bounds=(None, None),
                  method="highs-ds", options={"presolve": False})
    assert res.status in (0, 2)
    return res.status == 0


@pytest.mark.parametrize("N, DS", [(30, 25), (30, 100), (40, 160)], ids=["rank", "near capacity", "beyond"])
def test_the_verdicts_are_those_of_one_plain_lp_per_neuron(N, DS):
    X, Y = (t.numpy().astype(float) for t in make_patterns(N, DS, 0.1, seed=4))
    found = perfect_recall(X, Y)
    assert found.checked == N and sum(found.by.values()) == N
    assert found.failing == [j for j in range(N) if not plain_lp(X, Y[:, j])]
    margins = np.where(Y > 0.5, 1.0, -1.0) * (X @ found.W.T + found.b)
    separable = np.setdiff1d(np.arange(N), found.failing)
    assert margins[:, separable].min() >= 0.5  # the returned separators hold every row
    if DS <= N:
        assert found.by == {"rank": N}  # no LP at all
    if DS == 160:
        assert found.failing and found.by.get("simplex")  # what PDLP cannot certify, the simplex decides


def test_the_first_failure_stops_the_check_and_says_how_far_it_got():
    X, Y = make_patterns(40, 160, 0.1, seed=4)
    full, first = perfect_recall(X, Y), perfect_recall(X, Y, first_failure=True)
    assert first.failing == full.failing[:1] and first.checked == full.failing[0] + 1
    with pytest.raises(ValueError, match="every neuron"):
        recalled_by(first, X, Y)


@pytest.mark.parametrize("first_failure", [False, True])
def test_threads_deciding_the_neurons_give_one_threads_answer(first_failure):
    """search.solver_workers: the neurons split among threads (each its own HiGHS instances) give the same
    verdicts, neurons checked, steps counted and recalled count as one thread, and the separators they return
    hold every row; stdout is not left parked by instances constructed at once."""
    import os

    stdout = os.fstat(1)
    X, Y = (t.numpy().astype(float) for t in make_patterns(40, 160, 0.1, seed=4))
    one = perfect_recall(X, Y, first_failure=first_failure)
    for workers in (2, 3, 7):
        many = perfect_recall(X, Y, first_failure=first_failure, workers=workers)
        assert (many.ok, many.failing, many.checked, many.by) == (one.ok, one.failing, one.checked, one.by)
        decided = [j for j in range(many.checked) if j not in many.failing]
        margins = np.where(Y > 0.5, 1.0, -1.0) * (X @ many.W.T + many.b)
        assert (margins[:, decided].min() >= 0.5 if decided else True) and not many.W[many.checked:].any()
        if not first_failure:
            assert recalled_by(many, X, Y) == recalled_by(one, X, Y)
    assert one.failing and (one.checked == one.failing[0] + 1 if first_failure else one.checked == 40)
    assert (os.fstat(1).st_dev, os.fstat(1).st_ino) == (stdout.st_dev, stdout.st_ino)  # stdout where it was


def test_a_neuron_made_non_separable_is_the_one_named():
    """Two equal inputs whose targets differ in exactly one bit: only that neuron cannot be separated."""
    X, Y = make_patterns(50, 40, 0.1, seed=1)
    X[1], Y[1] = X[0], Y[0]
    j = int(np.flatnonzero(Y[0].numpy() < 0.5)[0])
    Y[1, j] = 1.0
    found = perfect_recall(X, Y)
    assert found.failing == [j]
    assert recalled_by(found, X, Y) == 39  # one of the two must go, every other pattern is recalled


def test_the_realized_count_is_achieved_and_below_ds_exactly_when_a_neuron_fails():
    X, Y = make_patterns(40, 160, 0.1, seed=4)
    found = perfect_recall(X, Y)
    count = recalled_by(found, X, Y)
    assert 0 < count < 160 and count >= recalled_by(found, X, Y, bti=0)
    assert recalled_by(found, X, Y, bti=1) >= count  # the tolerance never recalls fewer


def test_a_dataset_lp_decides_any_labels_of_its_rows_in_any_order():
    X, Y = (t.numpy().astype(float) for t in make_patterns(30, 100, 0.1, seed=2))
    lps = DatasetLPs(X)
    forward = [lps.decide(Y[:, j])[0] for j in range(30)]
    backward = [lps.decide(Y[:, j])[0] for j in reversed(range(30))]
    assert forward == backward[::-1] == [plain_lp(X, Y[:, j]) for j in range(30)]
