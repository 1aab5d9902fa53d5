"""Where a capacity search starts is a function of its config (``search.prior``), never of other jobs' results."""

import pytest

from memcap.config import ConfigError
from memcap.lifecycle import run_job
from memcap.patterns.config import search_start, validate
from tests.helpers import ROOT

QUICK = ("trainer.max_steps=100", "trainer.check_every=25", "trainer.patience=2", "search.step=10",
         "search.resolution=2", "runs=1")


def test_the_search_start_is_prior_times_n_on_the_grid_and_under_the_ceiling(make_cfg):
    assert search_start(make_cfg("N=100")) is None
    assert search_start(make_cfg("N=100", "search.prior=2.9")) == 290
    assert search_start(make_cfg("N=100", "search.prior=2.94")) == 290  # rounded to the grid (resolution 10)
    assert search_start(make_cfg("N=100", "search.prior=0.01")) == 10  # never below the grid's first point
    assert search_start(make_cfg("N=10", "s=0.2", "search.prior=100")) == 40  # C(10, 2) = 45: the grid's last point under it
    with pytest.raises(ConfigError, match="search.prior: must be a finite positive number, got -1"):
        validate(make_cfg("search.prior=-1"))


def test_a_sweep_gives_each_job_the_same_path_whatever_finished_before_it(make_cfg, tmp_path):
    """Two jobs of one sweep, run in either order in one sweep directory, or each alone: the same points,
    bit for bit, and the same answer; with a prior the first round trains prior x N."""
    overrides = [("N=20", *QUICK, "search.prior=2"), ("N=30", *QUICK, "search.prior=2")]
    forward, backward, alone = tmp_path / "forward", tmp_path / "backward", tmp_path / "alone"
    ran = {}
    for sweep, order in ((forward, (0, 1)), (backward, (1, 0))):
        for i in order:
            ran[sweep, i] = run_job(make_cfg(*overrides[i]), sweep / str(i), sweep)
    for i in (0, 1):
        ran[alone, i] = run_job(make_cfg(*overrides[i]), alone / str(i), alone / str(i))
    def untimed(entries: list[dict]) -> list[dict]:  # seconds are the clock's, everything else the config's
        return [{k: v for k, v in entry.items() if k != "seconds"} for entry in entries]

    for i, n in ((0, 20), (1, 30)):
        points = [untimed(ran[where, i]["points"]) for where in (forward, backward, alone)]
        metrics = [ran[where, i]["metrics"] for where in (forward, backward, alone)]
        assert points[0] == points[1] == points[2]
        assert metrics[0] == metrics[1] == metrics[2]
        assert points[0][0]["DS"] == 2 * n  # the first round trains the prior's DS
        assert ran[forward, i]["metrics"]["search_guess"] == {"perfect_ds": 2 * n, "prior": 2.0}


def test_a_sweep_run_one_job_at_a_time_and_two_at_a_time_gives_the_same_points(tmp_path):
    """The sweep as users run it: `train.py -m` with Hydra's basic launcher, then with two jobs at once (joblib).
    Which job finishes first differs between the two; each job's points and metrics do not."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "WANDB_MODE": "disabled"}
    args = ["-m", "N=20,30", "search.prior=2", *QUICK, "logger=none", "trainer.threads=1"]
    launchers = {"one": [], "two": ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"]}
    for name, launcher in launchers.items():
        done = subprocess.run([sys.executable, str(ROOT / "train.py"), *args, *launcher,
                               f"hydra.sweep.dir={tmp_path / name}"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]

    def answer(name: str, job: int) -> tuple:
        result = json.loads((tmp_path / name / str(job) / "result.json").read_text())
        metrics = {k: v for k, v in result["metrics"].items() if k != "wall_time"}
        return [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]], metrics, result["job"]

    for job in (0, 1):
        assert answer("one", job) == answer("two", job)
