"""The bits-to-ignore witness on planted datasets whose answer is known: the tolerance's per-pattern budgets
decide where a neuron's unavoidable wrong bit may go, and a dataset no weights store is never called stored."""

import numpy as np
import pytest
import torch

from memcap.patterns.metrics import memorized
from memcap.patterns.oracle import perfect_recall, tolerant_witness


def twins(targets_p: list[int], targets_q: list[int], N: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Two patterns with the same input (so every neuron gives both the same output) and the given targets,
    beside four patterns with inputs of their own (each neuron can separate those)."""
    X = np.zeros((6, N))
    X[0, :2] = X[1, :2] = 1  # p and q: one input
    for i in range(4):
        X[2 + i, 2 + i % (N - 2)] = 1
    Y = np.zeros((6, N))
    Y[0, :len(targets_p)], Y[1, :len(targets_q)] = targets_p, targets_q
    Y[2:, 3] = 1  # a neuron the others' patterns keep busy
    return X, Y


def recalled(result, X, Y, bti) -> int:
    """The patterns the witness's weights recall, recounted here with the project's criterion."""
    outputs = torch.sigmoid(torch.from_numpy(X).float() @ result.W.T + result.b)
    return int(memorized(outputs, torch.from_numpy(Y).float(), bti).sum())


def test_a_neuron_that_must_err_once_is_stored_within_the_tolerance():
    X, Y = twins([1], [0])  # neuron 0 wants p on and q off: one of them gets a wrong bit, within one's budget
    found = perfect_recall(X, Y)
    assert found.failing == [0]  # not storable exactly
    result = tolerant_witness(found, X, Y, bti=1)
    assert result.memorized == len(X) == recalled(result, X, Y, 1)


def test_two_neurons_that_must_err_place_their_wrong_bits_on_different_patterns():
    """Neurons 0 and 1 both want p on and q off. p has room for one wrong target-1 bit, q for one wrong
    target-0 bit: storable only if one neuron errs on p and the other on q, which the budgets enforce."""
    X, Y = twins([1, 1], [0, 0])
    found = perfect_recall(X, Y)
    assert found.failing == [0, 1]
    result = tolerant_witness(found, X, Y, bti=1)
    assert result.memorized == len(X) == recalled(result, X, Y, 1)
    pre = (torch.from_numpy(X).float() @ result.W.T + result.b)[:2, :2]
    wrong = (pre >= 0).numpy() != (Y[:2, :2] > 0.5)
    assert wrong.sum(0).tolist() == [1, 1] and wrong.sum(1).tolist() == [1, 1]  # one each, on each pattern


def test_a_dataset_no_weights_store_within_the_tolerance_is_never_called_stored():
    """Three neurons want p on and q off: three wrong bits on p and q, where the budgets allow two."""
    X, Y = twins([1, 1, 1], [0, 0, 0])
    found = perfect_recall(X, Y)
    result = tolerant_witness(found, X, Y, bti=1)
    assert result.memorized == len(X) - 1 == recalled(result, X, Y, 1)  # p or q lost, the rest kept
    assert tolerant_witness(found, X, Y, bti=2).memorized == len(X)  # two of each kind: room for all three


def test_the_witness_asks_for_a_complete_check_and_a_tolerance():
    X, Y = twins([1], [0])
    with pytest.raises(ValueError, match="every neuron checked"):
        tolerant_witness(perfect_recall(X, Y, first_failure=True), X, Y, bti=1)  # stopped at neuron 0
    with pytest.raises(ValueError, match="bti >= 1"):
        tolerant_witness(perfect_recall(X, Y), X, Y, bti=0)
