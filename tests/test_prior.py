"""A search starts from the answers at other N of the same sweep (memcap.patterns.prior), and finds the same answer."""

import json

import pytest

from memcap.config import identity
from memcap.job import INDEX_DIR, run_job
from memcap.patterns.job import flat_config
from memcap.patterns.prior import guess, scaled

QUICK = ("trainer.max_steps=100", "trainer.check_every=25", "trainer.patience=2", "search.step=10",
         "search.resolution=2", "runs=1")


def test_scaled_is_proportional_from_one_point_and_a_power_law_from_two():
    assert scaled(100, {50: 300}) == pytest.approx(600)
    assert scaled(200, {50: 100, 100: 400}) == pytest.approx(1600)  # exponent 2 through the two nearest
    assert scaled(150, {50: 100, 100: 200, 1000: 10**6}) == pytest.approx(300)  # the far point is not used


def _write(index, cfg, metrics, status="ok"):
    index.mkdir(parents=True, exist_ok=True)
    ident = identity(cfg)
    (index / f"{ident['N']}.json").write_text(json.dumps(
        {"status": status, "error": None, "config": flat_config(cfg), "metrics": metrics, "points": [], "versions": {},
         "wall_time": 1.0, "job": str(ident["N"]), "identity": ident}))


def test_guess_takes_only_finished_uncapped_jobs_that_differ_in_n_alone(make_cfg, tmp_path):
    index = tmp_path / "index"
    me = make_cfg("N=40", *QUICK)
    _write(index, make_cfg("N=20", *QUICK), {"capacity_ds": 60, "perfect_ds": 40, "capped": False})
    _write(index, make_cfg("N=30", *QUICK, "lr=0.3"), {"capacity_ds": 1, "perfect_ds": 1, "capped": False})  # lr
    _write(index, make_cfg("N=10", *QUICK), {"capacity_ds": 5, "perfect_ds": 5, "capped": True})  # capped
    _write(index, make_cfg("N=50", *QUICK), {}, status="running")
    assert guess(index, identity(me)) == (80, 120, [20])
    assert guess(tmp_path / "nowhere", identity(me)) == (None, None, [])


def test_a_sweep_over_n_starts_from_the_smaller_n(make_cfg, tmp_path):
    """The wiring: the second job of a sweep finds the first in the sweep's index and starts at the scaled answer.

    (That a guess changes the rounds and not the answer, where the predicate falls with DS, is
    tests/test_search.py's; at this toy size and budget it need not fall monotonically.)"""
    sweep = tmp_path / "sweep"
    first = run_job(make_cfg("N=20", *QUICK), sweep / "0", sweep)["metrics"]
    second = run_job(make_cfg("N=30", *QUICK), sweep / "1", sweep)
    alone = run_job(make_cfg("N=30", *QUICK), tmp_path / "alone", tmp_path / "alone")
    start = second["metrics"]["search_guess"]
    assert start == {"perfect_ds": round(first["perfect_ds"] * 1.5), "capacity_ds": round(first["capacity_ds"] * 1.5),
                     "from_N": [20]}
    assert second["points"][0]["DS"] == round(start["perfect_ds"] / 2) * 2  # the first round trains the guess
    assert "search_guess" not in alone["metrics"] and alone["points"][0]["DS"] == 2


def test_a_sweep_copied_to_a_fresh_directory_keeps_its_prior_and_its_resumed_path(make_cfg, tmp_path):
    """The design card's resume on a fresh checkout: only result.json files are copied, not the sweep's index.

    A finished job found in its directory joins the index when it is skipped, so the next job's prior sees it;
    a partial job resumes from the start its first attempt recorded, even where no neighbour is left to guess from."""
    sweep = tmp_path / "sweep"
    run_job(make_cfg("N=20", *QUICK), sweep / "0", sweep)
    second = run_job(make_cfg("N=30", *QUICK), sweep / "1", sweep)
    assert second["metrics"]["search_guess"]["from_N"] == [20]

    fresh = tmp_path / "fresh"
    (fresh / "0").mkdir(parents=True)
    (fresh / "0" / "result.json").write_text((sweep / "0" / "result.json").read_text())
    skipped = run_job(make_cfg("N=20", *QUICK), fresh / "0", fresh)
    assert (fresh / INDEX_DIR / f"{skipped['job']}.json").exists()
    again = run_job(make_cfg("N=30", *QUICK), fresh / "1", fresh)
    assert again["metrics"]["search_guess"] == second["metrics"]["search_guess"]

    partial = {**second, "status": "running", "points": second["points"][:1],
               "metrics": {"search_guess": second["metrics"]["search_guess"]}}
    alone = tmp_path / "alone"
    (alone / "1").mkdir(parents=True)
    (alone / "1" / "result.json").write_text(json.dumps(partial))
    resumed = run_job(make_cfg("N=30", *QUICK), alone / "1", alone)
    assert resumed["metrics"]["search_guess"] == second["metrics"]["search_guess"]
    assert [p["DS"] for p in resumed["points"]] == [p["DS"] for p in second["points"]]
    assert resumed["metrics"]["capacity_ds"] == second["metrics"]["capacity_ds"]
