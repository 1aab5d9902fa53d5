"""The job lifecycle (memcap.lifecycle): identity, resumption from mid-round checkpoints, locks, kept results.

Every test here drives real sweeps through train.py (Hydra's basic launcher)
in subprocesses, kills them with SIGKILL where a cluster would (preemption, a
time limit), and compares what the resumed sweep left with an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from memcap.lifecycle import run_job
from memcap.patterns.module import STOP_REASONS
from memcap.results import read_result
from tests.helpers import ENV, ROOT
from tests.helpers import TINY_JOB as TINY

# Rounds of a few seconds that run to the step cap (DS far above capacity, no plateau stop),
# checkpointed about every 0.1 s: a kill lands mid-fit.
SLOW = ["logger=none", "runs=2", "DS=100", "trainer.max_steps=400", "trainer.check_every=50",
        "trainer.patience=1000", "trainer.checkpoint_minutes=0.002"]


def command_args(sweep_dir: Path, *args: str) -> list[str]:
    """train.py's command line, after ``python train.py``: a sweep (Hydra's basic launcher) into ``sweep_dir``."""
    return ["-m", *args, f"hydra.sweep.dir={sweep_dir}"]


def command(sweep_dir: Path, *args: str) -> list[str]:
    return [sys.executable, str(ROOT / "train.py"), *command_args(sweep_dir, *args)]


def sweep(sweep_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(sweep_dir, *args), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)


def start(sweep_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(command(sweep_dir, *args), cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def kill_when(process: subprocess.Popen, ready, timeout: float = 300) -> None:
    """SIGKILL the sweep's whole process group as soon as ``ready()`` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the sweep ended before the moment to kill it"
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def outcome(sweep_dir: Path) -> dict:
    """Each job's points (without wall-clock seconds) and metrics, by its N."""
    found = {}
    for path in sweep_dir.glob("*/result.json"):
        result = json.loads(path.read_text())
        assert result["status"] == "ok", path
        points = [{k: v for k, v in p.items() if k != "seconds"} for p in result["points"]]
        found[result["config"]["N"]] = (points, result["metrics"])
    return found


def test_a_sweep_killed_mid_round_resumes_to_the_same_points(tmp_path):
    args = [*SLOW, "N=30,34"]
    reference = tmp_path / "reference"
    assert sweep(reference, *args).returncode == 0
    killed = tmp_path / "killed"

    def checkpointed(job: str):  # a mid-round checkpoint written, and the result.json saved after it (its wall time)
        def ready() -> bool:
            result = read_result(killed / job / "result.json")
            return any((killed / job).glob("checkpoint.*.ckpt")) and isinstance(result, dict) and result["wall_time"] > 0
        return ready

    # Two kills: inside the first job's fit, then inside the second's (the first is done by then).
    for job in ("0", "1"):
        process = start(killed, *args)
        kill_when(process, checkpointed(job))
        assert read_result(killed / job / "result.json")["status"] == "running"
    resumed = sweep(killed, *args)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "resuming the fit of 2 members from checkpoint" in resumed.stdout
    assert outcome(killed) == outcome(reference)
    assert not list(killed.glob("*/checkpoint.*.ckpt"))  # removed once their points were recorded
    # Each job was killed once and finished on its second attempt; wall time counts both.
    for path in killed.glob("*/result.json"):
        result = json.loads(path.read_text())
        assert result["attempts"] == 2 and result["wall_time"] > result["wall_time_last"]


# Recurrent, 2 steps, N=30 (capacity about 414), DS=430: two members that stop on their plateaus 1000 steps
# apart (about 1400 and 2400). The mid-round checkpoints the test needs are taken at the steps it chooses
# (hooked_train); the job's own timer is set far beyond the fit.
RECURRENT_PLATEAU = ["logger=none", "model=recurrent", "steps=2", "N=30", "DS=430", "runs=2", "lr=0.1",
                     "trainer.max_steps=3000", "trainer.check_every=50", "trainer.patience=2",
                     "model.patience_fraction=0", "trainer.checkpoint_minutes=60"]

# The fit checkpoints and kills itself at the first of STEPS it reaches (a resumed fit starts past the one it
# was killed at), as a preemption right after a timed checkpoint would.
KILL_AT_STEPS = """
    STEPS = {steps!r}

    class KillAtStep(pl.Callback):
        def on_train_batch_end(self, trainer, *args):
            if trainer.global_step in STEPS:
                checkpoint_now(trainer)
                kill_the_sweep()

    on_every_fit(KillAtStep())
"""


def test_a_recurrent_job_killed_twice_mid_round_resumes_to_the_same_points(tmp_path, hooked_train):
    """The second kill lands in the resumed fit after one member has stopped on its plateau: its frozen weights,
    best count and Adam state come back from the checkpoint with the other's, and it stays stopped.

    The kills come at steps read off the uninterrupted job's points: the first halfway to the earlier stop
    (both members training), the second halfway between the two stops (one stopped, one training)."""
    reference = tmp_path / "reference"
    assert sweep(reference, *RECURRENT_PLATEAU).returncode == 0
    points = outcome(reference)[30][0]
    assert [p["stop"] for p in points] == ["plateau", "plateau"]  # the case this test is for:
    first, last = sorted(p["steps"] for p in points)
    assert last - first >= 1000  # one stops long before the other
    steps = (first // 2, (first + last) // 2)
    killed = tmp_path / "killed"
    hooked = hooked_train(KILL_AT_STEPS.format(steps=set(steps))) + command_args(killed, *RECURRENT_PLATEAU)

    def saved_fit() -> dict:
        (checkpoint,) = (killed / "0").glob("checkpoint.*.ckpt")
        return torch.load(checkpoint, weights_only=False)

    for step, stopped in zip(steps, (["running", "running"], ["plateau", "running"])):
        done = subprocess.run(hooked, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
        assert done.returncode == -signal.SIGKILL, done.stdout[-3000:] + done.stderr[-3000:]
        fit = saved_fit()
        assert fit["global_step"] == step
        assert sorted(STOP_REASONS[s] for s in fit["state_dict"]["stop"].tolist()) == stopped
        assert read_result(killed / "0" / "result.json")["status"] == "running"
    resumed = sweep(killed, *RECURRENT_PLATEAU)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "resuming the fit of 2 members from checkpoint" in resumed.stdout
    assert outcome(killed) == outcome(reference)
    assert read_result(killed / "0" / "result.json")["attempts"] == 3


# A text state job (search=state: a stream of fresh strings) of one width, one fit of a few seconds to its step cap.
TEXT_STATE = ["logger=none", "data=text", "search=state", "text.source=random", "runs=1", "text.heldout=256",
              "text.validation=64", "model=gru", "text.length=3", "search.min_hidden=4", "search.max_hidden=4",
              "search.max_steps=300", "search.check_every=50", "search.patience=1000", "search.lrs=[0.01]",
              "trainer.checkpoint_minutes=0.002"]


def test_a_text_stream_job_killed_mid_fit_resumes_from_its_checkpoint_to_the_same_result(tmp_path, make_cfg, caplog):
    """The stream's generator travels in the mid-round checkpoint with the weights and Adam: the resumed fit draws
    the strings the uninterrupted one would have drawn, and ends with the same points and metrics."""
    killed = tmp_path / "killed"
    kill_when(start(killed, *TEXT_STATE), lambda: any((killed / "0").glob("checkpoint.*.ckpt")))
    assert read_result(killed / "0" / "result.json")["points"] == []  # killed inside the fit, nothing recorded yet
    cfg = make_cfg(*TEXT_STATE)  # composed as train.py composed it: the same identity, so the job resumes
    with caplog.at_level("INFO", logger="memcap"):
        resumed = run_job(cfg, killed / "0", killed)
    assert "resuming the fit of 1 members from checkpoint" in caplog.text
    reference = run_job(cfg, tmp_path / "reference", tmp_path / "reference")
    timeless = [[{k: v for k, v in p.items() if k != "seconds"} for p in r["points"]] for r in (resumed, reference)]
    assert timeless[0] == timeless[1] and resumed["metrics"] == reference["metrics"]
    assert resumed["points"][0]["steps"] == 300 and resumed["attempts"] == 2
    assert not list((killed / "0").glob("checkpoint.*.ckpt"))


def test_reordered_and_inserted_values_reuse_every_finished_job(tmp_path):
    assert sweep(tmp_path, *TINY, "DS=30", "N=20,24").returncode == 0
    before = outcome(tmp_path)
    again = sweep(tmp_path, *TINY, "DS=30", "N=24,22,20")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("skipped") == 2  # 24 and 20 found in the sweep's index, not retrained
    assert again.stdout.count("] - training") == 1  # only N=22
    after = outcome(tmp_path)
    assert after[20] == before[20] and after[24] == before[24] and 22 in after
    # Nothing finished was lost: the results that sat in job 0 and 1 are kept beside the new ones.
    kept = {read_result(p)["config"]["N"] for p in tmp_path.glob("*/result.*.json")}
    assert kept == {20, 24}


def test_a_result_changing_key_retrains_and_keeps_the_old_result(tmp_path):
    assert sweep(tmp_path, *TINY, "DS=30", "N=20").returncode == 0
    old = json.loads((tmp_path / "0" / "result.json").read_text())
    changed = sweep(tmp_path, *TINY, "DS=30", "N=20", "loss.tau=3")
    assert changed.returncode == 0
    assert "skipped" not in changed.stdout and "] - training" in changed.stdout
    assert f"as result.{old['job']}.json (it is the result of another config)" in changed.stdout
    new = json.loads((tmp_path / "0" / "result.json").read_text())
    assert new["job"] != old["job"] and new["identity"]["loss"]["tau"] == 3.0
    assert json.loads((tmp_path / "0" / f"result.{old['job']}.json").read_text()) == old
    # A key that cannot change a result (where it is logged) is the same job.
    same = sweep(tmp_path, *TINY, "DS=30", "N=20", "loss.tau=3", "logger=csv")
    assert "complete, skipped" in same.stdout


# Each runner holds its first fit until the other has begun one too: whichever took a job's lock first waits
# there, so the other finds that job taken (and trains the next), however far apart the two started.
BOTH_RUNNERS_TRAINING = """
    BARRIER = Path({barrier!r})

    class WaitForTheOtherRunner(pl.Callback):
        waited = False

        def on_train_start(self, trainer, *args):
            if self.waited:
                return
            self.waited = True
            mark(BARRIER / str(os.getpid()))
            deadline = time.monotonic() + 300  # a safety net: the other runner has died
            while len([p for p in BARRIER.iterdir() if not p.name.endswith(".tmp")]) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the other runner never began a fit")
                time.sleep(0.01)

    on_every_fit(WaitForTheOtherRunner())
"""


def test_two_runners_on_one_sweep_train_each_job_once(tmp_path, hooked_train):
    """Two runners of one sweep at once: each job is trained by one of them; a job one holds, the other skips as
    running elsewhere. Each holds its first fit until the other has begun one, so they overlap however far
    apart this machine starts them."""
    sweep_dir, barrier = tmp_path / "sweep", tmp_path / "barrier"
    barrier.mkdir()
    hooked = hooked_train(BOTH_RUNNERS_TRAINING.format(barrier=str(barrier)))
    args = command_args(sweep_dir, *TINY, "DS=30", "N=20,22,24")  # short jobs: the overlap is the hook's
    first, second = (subprocess.Popen(hooked + args, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, start_new_session=True) for _ in range(2))
    with ended_at_exit(first, second):
        out = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, out
    assert len(list(barrier.iterdir())) == 2  # both runners trained a job
    summaries = sum(text.count("memcap simple/") for text in out)
    assert summaries == 3, out  # each job's summary line: written by the one runner that trained it
    assert sum(text.count("running elsewhere, skipped") for text in out) >= 1
    assert all(json.loads(p.read_text())["attempts"] == 1 for p in sweep_dir.glob("*/result.json"))


def test_a_pruning_job_killed_after_two_rounds_resumes_at_round_three(tmp_path):
    args = ["logger=none", "runs=2", "N=20", "DS=40", "prune=lottery", "prune.rounds=3", "prune.target=null",
            "trainer.max_steps=300", "trainer.check_every=25", "lr=0.1"]
    reference = tmp_path / "reference"
    assert sweep(reference, *args).returncode == 0
    killed = tmp_path / "killed"

    def two_rounds() -> bool:
        result = read_result(killed / "0" / "result.json")
        return isinstance(result, dict) and len(result["metrics"].get("rounds", [])) == 2

    kill_when(start(killed, *args), two_rounds)
    resumed = sweep(killed, *args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("] - training") == 2  # rounds 2 and 3 only: round three onwards
    assert outcome(killed) == outcome(reference)


MALFORMED = {
    "metric": lambda r: r["metrics"].update(memorized_max="abc"),
    "point": lambda r: r["points"].__setitem__(0, "x"),
    "config": lambda r: r["config"].update(N="twenty"),
}


@pytest.mark.parametrize("field", MALFORMED)
def test_a_malformed_result_is_skipped_by_the_aggregation_and_retrained(tmp_path, field, make_cfg):
    cfg = make_cfg("N=20", "DS=30", "runs=2", "trainer.max_steps=100", "lr=0.1")
    good = run_job(cfg, tmp_path / "good", "test")
    bad = json.loads(json.dumps(good))
    MALFORMED[field](bad)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "result.json").write_text(json.dumps(bad))

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "aggregate.py"), str(tmp_path), "--out",
                           str(tmp_path / "tables"), "--formats", "md"], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "bad/result.json" in done.stdout + done.stderr and "malformed" in done.stdout + done.stderr
    assert (tmp_path / "tables" / "tables.md").exists()

    rerun = run_job(cfg, tmp_path / "bad", "test")  # not trusted as complete: trained again
    assert rerun["status"] == "ok" and rerun["metrics"] == good["metrics"]
    assert len(list((tmp_path / "bad").glob("result.malformed-*.json"))) == 1


def test_results_are_readable_by_the_group_and_stale_temporaries_go(tmp_path, make_cfg):
    job = tmp_path / "job"
    job.mkdir()
    stale = job / ".result.json.abc.tmp"
    stale.write_text("{")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    old_umask = os.umask(0o022)
    try:
        run_job(make_cfg("N=20", "DS=30", "runs=1", "trainer.max_steps=50"), job, "test")
    finally:
        os.umask(old_umask)
    assert (job / "result.json").stat().st_mode & 0o777 == 0o644
    assert not stale.exists()


def test_wall_time_sums_every_attempt(tmp_path, make_cfg):
    cfg = make_cfg("N=20", "DS=30", "runs=1", "trainer.max_steps=50")
    first = run_job(cfg, tmp_path, "test")
    first["status"], first["wall_time"], first["wall_time_last"] = "running", 100.0, 100.0
    (tmp_path / "result.json").write_text(json.dumps(first))
    again = run_job(cfg, tmp_path, "test")
    assert again["attempts"] == 2
    assert again["wall_time"] == pytest.approx(100.0 + again["wall_time_last"], abs=1e-3)


def test_the_sweep_summary_counts_only_this_sweeps_jobs(tmp_path):
    assert sweep(tmp_path, *TINY, "DS=30", "N=20,22").returncode == 0
    smaller = sweep(tmp_path, *TINY, "DS=30", "N=20")
    assert "memcap sweep: 1 jobs, 1 ok, 0 failed" in smaller.stdout


def test_diverged_members_are_counted_and_said(tmp_path, make_cfg):
    result = run_job(make_cfg("model=recurrent", "N=20", "DS=40", "runs=2", "lr=1e37", "trainer.max_steps=100"),
                     tmp_path, "test")
    assert result["status"] == "ok" and result["metrics"]["diverged"] == 2


def test_the_aggregation_tells_apart_configs_that_share_a_flat_config(tmp_path, make_cfg):
    from memcap.aggregate.sources import load_dirs

    for tau in (3, 10):
        cfg = make_cfg("N=20", "DS=30", "runs=1", "trainer.max_steps=60", f"loss.tau={tau}")
        run_job(cfg, tmp_path / f"tau{tau}", "test")
    run_job(cfg, tmp_path / "again", "test")  # a true duplicate of tau=10: counted once
    df, skipped = load_dirs([tmp_path])
    assert sorted(df["loss.tau"]) == [3.0, 10.0] and "loss.tau" in df.attrs["config_keys"]
    assert [why for _, why in skipped] == [f"duplicate of {tmp_path / 'again' / 'result.json'}"] or \
        [why for _, why in skipped] == [f"duplicate of {tmp_path / 'tau10' / 'result.json'}"]


def test_progress_line_gives_the_rate_of_this_attempt_and_the_longest_the_fit_can_take(monkeypatch, caplog):
    """A resumed fit (from step 100) that reaches step 400 a minute later runs at 300 steps a minute, and
    its 600 steps left to the cap of 1000 take at most 2 minutes."""
    from types import SimpleNamespace

    from memcap import fitting

    clock = iter([1000.0, 1000.0, 1060.0])  # construction, on_train_start, the batch a minute later
    monkeypatch.setattr(fitting.time, "monotonic", lambda: next(clock))
    callback = fitting.ProgressLog("DS", [(300, 0), (300, 1)])
    trainer = SimpleNamespace(global_step=100, max_steps=1000)
    module = SimpleNamespace(progress=lambda: "2/2 members training")
    callback.on_train_start(trainer, module)
    trainer.global_step = 400
    with caplog.at_level("INFO", logger="memcap"):
        callback.on_train_batch_end(trainer, module, None, None, 0)
    assert "DS=[300] step 400/1000 (300/min, at most 2 min left), 2/2 members training, 60s" in caplog.text


def test_the_git_commit_is_read_once_per_process(monkeypatch):
    """A sweep's process runs the code it imported to its end: a commit made meanwhile must not relabel its jobs."""
    from memcap import results

    results.git_commit.cache_clear()
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(results.subprocess, "run", lambda *args, **kwargs: calls.append(args[0]) or real_run(*args, **kwargs))
    try:
        first = results.versions()["git_commit"]
        commands = len(calls)
        assert commands >= 1 and first == results.versions()["git_commit"] == results.git_commit()
        assert len(calls) == commands  # git is asked once, at the first job
    finally:
        results.git_commit.cache_clear()


# A mark when the fit reaches step 100 (and it trains on): the fit is under way, its attempt saved long before.
MARK_AT_STEP_100 = """
    class MarkAtStep100(pl.Callback):
        def on_train_batch_end(self, trainer, *args):
            if trainer.global_step == 100:
                mark({path!r}, str(os.getpid()))

    on_every_fit(MarkAtStep100())
"""


@contextmanager
def ended_at_exit(*processes: subprocess.Popen) -> Iterator[None]:
    """Whatever the block does (an assertion that fails while they run), ``processes`` (each started in a
    session of its own) are not left running after it."""
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()


def wait_until(process: subprocess.Popen, ready, what: str):
    """Poll ``ready()`` until it returns something true (returned) while ``process`` (in a session of its own)
    runs; a deadline only against a hang, after which the process is ended and its output shown."""
    deadline = time.monotonic() + 300
    while not (found := ready()):
        assert process.poll() is None, f"the process ended before {what}: " + process.communicate()[0][-3000:]
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"{what} never came: " + process.communicate()[0][-3000:])
        time.sleep(0.02)
    return found


def test_sigterm_saves_the_job_as_running_with_its_wall_time_and_the_rerun_resumes_it(tmp_path, hooked_train):
    """kill, scancel, SLURM's time limit and a closing terminal send SIGTERM: the job saves its result as running,
    wall time included (Python's default ended the process at once and lost the time since the last save).

    SIGTERM comes once the fit has reached step 100. The attempt saved itself before its fit; the wall time
    saved at SIGTERM exceeds that one by at least the time the test saw go by between reading it and SIGTERM."""
    # A fit that runs until it is stopped, on any machine: no fail-fast stop, no plateau, a step cap far away;
    # no mid-round checkpoints, so nothing is saved between the attempt's start and SIGTERM.
    args = ["logger=none", "N=30", "DS=400", "runs=1", "trainer.max_steps=100000000", "trainer.check_every=50",
            "trainer.patience=100000000", "trainer.checkpoint_minutes=0", "search.fail_fast_steps=null"]
    rounding = 0.002  # wall times are saved to the millisecond: each compared pair may lose up to that
    marked = tmp_path / "step100.mark"
    hooked = hooked_train(MARK_AT_STEP_100.format(path=str(marked)))

    def start_and_terminate(attempt: int):
        process = subprocess.Popen([*hooked, f"hydra.run.dir={tmp_path}", *args], cwd=ROOT, env=ENV,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)

        def begun():  # the attempt's first save, as soon as it is there
            result = read_result(tmp_path / "result.json")
            return isinstance(result, dict) and result["attempts"] == attempt and result

        with ended_at_exit(process):
            saved = wait_until(process, begun, f"attempt {attempt}'s first save")["wall_time"]
            read_at = time.monotonic()
            wait_until(process, lambda: marked.exists() and marked.read_text() == str(process.pid), "step 100")
            process.send_signal(signal.SIGTERM)
            since = time.monotonic() - read_at  # at most the time between that save and SIGTERM
            output, _ = process.communicate(timeout=120)
        assert process.returncode != 0, output[-3000:]
        assert "interrupted: " in output and "saved as running" in output
        assert "Traceback" not in output
        result = read_result(tmp_path / "result.json")
        assert result["status"] == "running" and result["wall_time"] >= saved + since - rounding, output[-3000:]
        return result, since

    first, _ = start_and_terminate(attempt=1)
    second, since = start_and_terminate(attempt=2)  # the same command takes the job up again
    assert first["attempts"] == 1 and second["attempts"] == 2
    assert second["job"] == first["job"] and second["wall_time"] >= first["wall_time"] + since - rounding


# The oracle, once begun, solves its dataset's LPs over and over: SIGTERM lands in them, whenever it comes (a
# dataset of this size takes seconds, of Table 1's hours; here the test need not race its end).
ORACLE_UNTIL_STOPPED = """
    from memcap.patterns.oracle import metrics as oracle  # where oracle_metrics looks the solver up

    interval = oracle.oracle_interval

    def oracle_until_stopped(*args, **kwargs):
        mark({path!r}, str(os.getpid()))
        deadline = time.monotonic() + 600  # a safety net: no SIGTERM came
        while time.monotonic() < deadline:
            found = interval(*args, **kwargs)
        return found

    oracle.oracle_interval = oracle_until_stopped
"""


def test_sigterm_in_the_oracle_ends_the_sweep_with_one_line_and_no_traceback(tmp_path, hooked_train):
    """Outside a fit (the LP oracle: Table 1's largest job spends hours there) SIGTERM reaches the sweep as an
    exception, not as Lightning's exit: the job saves itself, says so, and the command exits 143 quietly.

    SIGTERM comes once the oracle has begun its dataset's LPs, which go on until it comes."""
    marked = tmp_path.parent / f"{tmp_path.name}.oracle"  # beside the sweep, not in it
    hooked = hooked_train(ORACLE_UNTIL_STOPPED.format(path=str(marked)))
    args = command_args(tmp_path, "logger=none", "N=40", "DS=400", "runs=1", "trainer.max_steps=100",
                        "search.oracle=true")
    process = subprocess.Popen(hooked + args, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    with ended_at_exit(process):
        wait_until(process, lambda: marked.exists() and marked.read_text() == str(process.pid), "the oracle's LPs")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, output[-3000:]
    assert "interrupted: " in output and "saved as running" in output
    assert "Traceback" not in output, output[-3000:]
    assert read_result(tmp_path / "0" / "result.json")["status"] == "running"


def test_a_sigterm_handler_already_set_is_left_alone():
    """In a SLURM job submitit handles SIGTERM (it bypasses it: part of its requeue protocol); the job leaves it."""
    from memcap.lifecycle import Terminated, terminated_as_interrupt

    def bypass(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, bypass)
    try:
        with terminated_as_interrupt():
            assert signal.getsignal(signal.SIGTERM) is bypass
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with pytest.raises(Terminated), terminated_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs between bytecodes: at once
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored after the block
    finally:
        signal.signal(signal.SIGTERM, previous)
