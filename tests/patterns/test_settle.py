"""A capacity search settles its deciding DS: runs stopped before their plateau are trained again to it."""

import json

from memcap.config import identity, identity_hash
from memcap.lifecycle import run_job
from memcap.search import BEFORE_PLATEAU_STOPS, SETTLE

# A fail-fast step far too early for this network: most members above perfect recall are cut "short".
HASTY = ("N=20", "runs=2", "trainer.max_steps=300", "trainer.check_every=25", "trainer.patience=2", "search.step=10",
         "search.resolution=2", "search.fail_fast_steps=50")


def settle_points(result: dict) -> list[dict]:
    return [p for p in result["points"] if p.get("phase") == SETTLE]


def test_the_deciding_runs_cut_before_their_plateau_train_again_and_their_counts_are_the_answers(tmp_path, make_cfg):
    result = run_job(make_cfg(*HASTY), tmp_path, "test")
    m = result["metrics"]
    search = [p for p in result["points"] if p.get("phase") is None]
    again = settle_points(result)
    assert again, "this config cuts a deciding run short"
    # each phase's answer and the grid point above it, which failed (search.step 10, search.resolution 2)
    deciding = {m["capacity_ds"], m["capacity_ds"] + 10, m["perfect_ds"] + 2}
    cut = {(p["DS"], p["run"]) for p in search if p["DS"] in deciding and p["stop"] in BEFORE_PLATEAU_STOPS}
    assert {(p["DS"], p["run"]) for p in again} == cut  # those, and only those
    first = {(p["DS"], p["run"]): p for p in search}
    for p in again:
        assert p["stop"] in ("memorized", "plateau", "cap")  # no fail-fast rule in a settling
        assert p["memorized"] >= first[p["DS"], p["run"]]["memorized"]  # the same start, trained longer
        assert p["stop"] != "cap" or p["steps"] == 600  # its cap: settle_factor (2) x trainer.max_steps
    at_capacity = {p["run"]: p["memorized"] for p in search if p["DS"] == m["capacity_ds"]}
    at_capacity.update({p["run"]: p["memorized"] for p in again if p["DS"] == m["capacity_ds"]})
    assert m["memorized_runs"] == [at_capacity[run] for run in sorted(at_capacity)]


def test_a_resumed_job_keeps_both_trainings_of_a_member(tmp_path, make_cfg):
    cfg = make_cfg(*HASTY)
    first = run_job(cfg, tmp_path, "test")
    first["status"], first["metrics"] = "running", {}
    (tmp_path / "result.json").write_text(json.dumps(first))
    again = run_job(cfg, tmp_path, "test")
    assert again["points"] == first["points"]  # every point reused, seconds and all: nothing trained again
    assert settle_points(again)


def test_settle_factor_0_leaves_the_searchs_counts_and_is_another_job(make_cfg, tmp_path):
    result = run_job(make_cfg(*HASTY, "search.settle_factor=0"), tmp_path, "test")
    assert not settle_points(result)
    assert identity_hash(identity(make_cfg(*HASTY))) != identity_hash(identity(make_cfg(*HASTY, "search.settle_factor=0")))
