"""The report's bce_ignore loss and criterion against slow, obviously correct references."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from memcap.patterns.losses import ensemble_loss
from memcap.patterns.metrics import memorized
from memcap.patterns.sizes import bits_to_ignore, tolerance


def reference_bce_ignore(logits, targets, bti):
    """Loop over patterns; zero the bti worst losses among 1-targets and among 0-targets."""
    out = torch.zeros(logits.shape[:-1])
    for idx in itertools.product(*[range(n) for n in logits.shape[:-1]]):
        loss = F.binary_cross_entropy_with_logits(logits[idx], targets[idx], reduction="none").tolist()
        for group in (1.0, 0.0):
            bits = [i for i, t in enumerate(targets[idx].tolist()) if t == group]
            for i in sorted(bits, key=lambda i: loss[i], reverse=True)[:bti]:
                loss[i] = 0.0
        out[idx] = sum(loss)
    return out


def reference_memorized(outputs, targets, bti):
    result = []
    for o, t in zip(outputs.reshape(-1, outputs.shape[-1]).tolist(), targets.reshape(-1, targets.shape[-1]).tolist()):
        wrong_on = sum(1 for a, b in zip(o, t) if b == 1 and a < 0.5)
        wrong_off = sum(1 for a, b in zip(o, t) if b == 0 and a >= 0.5)
        result.append(wrong_on <= bti and wrong_off <= bti)
    return torch.tensor(result).reshape(outputs.shape[:-1])


def test_bits_to_ignore_is_the_reports_formula():
    assert bits_to_ignore(100, 0.1) == 1
    assert bits_to_ignore(50, 0.1) == 0  # the report: "for all smaller N #bti is zero"
    assert bits_to_ignore(500, 0.1) == 5


def test_only_bce_ignore_tolerates_wrong_bits():
    assert tolerance("bce_ignore", 500, 0.1) == 5
    assert [tolerance(loss, 500, 0.1) for loss in ("bce", "hinge", "log_hinge")] == [0, 0, 0]


@pytest.mark.parametrize("bti", [0, 1, 2, 3])
def test_bce_ignore_matches_reference(bti):
    gen = torch.Generator().manual_seed(bti)
    logits = torch.randn(3, 7, 40, generator=gen) * 3
    targets = (torch.rand(3, 7, 40, generator=gen) < 0.2).float()
    weight = torch.ones(3, 7)
    expected = reference_bce_ignore(logits, targets, bti).sum(-1) / (7 * 40)
    got = ensemble_loss("bce_ignore" if bti else "bce", logits, targets, weight, bti)
    assert torch.allclose(got, expected, atol=1e-5)


def test_padding_rows_do_not_count():
    gen = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(2, 5, 10, generator=gen), (torch.rand(2, 5, 10, generator=gen) < 0.3).float()
    weight = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).float()
    got = ensemble_loss("bce", logits, targets, weight, 0)
    alone = F.binary_cross_entropy_with_logits(logits[0, :3], targets[0, :3])
    assert torch.allclose(got[0], alone)


@pytest.mark.parametrize("bti", [0, 1, 2])
def test_memorized_matches_reference(bti):
    gen = torch.Generator().manual_seed(10 + bti)
    targets = (torch.rand(4, 50, 30, generator=gen) < 0.2).float()
    # Outputs mostly right, with a few flipped bits so every case occurs.
    flips = torch.rand(4, 50, 30, generator=gen) < 0.04
    outputs = torch.where(flips, 1 - targets, targets) * 0.8 + 0.1
    got = memorized(outputs, targets, bti)
    assert torch.equal(got, reference_memorized(outputs, targets, bti))
    assert got.any() and not got.all()


def test_threshold_is_inclusive_at_one_half():
    targets = torch.tensor([[1.0, 0.0]])
    assert memorized(torch.tensor([[0.5, 0.49]]), targets).item()
    assert not memorized(torch.tensor([[0.5, 0.5]]), targets).item()


def test_log_hinge_against_a_per_pattern_loop():
    torch.manual_seed(1)
    logits, targets = torch.randn(2, 7, 12) * 2, (torch.rand(2, 7, 12) < 0.2).float()
    weight = torch.ones(2, 7)
    weight[1, 5:] = 0  # member 1 has 5 real patterns, 2 padded
    margin, tau = 1.0, 3.0
    expected = []
    for m in range(2):
        per_pattern = []
        for p in range(int(weight[m].sum())):
            slack = sum(max(0.0, margin - (1 if t else -1) * a) for a, t in zip(logits[m, p].tolist(), targets[m, p].tolist()))
            per_pattern.append(tau * math.log(1 + slack / tau))
        expected.append(sum(per_pattern) / (len(per_pattern) * 12))
    got = ensemble_loss("log_hinge", logits, targets, weight, bti=0, margin=margin, tau=tau)
    assert torch.allclose(got, torch.tensor(expected), atol=1e-6)


def test_log_hinge_gives_up_on_hopeless_patterns():
    """A pattern's gradient weight falls as its summed hinge grows; plain hinge weighs all alike."""
    logits = torch.tensor([[[-0.5, 0.0], [-10.0, 0.0]]], requires_grad=True)  # pattern 1 far more wrong
    targets = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    ratios = {}
    for name in ("hinge", "log_hinge"):
        logits.grad = None
        ensemble_loss(name, logits, targets, torch.ones(1, 2), bti=0, tau=3.0).sum().backward()
        ratios[name] = (logits.grad[0, 1, 0].abs() / logits.grad[0, 0, 0].abs()).item()  # hopeless / easy
    assert ratios["hinge"] == pytest.approx(1.0)
    assert ratios["log_hinge"] == pytest.approx((1 + 2.5 / 3) / (1 + 12 / 3))  # 1/(1+H/tau), H = 2.5 vs 12
