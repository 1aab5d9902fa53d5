"""A job as people run it: in a terminal (a pseudo-terminal here, since CI has none) and into a log file."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "WANDB_MODE": "disabled", "TERM": "xterm-256color", "COLUMNS": "120"}
JOB = ["N=20", "DS=30", "runs=2", "logger=none", "trainer.max_steps=200"]


def in_terminal(*args: str, timeout: float = 300, program: list[str] | None = None) -> tuple[int, str]:
    """Run train.py (or python ``program``: ["-m", "memcap.cli"]) with stdin, stdout and stderr on a
    pseudo-terminal; (exit code, everything it showed)."""
    master, slave = pty.openpty()
    program = program or [str(ROOT / "train.py")]
    process = subprocess.Popen([sys.executable, *program, *args], cwd=ROOT, env=ENV,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError(f"no output for {timeout} s:\n{shown.decode(errors='replace')[-3000:]}")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return process.wait(timeout=60), shown.decode(errors="replace")


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
                           f"hydra.run.dir={tmp_path}"], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = (tmp_path / "train.log").read_text()
    rounds = [line for line in log.splitlines() if "] - round " in line]
    assert len(rounds) >= 2 and "(perfect recall): DS=10 best" in rounds[0]  # the first round: the perfect-recall gallop
    assert any("(capacity): DS=" in line for line in rounds)  # each line names its phase
    assert "memcap simple/log_hinge N=20" in log and "capacity DS=" in log
    assert log.count("training DS=") >= len(rounds)  # a round trains its candidates in one or more ensembles
