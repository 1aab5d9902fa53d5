"""A data=text job resumes like a pattern job, and its W&B run is named by what tells it apart."""

import json
import shutil

import pytest

from memcap.lifecycle import run_job as run_text
from memcap.loggers import run_name
from memcap.text import job
from memcap.text.separability import engine

TINY = ["data=text", "search=neurons", "model=gru", "text.length=4", "text.count=8", "runs=2",
        "search.max_hidden=16", "search.max_steps=150", "trainer.check_every=10"]


def timeless(points: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in p.items() if k != "seconds"} for p in points),
                  key=lambda p: (p["hidden"], p["run"]))


@pytest.fixture
def spy(monkeypatch):
    """The widths each fit trains (a fit's recorded points reused are not trained), while training them for real."""
    trained, real = [], engine.build_member

    def build_member(cfg, hidden, run):
        if run == 0:  # every fit builds all runs of its widths
            trained.append([hidden])
        return real(cfg, hidden, run)

    monkeypatch.setattr(engine, "build_member", build_member)
    return trained


def test_complete_job_is_skipped_and_partial_search_reuses_its_points(make_cfg, tmp_path, spy, caplog):
    caplog.set_level("INFO", logger="memcap")
    cfg = make_cfg(*TINY)
    first = run_text(cfg, tmp_path / "a", "test")
    widths = [w for round_ in spy for w in round_]
    assert first["status"] == "ok" and len(widths) >= 3

    spy.clear()
    assert run_text(cfg, tmp_path / "a", "test") == first  # same config, status ok: nothing trained
    assert spy == [] and f"complete, skipped: {tmp_path / 'a' / 'result.json'}" in caplog.text

    # An attempt killed in its third round: two widths recorded whole, the third with one run of two.
    kept = [p for p in first["points"] if p["hidden"] in widths[:2]]
    killed = {**first, "status": "running", "metrics": {},
              "points": kept + [p for p in first["points"] if p["hidden"] == widths[2] and p["run"] == 0]}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "result.json").write_text(json.dumps(killed))
    resumed = run_text(cfg, tmp_path / "b", "test")
    assert [w for round_ in spy for w in round_] == widths[2:]  # the whole widths are not trained again
    assert resumed["status"] == "ok" and resumed["metrics"] == first["metrics"]
    assert timeless(resumed["points"]) == timeless(first["points"])
    assert all(p in resumed["points"] for p in kept)  # reused as recorded, their seconds included

    # Another config (a smaller search ceiling) reuses nothing.
    spy.clear()
    shutil.copy(tmp_path / "a" / "result.json", tmp_path / "b" / "result.json")
    other = run_text(make_cfg(*TINY, "search.max_hidden=2"), tmp_path / "b", "test")
    assert spy == [[1], [2]] and other["config"]["max_hidden"] == 2


def test_wandb_run_names(make_cfg):
    text = job.flat_config(make_cfg(*TINY, "text.length=16"))
    assert run_name(text) == "gru-L16-Hsearch-seed0"
    fixed = job.flat_config(make_cfg("data=text", "search=fixed", "model=lstm", "model.hidden=24", "seed=3"))
    assert run_name(fixed) == "lstm-L16-H24-seed3"
    patterns = {"model": "recurrent", "loss": "bce", "N": 100, "steps": 2, "seed": 1}
    assert run_name(patterns) == "recurrent-bce-N100-steps2-seed1"
