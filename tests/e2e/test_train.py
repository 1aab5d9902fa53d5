"""Whole jobs: bad input, and the recurrent sweep (-m model=recurrent steps=2,3 N=...) through Hydra's real launcher."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memcap.config import ConfigError
from memcap.lifecycle import run_job as run
from memcap.patterns.config import validate
from memcap.search import settled
from tests.helpers import ENV, ROOT, train_py

TINY = ["logger=none", "trainer.max_steps=150", "trainer.check_every=25", "lr=0.1"]


def train(*args: str, cwd=ROOT, env=None) -> subprocess.CompletedProcess:
    return train_py(*args, cwd=cwd, env={**ENV, **(env or {})})


@pytest.mark.parametrize("overrides,key,message", [
    (["N=0"], "N", "positive integer"),
    (["N=-5"], "N", "positive integer"),
    (["s=0"], "s", "(0, 1)"),
    (["s=1.5"], "s", "(0, 1)"),
    (["N=5", "s=0.05"], "s", "0 active bits"),
    (["DS=0"], "DS", "at least 1"),
    (["N=10", "DS=11"], "DS", "C(10, 1) = 10"),
    (["model=recurrent", "steps=0"], "steps", "at least 1"),
    (["steps=2"], "steps", "model=simple has exactly 1 step"),
    (["model=recurrent", "steps=1"], "steps", "steps >= 2"),
    (["runs=0"], "runs", "at least 1"),
    (["lr=0"], "lr", "positive"),
    (["lr=-0.1"], "lr", "positive"),
    (["search=fixed"], "DS", "needs an integer DS"),
    (["search.step=0"], "search.step", "at least 1"),
    (["search.threshold=1.5"], "search.threshold", "(0, 1]"),
    (["trainer.max_steps=0"], "trainer.max_steps", "at least 1"),
    (["trainer.schedule=linear"], "trainer.schedule", "allowed: constant, cosine, warmup_cosine"),
    (["loss.margin=0"], "loss.margin", "positive"),
    (["search.batch=0"], "search.batch", "at least 1"),
    (["search.max_ds=0"], "search.max_ds", "at least 1"),
    (["trainer.batch_size=0"], "trainer.batch_size", "at least 1"),
    (["trainer.steps_per_call=0"], "trainer.steps_per_call", "at least 1"),
    (["trainer.max_padding=0.5"], "trainer.max_padding", "at least 1"),
    (["model=recurrent", "search.oracle=true"], "search.oracle", "model=simple only"),
    (["lr=inf"], "lr", "finite positive"),
    (["lr=nan"], "lr", "finite positive"),
    (["seed=-1"], "seed", "at least 0"),
    (["N=100000"], "N", "GB"),
    (["+foo=1"], "foo", "no such key"),
    (["+model.foo=1"], "model.foo", "no such key"),
    (["trainer.accelerator=tpu"], "trainer.accelerator", "allowed: auto, cpu"),
    (["loss.tau=inf"], "loss.tau", "finite positive"),
    (["trainer.checkpoint_minutes=-1"], "trainer.checkpoint_minutes", "0 (never) or positive"),
])
def test_bad_values_name_the_key(make_cfg, overrides, key, message, tmp_path):
    cfg = make_cfg(*overrides)
    with pytest.raises(ConfigError) as error:
        run(cfg, tmp_path, "test")
    assert error.value.key == key and message in str(error.value)
    assert not any(tmp_path.iterdir())  # nothing that looks like a result


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is present")
def test_a_gpu_asked_for_where_there_is_none_is_refused(make_cfg, tmp_path):
    with pytest.raises(ConfigError, match="no CUDA GPU is visible here"):
        run(make_cfg("trainer.accelerator=gpu"), tmp_path, "test")
    assert not any(tmp_path.iterdir())


def test_unknown_names_are_refused(make_cfg):
    cfg = make_cfg()
    cfg.model.name = "resnet"
    with pytest.raises(ConfigError, match="allowed: simple, recurrent"):
        validate(cfg)
    cfg = make_cfg()
    cfg.loss.name = "mse"
    with pytest.raises(ConfigError, match="allowed: bce, bce_ignore, hinge, log_hinge"):
        validate(cfg)


def train_concurrently(*commands: list[str]) -> list[subprocess.CompletedProcess]:
    """``train`` for each argument list, all started at once (the cases of one test share the cores)."""
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    started = [(args, subprocess.Popen([sys.executable, str(ROOT / "train.py"), *args], cwd=ROOT, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
               for args in commands]
    done = []
    for args, process in started:
        stdout, stderr = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return done


BAD_INPUT = [
    (["N=0"], "memcap: error: N: must be a positive integer, got 0"),
    (["model=recurrent", "steps=1"], "memcap: error: steps:"),
    (["model=transformerz"], "memcap: error: model: no option 'transformerz'; allowed: dense, gru, hybrid, lstm, "),
    (["N=abc"], "memcap: error: N: got 'abc'; allowed: an integer"),
    (["lr=inf"], "memcap: error: lr: must be a finite positive number, got inf"),
    (["seed=-1"], "memcap: error: seed: must be at least 0, got -1"),
    (["+foo=1"], "memcap: error: foo: no such key"),
    (["data=text", "N=50"], "memcap: error: N: is not used by data=text jobs"),
    (["model=recurrent", "trainer.patience_fraction=1"], "memcap: error: trainer.patience_fraction: must be in [0, 1)"),
]


def test_bad_input_exits_with_one_clear_line(tmp_path):
    commands = [[*args, f"hydra.run.dir={tmp_path}/job{i}"] for i, (args, _) in enumerate(BAD_INPUT)]
    for i, (done, (args, expected)) in enumerate(zip(train_concurrently(*commands), BAD_INPUT)):
        assert done.returncode != 0, args
        assert expected in done.stderr, (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, args
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr[-2000:])
        assert not (tmp_path / f"job{i}" / "result.json").exists(), args


def test_design_card_multirun(tmp_path):
    """`train.py -m model=recurrent steps=2,3 N=...` runs one job per combination, each with a result.json."""
    sweep = tmp_path / "sweep"
    done = train("-m", "model=recurrent", "steps=2,3", "N=10,20", "runs=2", *TINY, f"hydra.sweep.dir={sweep}")
    assert done.returncode == 0, done.stderr[-2000:]
    results = sorted(sweep.glob("*/result.json"))
    assert len(results) == 4
    seen = set()
    for path in results:
        result = json.loads(path.read_text())
        c, m = result["config"], result["metrics"]
        seen.add((c["steps"], c["N"]))
        assert result["status"] == "ok" and set(result) >= {"config", "metrics", "points", "versions", "wall_time"}
        assert c["model"] == "recurrent" and m["params"] == 2 * c["N"] ** 2
        # Every point of the search is recorded, the capacity point among them with each run (a run trained again
        # to its plateau by its settled point).
        at_capacity = [p["memorized"] for p in settled(result["points"]) if p["DS"] == m["capacity_ds"]]
        assert sorted(at_capacity) == sorted(m["memorized_runs"]) and len(at_capacity) == 2
        assert m["memorized_max"] == max(at_capacity) and m["memorized_max"] / m["capacity_ds"] > 0.9
    assert seen == {(2, 10), (3, 10), (2, 20), (3, 20)}
    assert done.stdout.count("memcap recurrent/bce") == 4  # one summary line per job


def test_same_seed_same_result(make_cfg, tmp_path):
    cfg = make_cfg("N=20", "DS=60", "runs=2", *TINY)
    first = run(cfg, tmp_path / "a", "test")
    second = run(cfg, tmp_path / "b", "test")
    assert first["metrics"] == second["metrics"]
    strip = lambda points: [{k: v for k, v in p.items() if k != "seconds"} for p in points]
    assert strip(first["points"]) == strip(second["points"])


@pytest.mark.parametrize("model", ["simple", "recurrent"])
def test_the_thread_count_does_not_change_the_result(make_cfg, tmp_path, model):
    """``trainer.threads`` is outside a job's identity (a job resumed or skipped under another launcher
    keeps its answer), so 1 and 2 torch threads must give the same counts and losses, to the bit."""
    import torch

    before = torch.get_num_threads()
    try:
        results = [run(make_cfg(f"model={model}", "N=64", "DS=200", "runs=2", *TINY, f"trainer.threads={threads}"),
                       tmp_path / str(threads), "test") for threads in (1, 2)]
    finally:
        torch.set_num_threads(before)
    assert [r["versions"]["torch_threads"] for r in results] == [1, 2]
    strip = lambda points: [{k: v for k, v in p.items() if k != "seconds"} for p in points]
    assert strip(results[0]["points"]) == strip(results[1]["points"])
    assert results[0]["metrics"] == results[1]["metrics"]


def wandb_records(run_file: Path) -> list:
    """The protobuf records of an offline W&B run file (``run-<id>.wandb``): a 7-byte header, then
    LevelDB-log blocks of 32 KiB whose chunks (7-byte header: crc, length, type) hold the records."""
    from wandb.proto import wandb_internal_pb2

    data, records, pending, block = run_file.read_bytes(), [], b"", 32768
    position = 7
    while position + 7 <= len(data):
        left = block - position % block
        if left < 7:  # a block's tail too short for a chunk header is padding
            position += left
            continue
        length, kind = int.from_bytes(data[position + 4:position + 6], "little"), data[position + 6]
        if kind == 0 or position + 7 + length > len(data):  # a chunk wandb-core is still writing: read it later
            break
        pending += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def test_wandb_offline_run_charts_the_search_and_warns_nothing(make_cfg, tmp_path, monkeypatch, capfd):
    """The offline run holds one history row per DS candidate of each round, on its own step axis
    (``search/round``, not Lightning's ``trainer/global_step``); wandb prints no warning."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "false")
    result = run(make_cfg("N=10", "s=0.2", "runs=1", *TINY[1:], "logger=wandb", "search.step=5"), tmp_path, "test")
    assert result["status"] == "ok"
    printed = capfd.readouterr()
    assert "WARNING" not in printed.out + printed.err, printed.err[-2000:]
    # wandb-core writes the file from its own process and may still be flushing it when finish() returns.
    run_file, deadline = next((tmp_path / "wandb").glob("offline-run-*/run-*.wandb")), time.monotonic() + 60
    records = wandb_records(run_file)
    while not any(r.HasField("exit") for r in records) and time.monotonic() < deadline:
        time.sleep(0.2)
        records = wandb_records(run_file)
    # Read mid-write (any prefix of the file), the records are a prefix of the whole file's, never an error.
    data, partial = run_file.read_bytes(), tmp_path / "partial.wandb"
    for cut in range(0, len(data), max(1, len(data) // 200)):
        partial.write_bytes(data[:cut])
        assert wandb_records(partial) == records[:len(wandb_records(partial))]

    axes = {(m.metric.name or m.metric.glob_name): m.metric.step_metric for m in records if m.HasField("metric")}
    assert axes.get("search/*") == "search/round" and axes.get("train/*") == "trainer/global_step", axes
    rows = [{item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in r.history.item}
            for r in records if r.HasField("history")]
    search = [row for row in rows if "search/round" in row]
    best = {}
    for point in result["points"]:
        best[point["DS"]] = max(best.get(point["DS"], 0), point["memorized"])
    assert {row["search/DS"]: row["search/best"] for row in search} == best  # the capacity curve
    assert len({row["search/round"] for row in search}) > 1
    assert not any("search/round" in row for row in rows if "trainer/global_step" in row)


def test_wandb_service_error_falls_back_to_offline(make_cfg, tmp_path, monkeypatch, capsys):
    # An unreachable server: W&B online mode pointed at a closed local port.
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    cfg = make_cfg("N=20", "DS=40", "runs=1", *TINY[1:], "logger=wandb", "logger.init_timeout=5")
    result = run(cfg, tmp_path, "test-group")
    assert result["status"] == "ok"
    assert capsys.readouterr().err.count("W&B unreachable") == 1
    assert list((tmp_path / "wandb").glob("offline-run-*"))


def kill_wandb_service() -> int:
    """Kill this process's W&B service (its wandb-core child), as the out-of-memory killer would; how many died."""
    killed = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # a process that ended while we looked
        comm, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if comm.startswith("wandb-core") and int(fields[1]) == os.getpid():
            os.kill(int(stat.parent.name), signal.SIGKILL)
            killed += 1
    return killed


def test_a_dead_wandb_service_fails_neither_its_job_nor_the_next(make_cfg, tmp_path, monkeypatch, caplog):
    """The W&B service dies right after a job's run starts: that job still measures (the same result as
    a job whose W&B lives), says once that W&B stopped, and the next job in the process logs to a new service."""
    import memcap.loggers as loggers

    monkeypatch.setenv("WANDB_MODE", "offline")
    define_axes = loggers.define_axes

    def start_then_kill(run):
        define_axes(run)
        assert kill_wandb_service() == 1

    cfg = make_cfg("N=10", "s=0.2", "runs=1", *TINY[1:], "logger=wandb", "search.step=5")
    monkeypatch.setattr(loggers, "define_axes", start_then_kill)
    first = run(cfg, tmp_path / "dead", "test")
    stopped = [r.getMessage() for r in caplog.records if "W&B stopped logging" in r.getMessage()]
    assert len(stopped) == 1 and "ConnectionResetError" in stopped[0], stopped

    monkeypatch.setattr(loggers, "define_axes", define_axes)
    second = run(cfg, tmp_path / "alive", "test")
    assert first["status"] == second["status"] == "ok"
    assert first["metrics"] == second["metrics"] and first["metrics"]["capacity_ds"]
    assert sum("W&B stopped logging" in r.getMessage() for r in caplog.records) == 1  # the second job's W&B lived
    assert list((tmp_path / "alive" / "wandb").glob("offline-run-*/run-*.wandb"))


def test_cfg_job_resolves_the_model_step_budget_with_flags_anywhere():
    """Hydra's flags before or after the overrides; trainer.max_steps resolves to the model's budget."""
    for done in train_concurrently(["model=recurrent", "--cfg", "job", "--resolve"],
                                   ["--cfg", "job", "--resolve", "model=recurrent"]):
        assert done.returncode == 0, done.stderr
        trainer = done.stdout.split("trainer:")[1].split("\n\n")[0]
        assert "max_steps: 20000" in trainer and "patience_fraction: 0.5" in trainer
