"""The neuron search finds planted answers; a data=text job refuses bad input and runs end to end through train.py."""

import json
import subprocess

import pytest

from memcap.config import ConfigError
from memcap.lifecycle import run_job as run_text
from memcap.search import neuron_search
from memcap.text.data import make_text
from memcap.text.separability.engine import train_widths
from tests.helpers import train_py

TEXT = ["data=text", "search=neurons"]


def stand_in(threshold: int, calls: list | None = None, runs: int = 3):
    """Accuracy rising with H: run 0 reaches 0.995 from ``threshold`` on; the other runs never quite do."""

    def evaluate(widths):
        if calls is not None:
            calls.append(list(widths))
        return {h: [0.995 if h >= threshold else 0.9 * h / threshold] + [0.98] * (runs - 1) for h in widths}

    return evaluate


@pytest.mark.parametrize("threshold", [1, 2, 3, 17, 64, 100, 333, 512])
@pytest.mark.parametrize("batch", [1, 3, 4])
def test_finds_planted_threshold(threshold, batch):
    outcome = neuron_search(stand_in(threshold), grid=list(range(1, 513)), target=0.99, batch=batch)
    assert outcome.min_hidden == threshold
    assert max(outcome.results[threshold]) >= 0.99
    assert threshold == 1 or max(outcome.results[threshold - 1]) < 0.99  # the width below was tried and fell short


def test_grid_of_multiples_of_heads():
    outcome = neuron_search(stand_in(37), grid=list(range(4, 513, 4)), target=0.99, batch=2)
    assert outcome.min_hidden == 40 and all(h % 4 == 0 for h in outcome.results)


def test_nothing_reaches_the_target():
    outcome = neuron_search(stand_in(10**6), grid=list(range(1, 65)), target=0.99, batch=4)
    assert outcome.min_hidden is None and max(outcome.results) == 64


def test_gallops_then_bisects_and_trains_no_width_twice():
    calls = []
    neuron_search(stand_in(21, calls), grid=list(range(1, 513)), target=0.99, batch=1)
    assert calls[:6] == [[1], [2], [4], [8], [16], [32]]
    widths = [h for call in calls for h in call]
    assert len(widths) == len(set(widths)) and len(widths) <= 11


@pytest.mark.parametrize("overrides,key,message", [
    (["text.length=0"], "text.length", "at least 1, got 0"),
    (["text.count=0"], "text.count", "at least 1"),
    (["text.source=web"], "text.source", "allowed: random, stdlib, file"),
    (["text.encoding=utf8"], "text.encoding", "allowed: scalar, onehot"),
    (["text.alphabet=greek"], "text.alphabet", "allowed: printable, bytes"),
    (["text.source=file"], "text.path", "needs a path"),
    (["text.source=file", "text.path=/no/such/file.txt"], "text.path", "no such file"),
    (["text.source=random", "text.length=1", "text.count=48"], "text.count", "need 96 distinct"),
    (["text.length=1", "text.count=100000"], "text.count", "text.source=stdlib gives only"),
    (["search=fixed", "model.hidden=0"], "model.hidden", "at least 1, got 0"),
    (["search.min_hidden=0"], "search.min_hidden", "at least 1"),
    (["search.max_hidden=0"], "search.max_hidden", "at least search.min_hidden"),
    (["search=fixed", "model=transformer", "model.hidden=6", "model.heads=4"], "model.heads", "do not divide"),
    (["model=hybrid", "model.heads=8", "search.max_hidden=7"], "search.max_hidden", "multiple of model.heads=8"),
    (["search.target=0"], "search.target", "(0, 1]"),
    (["search.metric=bleu"], "search.metric", "allowed: char, exact"),
    (["model.decoder=rnn"], "model.decoder", "allowed: linear, mlp"),
    (["model=simple"], "model", "allowed: rnn, lstm, gru, transformer, dense, hybrid"),
    (["search=capacity"], "search", "allowed: neurons (the smallest H), fixed"),
    (["runs=0"], "runs", "at least 1"),
    (["lr=-1"], "lr", "positive"),
    (["lr=inf"], "lr", "finite positive"),
    (["lr=nan"], "lr", "finite positive"),
    (["seed=-1"], "seed", "at least 0"),
    (["+foo=1"], "foo", "no such key"),
    (["loss=bce"], "loss.name", "not used by data=text"),
    (["loss.tau=3"], "loss.tau", "not used by data=text"),
    (["DS=5"], "DS", "not used by data=text"),
    (["N=50"], "N", "not used by data=text"),
    (["s=0.2"], "s", "not used by data=text"),
    (["trainer.max_members=8"], "trainer.max_members", "not used by data=text"),
])
def test_bad_input_names_the_key(make_cfg, overrides, key, message, tmp_path):
    cfg = make_cfg(*TEXT, *overrides)
    with pytest.raises(ConfigError) as error:
        run_text(cfg, tmp_path, "test")
    assert error.value.key == key and message in str(error.value)
    assert not any(tmp_path.iterdir())  # nothing that looks like a result


def test_data_text_alone_searches_the_smallest_width(make_cfg):
    cfg = make_cfg("data=text")
    assert cfg.search.name == "neurons" and cfg.model.name == "lstm"
    assert make_cfg("data=text", "search=fixed").search.name == "fixed"


def test_empty_file_is_refused(make_cfg, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.touch()
    with pytest.raises(ConfigError, match="text.path: .* is empty"):
        run_text(make_cfg(*TEXT, "text.source=file", f"text.path={empty}"), tmp_path / "job", "test")


def test_a_point_does_not_depend_on_its_companions(make_cfg):
    cfg = make_cfg(*TEXT, "model=gru", "text.length=4", "text.count=8", "runs=2", "search.max_steps=60",
                   "trainer.check_every=10")
    text = make_text(cfg.text, cfg.seed)
    strip = lambda points: [{k: v for k, v in p.model_dump().items() if k not in ("seconds", "members")} for p in points]
    together = strip(train_widths(cfg, text, [2, 5]))
    alone = strip(train_widths(cfg, text, [5]))
    assert [p for p in together if p["hidden"] == 5] == alone


def train(*args: str) -> subprocess.CompletedProcess:
    return train_py(*args, timeout=300)


def test_bad_input_through_train_py_is_one_line(tmp_path):
    done = train(*TEXT, "text.length=0", "logger=none", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 1
    assert done.stderr.strip() == "memcap: error: text.length: must be at least 1, got 0"


def test_tiny_search_end_to_end(tmp_path):
    done = train(*TEXT, "model=gru", "text.length=4", "text.count=8", "runs=2", "search.max_hidden=16",
                 "search.max_steps=150", "trainer.check_every=10", "logger=none", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert set(result) == {"status", "error", "config", "metrics", "points", "versions", "wall_time", "job", "identity",
                           "wall_time_last", "attempts"}
    c, m = result["config"], result["metrics"]
    assert result["status"] == "ok" and c["data"] == "text" and c["model"] == "gru" and "N" not in c
    assert (c["length"], c["count"], c["source"], c["encoding"], c["runs"]) == (4, 8, "stdlib", "onehot", 2)
    # Every (H, run) is a point; the answer is the smallest H whose best run reached the target.
    widths = {p["hidden"] for p in result["points"]}
    assert all(sorted(p["run"] for p in result["points"] if p["hidden"] == h) == [0, 1] for h in widths)
    reached = sorted(h for h in widths if max(p["train_char"] for p in result["points"] if p["hidden"] == h) >= 0.99)
    assert m["min_hidden"] == reached[0] and m["state_size"] == m["hidden"] == reached[0]
    assert m["params"] == m["encoder_params"] + m["decoder_params"]
    assert m["bits"] == pytest.approx(m["train_char"] * 4 * 8 * m["bits_per_char"])
    assert m["bits_per_neuron"] == pytest.approx(m["bits"] / m["min_hidden"])
    assert done.stdout.count("memcap text gru") == 1
