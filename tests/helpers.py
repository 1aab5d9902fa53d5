"""What many tests share: where the repository is, the environment a subprocess job runs in, a tiny pattern job.

Fixtures (the composed config, train.py with a hook) are in conftest.py; plain values and functions are here,
imported as ``from tests.helpers import ROOT, ENV, TINY_JOB``.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import pty
import select
import signal
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository: train.py, conf/, scripts/
TRAIN = ROOT / "train.py"
# A job in a subprocess: no W&B, and its lines as they are written (a test waits on them).
ENV = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
# A pattern job small enough for a test: two runs, 100 steps, a check every 20.
TINY_JOB = ["logger=none", "runs=2", "trainer.max_steps=100", "trainer.check_every=20", "lr=0.1"]


def train_py(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python train.py ARGS`` as a user types it, to its end; its output captured."""
    return subprocess.run([sys.executable, str(TRAIN), *args], cwd=cwd, env=env or ENV, capture_output=True,
                          text=True, timeout=timeout)


# -- a job in a terminal (a pseudo-terminal: CI has none) --------------------------------------------------
# A terminal's environment: what a shell in an xterm gives the job.
TERMINAL_ENV = {**os.environ, "WANDB_MODE": "disabled", "TERM": "xterm-256color", "COLUMNS": "120"}


def _controlling_terminal() -> None:
    """In the child, after its new session began: stdin (the pseudo-terminal) becomes its controlling terminal,
    so that a ^C typed there reaches its whole process group as SIGINT, as in a shell; and SIGINT gets its
    default action back, as a shell gives a job it runs in the foreground (a test run started in the background
    of a non-interactive shell inherits SIGINT ignored, and so would the job)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def in_terminal(*args: str, timeout: float = 300, program: list[str] | None = None,
                ctrl_c_after: Callable[[str], bool] | None = None, started: list | None = None) -> tuple[int, str]:
    """Run train.py (or python ``program``: ["-m", "memcap.cli"]) with stdin, stdout and stderr on a
    pseudo-terminal; (exit code, everything it showed). ``ctrl_c_after``: type ^C once it holds for what
    has been shown; ``started`` gets the process."""
    master, slave = pty.openpty()
    program = program or [str(ROOT / "train.py")]
    process = subprocess.Popen([sys.executable, *program, *args], cwd=ROOT, env=TERMINAL_ENV,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                               start_new_session=True, preexec_fn=_controlling_terminal)
    os.close(slave)
    if started is not None:
        started.append(process)
    shown = b""
    while True:
        if ctrl_c_after is not None and ctrl_c_after(shown.decode(errors="replace")):
            os.write(master, b"\x03")
            ctrl_c_after = None
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


# -- result.json files written by hand (the aggregation's input) -------------------------------------------
def make_result(model, loss, steps, N, capacity_ds, perfect_ds, runs, seed=0, s=0.1, lr=0.01, **metrics):
    """A complete result.json, its metrics consistent with its runs and points."""
    params = N * N + N if model == "simple" else 2 * N * N
    mean = sum(runs) / len(runs)
    k = round(N * s)
    points = [{"DS": perfect_ds, "run": r, "memorized": perfect_ds, "loss": 0.01, "steps": 100, "seconds": 0.1,
               "stop": "memorized"} for r in range(len(runs))]
    points += [{"DS": capacity_ds, "run": r, "memorized": m, "loss": 0.2, "steps": 200, "seconds": 0.2,
                "stop": "max_steps"} for r, m in enumerate(runs)]
    return {
        "status": "ok", "error": None,
        "config": {"model": model, "loss": loss, "search": "capacity", "N": N, "s": s, "steps": steps,
                   "seed": seed, "runs": len(runs), "DS": None, "lr": lr, "max_steps": 200, "batch_size": None},
        "metrics": {"capacity_ds": capacity_ds, "perfect_ds": perfect_ds, "memorized_max": max(runs),
                    "memorized_mean": mean,
                    "memorized_std": math.sqrt(sum((m - mean) ** 2 for m in runs) / len(runs)),
                    "memorized_runs": runs, "accuracy": max(runs) / capacity_ds, "params": params,
                    "bits_per_param": max(runs) * math.log2(math.comb(N, k)) / params, **metrics},
        "points": points,
        "versions": {"memcap": "0.1.0"},
        "wall_time": 1.5,
    }


def write_job(job_dir: Path, result) -> Path:
    """A Hydra job directory (.hydra/ and result.json); ``result`` a dict, or raw bytes/text."""
    (job_dir / ".hydra").mkdir(parents=True)
    path = job_dir / "result.json"
    if isinstance(result, dict):
        path.write_text(json.dumps(result))
    elif isinstance(result, bytes):
        path.write_bytes(result)
    else:
        path.write_text(result)
    return path


def fit_and_resume(cfg, members: list[tuple[int, int]], at_step: int, path: Path, look=lambda module: None):
    """The pattern engine's fit of ``members`` under ``cfg`` to its cap, a mid-round checkpoint saved to ``path``
    at ``at_step`` (``look(module)`` sees the module then), and a second fit resumed from it:
    (the whole fit's module, the resumed fit's module)."""
    import pytorch_lightning as pl

    from memcap.fitting import Fit, make_trainer
    from memcap.patterns.engine import build_module

    class SaveAt(pl.Callback):
        def on_train_batch_end(self, trainer, module, *args):
            if trainer.global_step == at_step:
                trainer.save_checkpoint(path)
                look(module)

    steps = cfg.trainer.max_steps
    whole = build_module(cfg.copy(), members)
    make_trainer(cfg.trainer, Fit(callbacks=[SaveAt()]), steps).fit(whole)
    resumed = build_module(cfg.copy(), members)
    make_trainer(cfg.trainer, Fit(ckpt_path=path), steps).fit(resumed, ckpt_path=path, weights_only=True)
    return whole, resumed

