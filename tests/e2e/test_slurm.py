"""SLURM job arrays (hydra/launcher=slurm) against a real one-node SLURM cluster, and the launcher's own parts.

The cluster tests need a SLURM that answers: `scripts/slurm_local.sh up` brings
one up on this machine (root, Debian/Ubuntu; .ci/run does it before the suite).
Without one they are skipped, saying so, except where MEMCAP_REQUIRE_SLURM=1
(CI), where a missing cluster fails them. The other tests fake sinfo and squeue.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("submitit", reason="the cluster extra (pip install -e '.[cluster]') is not installed")

from memcap import slurm  # noqa: E402  (after the skip: memcap.slurm imports submitit)
from memcap.config import ConfigError  # noqa: E402
from memcap.lifecycle import run_job  # noqa: E402
from memcap.results import record_lost  # noqa: E402
from memcap.slurm import Node, SqueueWatcher, check_request, partition_nodes  # noqa: E402
from memcap.status import lost_reason  # noqa: E402
from memcap.sweep_summary import sweep_status  # noqa: E402
from tests.helpers import ENV, ROOT

# One task per CPU, little memory, no GPU: what a 2-CPU node without GPUs can run.
SIZED = ["hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1", "hydra.launcher.gpus_per_node=0"]


def cluster_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    states = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%t"], capture_output=True, text=True)
    return states.returncode == 0 and any(s in ("idle", "mix", "alloc") for s in states.stdout.split())


@pytest.fixture(scope="module")
def cluster():
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


def fake_task(tmp_path: Path, state: str, with_result: bool) -> SimpleNamespace:
    """A SlurmJob as tolerant_results sees one: its state, its result file, its submission's overrides."""
    pickle = tmp_path / "result.pkl"
    if with_result:
        pickle.touch()
    return SimpleNamespace(job_id="7_1", state=state, wait=lambda: None, paths=SimpleNamespace(result_pickle=pickle),
                           submission=lambda: SimpleNamespace(args=[["DS=6"]]))


@pytest.mark.parametrize("state,with_result,raises,reason", [
    ("CANCELLED by 0", False, None, "SLURM task 7_1 ended CANCELLED without a result"),
    ("GONE", False, None, "SLURM task 7_1 left the queue without a result"),
    ("COMPLETED", False, "UncompletedJobError", "SLURM task 7_1 ended COMPLETED without a result"),
    ("COMPLETED", True, "FailedJobError",
     "SLURM task 7_1 failed (submitit.core.utils.UncompletedJobError: Job not requeued because: timed-out too many times.)"),
])
def test_a_task_without_a_result_is_a_lost_task_not_an_exception(tmp_path, monkeypatch, state, with_result, raises,
                                                                 reason):
    from submitit.core import utils

    def results(job):
        raise getattr(utils, raises)("Traceback (most recent call last):\n  ...\nsubmitit.core.utils.UncompletedJobError:"
                                     " Job not requeued because: timed-out too many times.\n")

    monkeypatch.setattr(slurm, "SUBMITIT_RESULTS", results)
    lost, = slurm.tolerant_results(fake_task(tmp_path, state, with_result))
    assert isinstance(lost, slurm.LostTask) and lost.reason == reason and list(lost.overrides) == ["DS=6"]
    assert lost.return_value is None  # a completed job for Hydra's sweeper: the sweep goes on


def test_a_task_with_its_result_is_returned_as_submitit_returns_it(tmp_path, monkeypatch):
    monkeypatch.setattr(slurm, "SUBMITIT_RESULTS", lambda job: ["its JobReturn"])
    assert slurm.tolerant_results(fake_task(tmp_path, "COMPLETED", True)) == ["its JobReturn"]


def test_a_lost_task_counts_in_its_sweep_until_an_attempt_takes_it_up(tmp_path, make_cfg):
    job = tmp_path / "3"  # never started: no .hydra/, only the launcher's record
    record_lost(job, "SLURM task 7_3 ended CANCELLED without a result")
    assert sweep_status(tmp_path)["missing"] == [job] and lost_reason(job).startswith("SLURM task 7_3")
    assert sweep_status(tmp_path, since=time.time() + 60)["missing"] == []  # an earlier sweep's
    (job / ".hydra").mkdir()  # a rerun: Hydra sets the job up, and the job runs
    (job / ".hydra" / "overrides.yaml").write_text("[]\n")
    run_job(make_cfg("N=10", "DS=5", "runs=1", "trainer.max_steps=50"), job, tmp_path)
    assert sweep_status(tmp_path)["ok"] == [job] and lost_reason(job) is None


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


def test_a_request_too_large_for_the_cluster_stops_before_submission(cluster):
    """Against the real sinfo: the launcher exits with one line (as ``python train.py -m ...`` then does)
    and submits nothing. In-process: a front end's start-up would cost this test 10-30 s."""
    from hydra_plugins.memcap_slurm.slurm_launcher import SlurmLauncher

    name = f"memcap-test-{uuid.uuid4().hex[:8]}"
    launcher = SlurmLauncher(partition=None, cpus_per_task=1000, mem_gb=1, gpus_per_node=0, tasks_per_node=1,
                             name=name, submitit_folder="unused", timeout_min=5)
    with pytest.raises(SystemExit) as stopped:
        launcher.launch([["N=10"]], initial_job_idx=0)
    assert str(stopped.value.code).startswith("memcap: error: hydra.launcher: each job asks for 1000 CPUs, 1 GB")
    assert not squeue(name)


def test_a_job_array_survives_a_time_out_and_a_cancelled_task(cluster, tmp_path):
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
    # squeue lists a cancelled pending task as CANCELLED for a while, or forgets it at once (the array's own record).
    named = rf"failed: {re.escape(str(sweep_dir / '2'))} \(SLURM task {array}_2 (ended CANCELLED|left the queue) without"
    assert re.search(named, output), output
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


@pytest.mark.slow
def test_a_task_that_hits_slurms_own_time_limit_is_requeued_and_resumes(cluster, tmp_path):
    """SLURM's own timer, not a signal sent by the test: minutes, so left out of CI (pytest -m slow).

    Task #0's limit is cut to one minute (its twin #1 keeps five); SLURM sends USR2 signal_delay_s before
    the limit, at the controller's next 30-s check, and submitit requeues the task as timed out, as often
    as it takes: the limit stays one minute for every attempt, of which start-up takes 5-15 s, so a fit of
    a minute or two (long enough to be caught by the first signal, 20-50 s in) takes several. It ends
    where its twin ends."""
    name = f"memcap-test-{uuid.uuid4().hex[:8]}"
    sweep_dir = tmp_path / "sweep"
    args = ["N=30", "runs=1", "logger=none", "DS=100", "trainer.max_steps=60000", "trainer.check_every=50",
            "trainer.patience=100000", "trainer.checkpoint_minutes=0.002,0"]
    launcher = [*SIZED, f"hydra.launcher.name={name}", "hydra.launcher.timeout_min=5",
                "hydra.launcher.signal_delay_s=10", "hydra.launcher.max_num_timeout=50"]
    front = subprocess.Popen([sys.executable, "train.py", "-m", "hydra/launcher=slurm", *args, *launcher,
                              f"hydra.sweep.dir={sweep_dir}"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        array = wait_for(lambda: squeue(name), "the array")[0].split("_")[0]
        subprocess.run(["scontrol", "update", f"JobId={array}_0", "TimeLimit=1"], check=True, timeout=10)
        output, _ = front.communicate(timeout=1800)
    finally:
        front.kill()
    assert front.returncode == 0 and "memcap sweep: 2 jobs, 2 ok, 0 failed" in output, output
    results = [json.loads((sweep_dir / job / "result.json").read_text()) for job in ("0", "1")]
    log = "".join(p.read_text() for p in (sweep_dir / ".submitit").glob(f"{array}_0/*_log.*"))
    assert "this job is timed-out" in log and f"Requeued job {array}_0" in log
    assert "resuming the fit of 1 members from checkpoint." in (sweep_dir / "0" / "train.log").read_text()
    assert results[0]["attempts"] >= 2 and results[1]["attempts"] == 1

    def outcome(result):
        return [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]], result["metrics"]

    assert outcome(results[0]) == outcome(results[1])
