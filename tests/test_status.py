"""`memcap status`: each job's state from its files, as a user reads it in a terminal or a log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from filelock import FileLock
from rich.console import Console

from memcap.results import LOCK_FILE, record_lost
from memcap.status import job_status, main, render
from memcap.sweep_summary import sweep_status
from tests.helpers import ROOT, in_terminal

TINY = ["N=20", "DS=30", "runs=2", "trainer.max_steps=200"]


def test_each_state_is_read_from_the_job_files(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    done = subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", *TINY, "logger=none", f"hydra.sweep.dir={sweep}"],
                          cwd=ROOT, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # An interrupted job: its result says running and no process holds its lock.
    shutil.copytree(sweep / "0", sweep / "1")
    result = json.loads((sweep / "1" / "result.json").read_text())
    (sweep / "1" / "result.json").write_text(json.dumps({**result, "status": "running"}))
    shutil.copytree(sweep / "1", sweep / "2")
    record_lost(sweep / "3", "the cluster ended job 3 (TIMEOUT) without a result")
    # A failed job, and a failed job that a rerun is training again.
    shutil.copytree(sweep / "0", sweep / "4")
    (sweep / "4" / "result.json").write_text(json.dumps({**result, "status": "failed", "error": "ValueError: boom in [/tmp/x] [bold]"}))
    shutil.copytree(sweep / "4", sweep / "5")
    capsys.readouterr()

    with FileLock(sweep / "2" / LOCK_FILE), FileLock(sweep / "5" / LOCK_FILE):
        states = {job: job_status(sweep / job).state for job in "012345"}
        outcome = sweep_status(sweep)  # the end-of-sweep summary's count: the same decision
        console = Console(record=True, width=200)
        counts = render(sweep, console)
        narrow = Console(record=True, width=80)  # a standard terminal: the last line must still be shown
        render(sweep, narrow)
    assert states == {"0": "done", "1": "interrupted", "2": "training", "3": "lost", "4": "failed", "5": "training"}
    assert {key: [job.name for job in jobs] for key, jobs in outcome.items()} == {
        "ok": ["0"], "failed": ["1", "4"], "running": ["2", "5"], "missing": ["3"]}
    assert {state: n for state, n in counts.items() if n} == {
        "done": 1, "training": 2, "interrupted": 1, "failed": 1, "lost": 1}
    shown = console.export_text()
    # A finished job's line is its summary's answer: the other columns name the job, its time and directory.
    finished = job_status(sweep / "0").latest
    assert finished.startswith("capacity DS=") and finished.endswith("params=420"), finished
    in_80 = narrow.export_text()
    assert "last line" in in_80 and "capacity" in in_80 and "ValueError" in in_80
    assert max(map(len, in_80.splitlines())) <= 80
    assert "TIMEOUT" in shown and "ValueError: boom in [/tmp/x] [bold]" in shown  # text, not rich markup
    assert "6 jobs: 1 done, 2 training, 1 interrupted, 1 failed, 1 lost" in shown
    assert "rerun the sweep's command to resume" in shown


def test_a_directory_without_jobs_is_named_and_exits_2(tmp_path, capsys):
    assert main([str(tmp_path), str(tmp_path / "nowhere")]) == 2
    shown = capsys.readouterr().err
    assert f"{tmp_path}: no job directory in it" in shown and f"{tmp_path / 'nowhere'}: not a directory" in shown


def test_status_of_a_sweep_in_a_terminal(tmp_path):
    code, shown = in_terminal("-m", *TINY, "logger=none", "N=20,22", f"hydra.sweep.dir={tmp_path}")
    assert code == 0, shown[-3000:]
    code, shown = in_terminal("status", str(tmp_path), program=["-m", "memcap.cli"])
    assert code == 0 and "Traceback" not in shown, shown[-3000:]
    assert "2 jobs: 2 done" in shown and "N=22" in shown


def test_status_imports_no_torch(tmp_path):
    """A login node's quick look: `memcap status` reads files and never loads torch or Lightning."""
    record_lost(tmp_path / "0", "the cluster ended job 0 without a result")
    probe = ("import sys; from memcap.status import main; main([sys.argv[1]]); "
             "assert not {'torch', 'pytorch_lightning'} & set(sys.modules), 'torch imported'")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 job: 1 lost" in done.stdout


def test_jobs_are_named_by_what_the_sweep_varies_before_they_have_results(tmp_path):
    """One job training of a sweep of six: the table names each job by the command line's swept values (its
    .hydra/overrides.yaml), not by keys that only results could tell apart."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "multirun.yaml").write_text(
        "hydra:\n  sweeper:\n    _target_: hydra._internal.core_plugins.basic_sweeper.BasicSweeper\n"
        "    params:\n      seed: 0,1,2\n  overrides:\n    task:\n    - model=recurrent\n"
        "    - model.activation=sigmoid,tanh\n")
    for job, (seed, activation) in enumerate([(0, "sigmoid"), (0, "tanh")]):
        (sweep / str(job) / ".hydra").mkdir(parents=True)
        (sweep / str(job) / ".hydra" / "overrides.yaml").write_text(
            f"- model=recurrent\n- seed={seed}\n- model.activation={activation}\n")
    console = Console(record=True, width=200)
    counts = render(sweep, console)
    shown = console.export_text()
    assert "seed=0 model.activation=tanh" in shown and "seed=0 model.activation=sigmoid" in shown
    assert "model=recurrent" not in shown  # one value for every job: it tells no job apart
    assert counts["not started"] == 6
