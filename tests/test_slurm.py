"""SLURM job arrays (hydra/launcher=slurm) against a real one-node SLURM cluster, and the launcher's own parts.

The cluster tests need a SLURM that answers: `scripts/slurm_local.sh up` brings
one up on this machine (root, Debian/Ubuntu; .ci/run does it before the suite).
Without one they are skipped, saying so, except where MEMCAP_REQUIRE_SLURM=1
(CI), where a missing cluster fails them. The other tests fake sinfo and squeue.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from memcap.config import ConfigError
from memcap.slurm import Node, SqueueWatcher, check_request, partition_nodes

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
# One task per CPU, little memory, no GPU: what a 2-CPU node without GPUs can run.
SIZED = ["hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1", "hydra.launcher.gpus_per_node=0"]


def cluster_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    states = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%t"], capture_output=True, text=True)
    return states.returncode == 0 and any(s in ("idle", "mix", "alloc") for s in states.stdout.split())


@pytest.fixture(scope="module")
def slurm():
    if not cluster_up():
        reason = "no SLURM cluster answers sinfo (scripts/slurm_local.sh up starts a one-node one: root, Debian)"
        if os.environ.get("MEMCAP_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def fake_command(tmp_path: Path, monkeypatch, name: str, output: str) -> None:
    """Put a ``name`` on PATH that prints ``output``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


# -- the launcher's parts, with sinfo and squeue faked ----------------------------------------------
def test_a_request_no_node_can_satisfy_is_refused_naming_both(tmp_path, monkeypatch):
    fake_command(tmp_path, monkeypatch, "sinfo", "main*|2|24105|(null)\nmain*|2|24105|(null)\ngpu|64|512000|gpu:a100:4(S:0-1)")
    assert partition_nodes(None) == [Node(2, 24105, 0), Node(2, 24105, 0)]
    assert partition_nodes("gpu") == [Node(64, 512000, 4)]
    preset = {"partition": None, "cpus_per_task": 4, "mem_gb": 16, "gpus_per_node": 1, "tasks_per_node": 1}
    with pytest.raises(ConfigError) as refused:
        check_request(preset)
    message = str(refused.value)
    assert "4 CPUs, 16 GB and 1 GPUs" in message and "at most 2 CPUs, 23 GB, 0 GPUs" in message
    assert "hydra.launcher.cpus_per_task=2 hydra.launcher.mem_gb=16 hydra.launcher.gpus_per_node=0" in message
    check_request({**preset, "partition": "gpu"})  # the GPU partition has it
    check_request({**preset, "cpus_per_task": 2, "gpus_per_node": 0})
    with pytest.raises(ConfigError, match="lists no nodes in partition debug"):
        check_request({**preset, "partition": "debug"})


def test_job_states_come_from_squeue_and_a_task_it_forgot_has_ended():
    watcher = SqueueWatcher(delay_s=60)
    for job in ("7_0", "7_1", "7_2"):
        watcher.register_job(job)
    info = watcher.read_info("7_0|RUNNING|vm\n7_1|CANCELLED|vm\n")
    assert {job: state["State"] for job, state in info.items()} == {"7_0": "RUNNING", "7_1": "CANCELLED",
                                                                   "7_2": "GONE"}


# -- a real cluster ----------------------------------------------------------------------------------
def squeue(name: str) -> list[str]:
    """The array's tasks as ``JOBID_TASK STATE``, e.g. ``12_3 PENDING``."""
    out = subprocess.run(["squeue", "--me", "--states=all", "--array", "--noheader", f"--name={name}",
                          "--format=%i %T"], capture_output=True, text=True).stdout
    return out.split("\n")[:-1]


def wait_for(condition, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def test_a_request_too_large_for_the_cluster_fails_before_submission(slurm, tmp_path):
    name = f"memcap-test-{uuid.uuid4().hex[:8]}"
    run = subprocess.run([sys.executable, "train.py", "-m", "hydra/launcher=slurm", "N=10", "DS=5", "runs=1",
                          "logger=none", "hydra.launcher.cpus_per_task=1000", f"hydra.launcher.name={name}",
                          f"hydra.sweep.dir={tmp_path}"], cwd=ROOT, env=ENV, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith("memcap: error: hydra.launcher: each job asks for 1000 CPUs")
    assert "Traceback" not in run.stderr and not squeue(name)


def test_a_job_array_survives_a_time_out_and_a_cancelled_task(slurm, tmp_path):
    """Three tasks of one identity (checkpoint_minutes is not part of it) on a node that runs two at once:
    #0 is timed out mid-fit, requeued, and resumes from its checkpoint; #1, which never checkpoints, is
    its uninterrupted twin; #2 is cancelled while pending.

    #2 is cancelled before #0 is signalled, and no other task is pending then: SLURM 22.05 answers a signal
    to a task of an array with several pending tasks "try again later" after delivering it, and scancel
    then delivers it again every few seconds, even to the requeued task as it starts."""
    name = f"memcap-test-{uuid.uuid4().hex[:8]}"
    sweep_dir = tmp_path / "sweep"
    # A fit of a few seconds that runs to the step cap; #0 checkpoints every 0.12 s, #1 never.
    args = ["N=30", "runs=1", "logger=none", "DS=100", "trainer.max_steps=3000", "trainer.check_every=50",
            "trainer.patience=1000", "trainer.checkpoint_minutes=0.002,0,0.001"]
    # timeout_min under 10: submitit counts any USR2 as a time-out. SLURM itself sends it
    # signal_delay_s before the limit, minutes away: the test sends the same signal once #0 has a checkpoint.
    launcher = [*SIZED, f"hydra.launcher.name={name}", "hydra.launcher.timeout_min=5", "hydra.launcher.signal_delay_s=10"]
    start = time.monotonic()
    front = subprocess.Popen([sys.executable, "train.py", "-m", "hydra/launcher=slurm", *args, *launcher,
                              f"hydra.sweep.dir={sweep_dir}"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        array = wait_for(lambda: squeue(name), "the array")[0].split("_")[0]
        assert f"{array}_2 PENDING" in squeue(name)
        subprocess.run(["scancel", f"{array}_2"], check=True, timeout=10)
        wait_for(lambda: any((sweep_dir / "0").glob("checkpoint.*.ckpt")), "task 0's mid-round checkpoint")
        subprocess.run(["scancel", "--signal=USR2", f"{array}_0"], check=True, timeout=10)
        output, _ = front.communicate(timeout=300)
    finally:
        front.kill()
    elapsed = time.monotonic() - start

    assert front.returncode == 1, output  # the sweep summary's exit status: one task failed
    assert "memcap sweep: 3 jobs, 2 ok, 1 failed" in output, output
    assert f"failed: {sweep_dir / '2'} (SLURM task {array}_2 left the queue without a result)" in output, output
    assert "sacct" not in output and "Traceback" not in output, output
    results = {job: json.loads((sweep_dir / job / "result.json").read_text()) for job in ("0", "1")}
    assert not (sweep_dir / "2" / "result.json").exists()
    assert all(r["status"] == "ok" for r in results.values())
    assert not (sweep_dir / "3" / "result.json").exists()

    # #0 was timed out and requeued by submitit, and resumed its fit from the checkpoint.
    log = "".join(p.read_text() for p in (sweep_dir / ".submitit").glob(f"{array}_0/*_log.*"))
    assert "this job is timed-out" in log and f"Requeued job {array}_0 (2 remaining timeouts)" in log
    train_log = (sweep_dir / "0" / "train.log").read_text()
    assert "resuming the fit of 1 members from checkpoint." in train_log
    assert results["0"]["attempts"] == 2 and results["1"]["attempts"] == 1

    # ... and it ends where its uninterrupted twin ends.
    def outcome(result):
        return [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]], result["metrics"]

    assert results["0"]["job"] == results["1"]["job"]
    assert outcome(results["0"]) == outcome(results["1"])
    print(f"the SLURM sweep took {elapsed:.1f} s")
