"""The recurrent network's last step solved by LPs (memcap.patterns.oracle.last_step)."""

import pytest
import torch

from memcap.patterns.metrics import memorized
from memcap.patterns.models import PatternEnsemble
from memcap.patterns.oracle.last_step import certify


def _planted(N: int = 12, DS: int = 60, seed: int = 0):
    """A 2-step network, patterns, and targets that a hidden R stores with margin 1 in every bit; the network
    gets another R, so as built it recalls few of them."""
    gen = torch.Generator().manual_seed(seed)
    network = PatternEnsemble(N=N, steps=2, seeds=[seed])
    X = (torch.rand(DS, N, generator=gen) < 0.3).float()
    with torch.no_grad():
        drive = X @ network.W[0].T + network.b[0]
        hidden = 20 * torch.randn(N, N, generator=gen).fill_diagonal_(0.0)
        a = drive + torch.sigmoid(drive) @ hidden.T
        keep = (a.abs() >= 1).all(1)  # every bit right by the margin under the hidden R
        Y = (a[keep] >= 0).float()
    return network, X[keep], Y


def test_rows_that_store_every_pattern_are_found():
    network, X, Y = _planted()
    result = certify(network, 0, X, Y)
    assert len(X) >= 10
    assert result.trained < len(X)  # the network's own R does not store them
    assert result.count == len(X) and result.whole_neurons == network.N
    assert torch.all(result.R.diagonal() == 0)
    with torch.no_grad():  # the rows really do it, in the network's own forward pass
        network.R[0] = result.R
        assert bool(memorized(torch.sigmoid(network(X.unsqueeze(0))[0]), Y).all())


def test_a_pattern_no_row_can_recall_is_given_up_and_the_rest_counted():
    """A duplicated input with a flipped target bit: no weights recall both copies, so one neuron's LP keeps
    slack and the count is at most DS - 1."""
    network, X, Y = _planted()
    X2, Y2 = torch.cat([X, X[:1]]), torch.cat([Y, Y[:1]])
    Y2[-1, 0] = 1 - Y2[-1, 0]
    result = certify(network, 0, X2, Y2)
    assert result.whole_neurons == network.N - 1
    assert len(X2) - 2 <= result.count <= len(X2) - 1


@pytest.mark.parametrize("steps", [1, 3])
def test_only_two_time_steps_are_linear_in_R(steps):
    network = PatternEnsemble(N=6, steps=steps, seeds=[0])
    with pytest.raises(ValueError, match="only at 2 time steps"):
        certify(network, 0, torch.zeros(4, 6), torch.zeros(4, 6))


def test_a_masked_network_is_refused():
    network = PatternEnsemble(N=6, steps=2, seeds=[0], density=0.5)
    with pytest.raises(ValueError, match="masked network"):
        certify(network, 0, torch.zeros(4, 6), torch.zeros(4, 6))


def test_numerical_difficulties_try_highs_other_solvers(monkeypatch):
    """HiGHS's default choice may report numerical difficulties on large trained weights: the interior point
    and the dual simplex are tried before the LP is given up; any other failure is not retried."""
    from scipy.optimize import linprog

    from memcap.patterns.oracle import last_step

    network, X, Y = _planted()
    tried = []

    def difficult_default(*args, method, **kwargs):
        tried.append(method)
        result = linprog(*args, method=method, **kwargs)
        if method == "highs":
            result.status, result.message = 4, "numerical difficulties"
        return result

    monkeypatch.setattr(last_step, "linprog", difficult_default)
    assert certify(network, 0, X, Y).count == len(X)
    assert tried[:2] == ["highs", "highs-ipm"] and "highs-ds" not in tried

    def infeasible(*args, method, **kwargs):
        tried.append(method)
        result = linprog(*args, method=method, **kwargs)
        result.status, result.message = 2, "infeasible"
        return result

    tried.clear()
    monkeypatch.setattr(last_step, "linprog", infeasible)
    with pytest.raises(RuntimeError, match="status 2"):
        certify(network, 0, X, Y)
    assert tried == ["highs"]
