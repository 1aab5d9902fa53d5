"""A job as people run it: in a terminal (a pseudo-terminal here, since CI has none) and into a log file."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT, TERMINAL_ENV, in_terminal

JOB = ["N=20", "DS=30", "runs=2", "logger=none", "trainer.max_steps=200"]


def test_a_job_in_a_terminal_ends_ok(tmp_path):
    code, shown = in_terminal(*JOB, f"hydra.run.dir={tmp_path}")
    assert code == 0, shown[-3000:]
    assert "Traceback" not in shown and "Error" not in shown
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["status"] == "ok"
    assert "memcap simple/log_hinge N=20" in shown


def test_a_sweep_in_a_terminal_ends_ok(tmp_path):
    code, shown = in_terminal("-m", *JOB, "N=20,22", f"hydra.sweep.dir={tmp_path}")
    assert code == 0, shown[-3000:]
    assert "Traceback" not in shown and "memcap sweep: 2 jobs, 2 ok, 0 failed" in shown


def test_without_a_terminal_the_log_file_holds_the_rounds(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "train.py"), *JOB, "DS=null", "search.max_ds=60", "search.step=5",
                           f"hydra.run.dir={tmp_path}"], cwd=ROOT, env=TERMINAL_ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = (tmp_path / "train.log").read_text()
    rounds = [line for line in log.splitlines() if "] - round " in line]
    assert len(rounds) >= 2 and "(perfect recall): DS=10 best" in rounds[0]  # the first round: the perfect-recall gallop
    assert any("(capacity): DS=" in line for line in rounds)  # each line names its phase
    assert "memcap simple/log_hinge N=20" in log and "capacity DS=" in log
    assert log.count("training DS=") >= len(rounds)  # a round trains its candidates in one or more ensembles


def test_ctrl_c_in_the_oracles_workers_ends_the_job_with_one_line(tmp_path):
    """^C typed while two worker processes solve the oracle's datasets: the terminal sends SIGINT to the whole
    process group; the workers leave it to the job, which stops them, saves itself as running and exits 130,
    with no traceback from it or any worker, and no worker left behind."""
    both_began = lambda shown: all(f"[dataset {k}] oracle: dataset {k}/2: the LPs begin" in shown for k in (1, 2))
    code, shown = in_terminal("N=200", "DS=700", "runs=2", "logger=none", "trainer.max_steps=50", "trainer.threads=1",
                              "search.oracle=true", "search.oracle_workers=2", "search.oracle_iterations=1",
                              f"hydra.run.dir={tmp_path}", ctrl_c_after=both_began, started=(job := []))
    assert code == 130, shown[-3000:]
    assert "Traceback" not in shown and "KeyboardInterrupt" not in shown, shown[-3000:]
    assert "saved as running; the same command resumes it" in shown
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "running"
    session = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-s", str(job[0].pid)], capture_output=True,
                             text=True).stdout.splitlines()
    assert [p for p in session if p.split()[1][0] != "Z"] == [], session  # nothing of the job's session runs on
