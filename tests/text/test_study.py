"""scripts/text_study.py: the study's jobs run two at a time (--jobs) and give the results one at a time gives."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from memcap.cpu import job_threads
from tests.helpers import ROOT as REPO


@pytest.fixture
def study(monkeypatch):
    """The script as a module, its cpu preset's state part shrunk to seconds (widths 2..4, 60 steps)."""
    spec = importlib.util.spec_from_file_location("text_study_under_test", REPO / "scripts" / "text_study.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # the workers find run_one by its module's name, as __main__'s
    spec.loader.exec_module(module)
    tiny = ("search=state", "search.min_hidden=2", "search.max_hidden=4", "search.max_steps=60",
            "search.check_every=20", "search.lrs=[0.01]")
    monkeypatch.setitem(module.PRESETS, "cpu", {**module.PRESETS["cpu"], "state": tiny})
    return module


def points(out: Path) -> dict[str, list]:
    found = {}
    for path in sorted(out.glob("state/*/result.json")):
        result = json.loads(path.read_text())
        assert result["status"] == "ok", path
        found[path.parent.name] = [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]]
    return found


def test_two_jobs_at_a_time_give_the_results_of_one_at_a_time(study, tmp_path, capfd):
    args = ["--parts", "state", "--lengths", "2", "--models", "rnn,dense"]
    assert study.main([*args, "--jobs", "2", "--out", str(tmp_path / "two")]) == 0
    out, err = capfd.readouterr()
    finished = [line for line in out.splitlines() if line.startswith("[study ")]
    assert len(finished) == 2  # one progress line per job, as each ends
    for job in ("state/rnn-L2", "state/dense-L2"):  # each job's log lines name it (the workers write to stderr)
        assert any(f"[{job}] round 1:" in line for line in err.splitlines()), err[-2000:]
    threads = torch.get_num_threads()
    torch.set_num_threads(job_threads(None, {"n_jobs": 2}))  # the workers' share of the cores (one each on 2 cores)
    try:
        assert study.main([*args, "--out", str(tmp_path / "one")]) == 0
    finally:
        torch.set_num_threads(threads)
    two, one = points(tmp_path / "two"), points(tmp_path / "one")
    assert set(two) == {"rnn-L2", "dense-L2"} and all(two.values())
    assert two == one


def test_jobs_below_one_are_refused(study, capsys):
    with pytest.raises(SystemExit):
        study.main(["--jobs", "0", "--dry-run"])
    assert "--jobs must be at least 1, got 0" in capsys.readouterr().err


def test_seeds_are_one_job_each_named_by_their_seed(study, tmp_path):
    found = {name: overrides for _, name, overrides in study.jobs(["widths"], [4], ["rnn"], "cpu", tmp_path,
                                                                  seeds=(0, 1, 2))}
    assert list(found) == ["rnn-L4", "rnn-L4-s1", "rnn-L4-s2"]  # seed 0 keeps the name results/ already use
    for name, seed in zip(found, (0, 1, 2)):
        assert [o for o in found[name] if o.startswith("seed=")] == [f"seed={seed}"]
        assert "search.refine=true" in found[name]
