"""The GPU path: tests marked ``gpu`` are skipped where no CUDA GPU is visible; ``scripts/gpu_check.py`` runs them.

Where there is none, ``scripts/gpu_check.py`` and ``trainer.accelerator=gpu`` (tests/e2e/test_train.py) are
refused in one line.
"""

import subprocess
import sys

import pytest
import torch

from memcap.patterns.engine import train_members
from tests.helpers import ROOT, fit_and_resume

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU is visible")

MEMBERS = [(20, 0), (40, 0), (40, 1), (60, 2)]  # below capacity at N=30: every pattern memorized on any device


def _points(cfg) -> list[tuple]:
    return sorted((p.DS, p.run, p.memorized, p.stop) for p in train_members(cfg, MEMBERS))


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("overrides", [["model=simple"], ["model=recurrent", "steps=2"]])
def test_an_ensemble_on_cuda_memorizes_what_it_does_on_the_cpu(make_cfg, overrides):
    """Same seeds, TF32 off: the same memorized counts and stop reasons (the float sums run in another
    order on the GPU, so the step at which a member stops may differ by a check)."""
    base = ["N=30", "lr=0.05", "trainer.max_steps=3000", "trainer.tf32=false", *overrides]
    on_cpu = _points(make_cfg(*base, "trainer.accelerator=cpu"))
    on_gpu = _points(make_cfg(*base, "trainer.accelerator=gpu"))
    assert on_gpu == on_cpu
    assert all(stop == "memorized" for *_, stop in on_gpu)


@pytest.mark.gpu
@needs_gpu
def test_a_fit_on_cuda_resumes_from_its_mid_round_checkpoint(make_cfg, tmp_path):
    """A checkpoint saved on the GPU after a member left the computation resumes into the same end."""
    cfg = make_cfg("N=20", "lr=0.1", "trainer.max_steps=200", "trainer.check_every=10", "trainer.patience=100",
                   "trainer.accelerator=gpu", "trainer.tf32=false")
    devices = set()
    whole, resumed = fit_and_resume(cfg, [(5, 0), (40, 0), (40, 1)], 60, tmp_path / "mid.ckpt",
                                    lambda module: devices.add(module.model.W.device.type))
    assert devices == {"cuda"}
    for name in ("best_count", "steps_trained", "stop"):
        assert torch.equal(getattr(whole, name).cpu(), getattr(resumed, name).cpu()), name
    assert all(torch.equal(a, b) for a, b in zip(whole.model.parameters(), resumed.model.parameters()))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_the_gpu_check_without_a_gpu_says_so_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--out", str(tmp_path / "gpu")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and not (tmp_path / "gpu").exists()
    assert done.stderr.strip().count("\n") == 0 and "no CUDA GPU is visible here" in done.stderr
