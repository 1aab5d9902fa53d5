"""Bad input gets one line naming the key, what was given and what is allowed, before any work (memcap.overrides)."""

import logging
import os
import subprocess
import sys

import pytest

from memcap.config import ConfigError
from memcap.configs import register_configs
from memcap.cpu import usable_cores, warn_if_beyond_cores
from memcap.lifecycle import warn_if_many_runs
from memcap.overrides import problem
from memcap.patterns.config import validate
from tests.helpers import ROOT


@pytest.fixture(autouse=True, scope="module")
def configs():
    register_configs()


@pytest.mark.parametrize("argv, line", [
    (["model=nosuch"], "model: no option 'nosuch'; allowed: dense, gru, hybrid, lstm, recurrent, rnn, simple, transformer"),
    (["-m", "model=simple,nope"], "model: no option 'nope'; allowed: "),
    (["+experiment=nope"], "experiment: no option 'nope'; allowed: recipe_vs_exact, report_bar, "),
    (["N=abc"], "N: got 'abc'; allowed: an integer"),
    (["-m", "N=10,abc", "steps=2,3"], "N: got 'abc'; allowed: an integer"),  # a later value of a sweep
    (["lr=x"], "lr: got 'x'; allowed: a number"),
    (["search.oracle=maybe"], "search.oracle: got 'maybe'; allowed: true or false"),
    (["nosuchkey=3"], "nosuchkey: no such key; allowed here: N, s, steps, "),
    (["search.nokey=1"], "search.nokey: no such key; allowed here: name, step, "),
    (["N=10,"], "cannot read the overrides: "),
])
def test_a_bad_override_is_one_line_naming_the_key_the_value_and_what_is_allowed(argv, line):
    found = problem(argv)
    assert found is not None and found.startswith(line) and "\n" not in found, found


def test_an_output_directory_that_cannot_be_made_is_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    assert problem([f"hydra.run.dir={afile}/job"]) == (
        f"hydra.run.dir: cannot create the directory '{afile}/job' (Not a directory); allowed: a path where one can be made")
    assert problem(["-m", "hydra.sweep.dir=/proc/memcap/sweep"]).startswith(
        "hydra.sweep.dir: cannot create the directory '/proc/memcap/sweep' (")
    assert problem([f"hydra.run.dir={tmp_path}/new/job"]) is None and (tmp_path / "new" / "job").is_dir()


@pytest.mark.parametrize("argv", [
    [], ["N=50", "runs=2"], ["-m", "model=recurrent", "steps=2,3", "N=50,100,150,200"], ["-m", "seed=range(0,50)"],
    ["+experiment=report_table1_quick"], ["data=text", "model=lstm", "search=state"], ["--cfg", "job", "N=20"],
    ["--help"], ["model=nosuch", "--info"],  # Hydra's own flags are Hydra's
    ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2", "hydra.job.chdir=false"],
])
def test_commands_that_work_pass_the_check(argv):
    assert problem(argv) is None


def test_train_py_says_it_in_one_line_and_writes_nothing(tmp_path):
    env = {**os.environ, "WANDB_MODE": "disabled"}
    env.pop("HYDRA_FULL_ERROR", None)
    run = subprocess.run([sys.executable, str(ROOT / "train.py"), "model=nosuch", f"hydra.run.dir={tmp_path}/job"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.splitlines() == ["memcap: error: model: no option 'nosuch'; allowed: dense, gru, hybrid, lstm, "
                                       "recurrent, rnn, simple, transformer"]
    assert not (tmp_path / "job").exists()  # refused before anything was made
    full = subprocess.run([sys.executable, str(ROOT / "train.py"), "model=nosuch"], cwd=tmp_path,
                          env={**env, "HYDRA_FULL_ERROR": "1"}, capture_output=True, text=True, timeout=300)
    assert full.returncode != 0 and "Traceback" in full.stderr and "memcap: error" not in full.stderr


@pytest.mark.parametrize("overrides, numbers", [(("N=9", "runs=1"), "C(9, 1) = 9"), (("N=3", "s=0.5"), "C(3, 2) = 3")])
def test_a_search_grid_above_the_distinct_patterns_is_refused_before_any_work(make_cfg, overrides, numbers):
    with pytest.raises(ConfigError, match=rf"search.resolution: the search's first DS, 10, exceeds the {numbers[:1]}"):
        validate(make_cfg(*overrides))
    validate(make_cfg(*overrides, "search.resolution=2"))  # a grid that fits
    validate(make_cfg(*overrides, "DS=2"))  # one DS needs no grid


def test_very_many_runs_and_threads_beyond_the_cores_are_warned_about_with_the_cost(caplog):
    with caplog.at_level(logging.WARNING, logger="memcap"):
        assert not warn_if_many_runs(100, 64) and not warn_if_beyond_cores(len(usable_cores()))
        assert not warn_if_beyond_cores(None)
        assert warn_if_many_runs(100000, 64) and warn_if_beyond_cores(999)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("runs=100000: every DS the job tries trains 100000 members, in 1563 ensembles")
    assert "17.0 MB a DS" in lines[0]
    assert lines[1].startswith(f"trainer.threads=999, but this process may use {len(usable_cores())} core(s)")
