import pytest
import torch

from memcap.fitting import Fit, make_trainer
from memcap.patterns.engine import build_module
from memcap.patterns.models import PatternEnsemble, build


@pytest.mark.parametrize("N", [10, 50, 100])
def test_parameter_counts_follow_the_report(make_cfg, N):
    simple = build(make_cfg(f"N={N}"))
    recurrent = build(make_cfg(f"N={N}", "model=recurrent", "steps=3"))
    assert simple.num_parameters() == N * N + N  # eq. 4
    assert recurrent.num_parameters() == 2 * N * N  # eq. 5
    # The count is what the tensors hold, less the recurrent diagonal held at zero.
    stored = sum(p[0].numel() for p in recurrent.parameters())
    assert recurrent.num_parameters() == stored - N


def test_members_are_initialized_independently_of_companions():
    alone = PatternEnsemble(20, 2, [7])
    crowd = PatternEnsemble(20, 2, [3, 7, 9])
    for a, c in zip(alone.parameters(), crowd.parameters()):
        assert torch.equal(a[0], c[1])


def test_recurrent_forward_is_the_reports_recurrence():
    model = PatternEnsemble(6, 3, [0])
    X = torch.rand(1, 4, 6)
    W, b, R = model.W[0], model.b[0], model.R[0]
    drive = X[0] @ W.T + b
    z = torch.sigmoid(drive)
    for _ in range(2):
        a = drive + z @ R.T
        z = torch.sigmoid(a)
    assert torch.allclose(model(X)[0], a, atol=1e-6)


def test_recurrent_diagonal_stays_zero_after_training(make_cfg):
    cfg = make_cfg("N=20", "model=recurrent", "steps=2", "trainer.max_steps=60", "lr=0.05")
    module = build_module(cfg, [(40, 0), (60, 1)])
    before = module.model.R.detach().clone()
    make_trainer(cfg.trainer, Fit(), 60).fit(module)
    R = module.model.R.detach()
    assert not torch.equal(R, before)  # it trained
    assert torch.equal(torch.diagonal(R, dim1=1, dim2=2), torch.zeros(2, 20))
