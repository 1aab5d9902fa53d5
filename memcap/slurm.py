"""SLURM as memcap's job arrays meet it (the launcher in hydra_plugins/memcap_slurm uses this).

Three things submitit leaves to its caller, each found on a real cluster:

- **A request no node can satisfy.** SLURM accepts it and leaves it pending
  forever (reason ``PartitionConfig``); ``check_request`` compares the
  launcher's cpus/memory/GPUs with the partition's nodes (``sinfo``) before
  anything is submitted and says both in one error.
- **No accounting.** submitit learns a job's state from ``sacct``, which fails
  on clusters without accounting (a one-node test cluster, many small ones):
  it warns at every poll and never learns that a task was cancelled, so a
  sweep would wait for it forever. ``SqueueWatcher`` asks ``squeue`` instead.
- **A task that ends without a result** (cancelled, a node failure; a job
  timed out with no requeue left records that itself, as any failed job
  does). submitit raises for it, which would stop the sweep's front end while
  the other tasks still run; ``tolerant_results`` returns a ``LostTask``
  instead, which the launcher records for memcap.sweep_summary.SweepSummary.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from hydra.core.utils import JobReturn, JobStatus
from submitit.core.utils import FailedJobError, UncompletedJobError
from submitit.slurm.slurm import SlurmInfoWatcher, SlurmJob

from memcap.config import ConfigError

GONE = "GONE"  # what SqueueWatcher reports for a task squeue no longer lists
# States in which a task is over and will write no result (sacct adds " by <uid>" to CANCELLED).
LOST_STATES = ("CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", GONE)


@dataclass(frozen=True)
class Node:
    cpus: int
    mem_mb: int
    gpus: int


def partition_nodes(partition: str | None) -> list[Node] | None:
    """The nodes of ``partition`` (None: the cluster's default one), from sinfo; None where sinfo is not there."""
    if shutil.which("sinfo") is None:
        return None
    lines = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%P|%c|%m|%G"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    nodes = []
    for line in lines:
        name, cpus, mem, gres = line.split("|")
        default = name.endswith("*")
        if name.rstrip("*") == partition or (partition is None and default):
            gpus = sum(int(m.group(1)) for m in re.finditer(r"gpu(?::[^:,(]+)?:(\d+)", gres))
            nodes.append(Node(int(cpus), int(mem.rstrip("+")), gpus))
    return nodes


def check_request(params: dict) -> None:
    """Raise a ConfigError when no node of the launcher's partition has the cpus, memory and GPUs one task asks for.

    ``params`` are the launcher's (``hydra.launcher.*``). Without sinfo (submitting from a machine that
    is not a SLURM client) nothing is checked: sbatch would fail on its own.
    """
    partition = params.get("partition")
    nodes = partition_nodes(partition)
    if nodes is None:
        return
    where = f"partition {partition}" if partition else "the default partition"
    if not nodes:
        raise ConfigError("hydra.launcher.partition", f"sinfo lists no nodes in {where}")
    tasks = params.get("tasks_per_node") or 1
    cpus = (params.get("cpus_per_task") or 1) * tasks
    mem_gb = params.get("mem_gb") or 0
    gpus = params.get("gpus_per_node") or (params.get("gpus_per_task") or 0) * tasks
    if any(n.cpus >= cpus and n.mem_mb >= mem_gb * 1024 and n.gpus >= gpus for n in nodes):
        return
    best = Node(max(n.cpus for n in nodes), max(n.mem_mb for n in nodes), max(n.gpus for n in nodes))
    raise ConfigError(
        "hydra.launcher",
        f"each job asks for {cpus} CPUs, {mem_gb} GB and {gpus} GPUs, more than any node of {where} has "
        f"(at most {best.cpus} CPUs, {best.mem_mb // 1024} GB, {best.gpus} GPUs): it would pend forever. Size it to "
        f"the nodes, e.g. hydra.launcher.cpus_per_task={min(cpus, best.cpus) // tasks or 1} "
        f"hydra.launcher.mem_gb={min(mem_gb, best.mem_mb // 1024)} hydra.launcher.gpus_per_node={min(gpus, best.gpus)}")


def accounting_enabled() -> bool:
    """Whether sacct can answer: the cluster stores accounting (``AccountingStorageType`` is not none).
    Without scontrol, submitit's default (sacct) is left alone."""
    if shutil.which("scontrol") is None:
        return True
    config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True).stdout
    found = re.search(r"^AccountingStorageType\s*=\s*(\S+)", config, re.MULTILINE)
    return found is not None and found.group(1) != "accounting_storage/none"


class SqueueWatcher(SlurmInfoWatcher):
    """submitit's job-state watcher, asking squeue instead of sacct (for clusters without accounting).

    squeue lists finished jobs for ``MinJobAge`` (300 s by default) after they end, but forgets a
    cancelled pending array task at once; a task it does not list is over and reported as ``GONE``
    (its result, if any, is on disk).
    """

    FIELDS = "JobID|State|NodeList"

    def _make_command(self) -> list[str] | None:
        if not self._registered - self._finished:
            return None
        return ["squeue", "--me", "--states=all", "--array", "--noheader", "--format=%i|%T|%N"]

    def read_info(self, string: bytes | str) -> dict[str, dict[str, str]]:
        text = string if isinstance(string, str) else string.decode()
        info = super().read_info(f"{self.FIELDS}\n{text}")
        gone = {"JobID": "", "State": GONE, "NodeList": ""}
        return {**{job: gone for job in self._registered - self._finished}, **info}


@dataclass
class LostTask(JobReturn):
    """A task the cluster ended without a result: for the sweep a completed job, with ``reason`` to record."""

    reason: str = ""


def tolerant_results(job: SlurmJob) -> list:
    """``SlurmJob.results`` that returns a LostTask for a task ended without a result, instead of raising.

    Without a result: SLURM ended it (cancelled, a node failure: no result file), or submitit's wrapper
    failed outside memcap's job, which records its own failures (a time-out with no requeue left among
    them: result.json says ``UncompletedJobError: Job not requeued because: timed-out too many times``).
    """
    job.wait()
    state = job.state
    reason = ("left the queue" if state == GONE else f"ended {state.split()[0]}") + " without a result"
    if not state.startswith(LOST_STATES) or job.paths.result_pickle.exists():
        try:
            return SUBMITIT_RESULTS(job)
        except FailedJobError as error:  # (an UncompletedJobError) its message ends with the exception's line
            reason = f"failed ({[line for line in str(error).splitlines() if line.strip()][-1].strip()})"
        except UncompletedJobError:
            pass  # ended without writing its result (killed as it finished)
    return [LostTask(overrides=job.submission().args[0], status=JobStatus.COMPLETED, _return_value=None,
                     reason=f"SLURM task {job.job_id} {reason}")]


SUBMITIT_RESULTS = SlurmJob.results


@contextmanager
def waiting_as_memcap() -> Iterator[None]:
    """For one sweep's launch: submitit's SlurmJob waits with ``tolerant_results``, and asks squeue where the
    cluster has no accounting. submitit has no hook for either (its array tasks are built as SlurmJob
    whatever the executor's job class), so both are patched on SlurmJob for the launch only."""
    watcher = SlurmJob.watcher if accounting_enabled() else SqueueWatcher(delay_s=60)
    with mock.patch.object(SlurmJob, "results", tolerant_results), mock.patch.object(SlurmJob, "watcher", watcher):
        yield
