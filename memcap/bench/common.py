"""What the benchmarks share: where the repository is, timing on a device, a job run as a user runs it, and
how a benchmark writes its results (a first line naming its command, date, machine and code; <stem>.json and
<stem>.md, the markdown printed too).

The benchmarks run from a checkout: ``ROOT`` is the repository (train.py, benchmarks/, multirun/, results/).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from memcap.results import versions

ROOT = Path(__file__).resolve().parents[2]  # memcap/bench/common.py -> the repository


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device: str, size: int = 2048, repeats: int = 10) -> float:
    """Best FLOP/s of a square fp32 torch.matmul on ``device``."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def train_in_fresh_process(overrides: list[str], wandb_mode: str = "disabled",
                           run_dir: Path | None = None) -> tuple[dict, float, str]:
    """``python train.py OVERRIDES`` as a user runs it: its result.json, wall seconds (start-up included) and
    what it printed. W&B is off (``logger=none``) unless ``wandb_mode`` names another mode ("offline": as
    ``make run``). The job runs in a temporary directory, or in ``run_dir``, where a rerun resumes it."""
    logger = ["logger=none"] if wandb_mode == "disabled" else []
    with tempfile.TemporaryDirectory() as tmp:
        job = run_dir or Path(tmp)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "train.py"), *overrides, *logger, f"hydra.run.dir={job}"],
                              capture_output=True, text=True, env={**os.environ, "WANDB_MODE": wandb_mode}, check=True)
        wall = time.perf_counter() - start
        return json.loads((job / "result.json").read_text()), wall, done.stdout.strip()


def short_commit(commit: str) -> str:
    """A commit as people quote it (7 hex digits), keeping the "-dirty" of uncommitted changes."""
    head, dirty, _ = commit.partition("-dirty")
    return head[:7] + dirty


def run_header(command: str, details: str) -> str:
    """A benchmark's first line: its command, the date, the machine, ``details`` and the code it ran."""
    return (f"`{command}`, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, {details}, "
            f"code {versions().get('git_commit', 'unknown')}.")


def publish(stem: Path, data: Any, lines: list[str]) -> None:
    """A benchmark's results: ``data`` to <stem>.json, its markdown ``lines`` to <stem>.md and the terminal."""
    stem.with_suffix(".json").write_text(json.dumps(data, indent=2))
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def table_head(*columns: str) -> list[str]:
    """A markdown table's header and rule."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
