"""search.decide=solver: the one-layer network's capacity decided by LPs, checked against direct solves and training."""

import json

import pytest

from memcap.config import ConfigError
from memcap.lifecycle import run_job
from memcap.patterns import solver
from memcap.patterns.config import validate
from memcap.patterns.engine import member_data, train_members
from memcap.patterns.oracle import perfect_recall

# N=20 (C(20, 2) = 190 patterns), a capacity grid of 10 and an oracle held to little work: seconds, not minutes.
SMALL = ("N=20", "runs=2", "search.decide=solver", "search.step=10", "search.max_ds=80",
         "search.oracle_iterations=2", "search.oracle_nodes=200")


def test_the_perfect_recall_scan_is_the_largest_storable_grid_ds_before_three_misses(make_cfg, tmp_path):
    """The answer, recomputed here from one LP per neuron at every grid DS: the largest DS some run's dataset
    stores whole, scanning up from the grid's start until three DS in a row store none."""
    cfg = make_cfg(*SMALL)
    result = run_job(cfg, tmp_path / "job", "test")
    storable, misses, DS, expected = {}, 0, 10, None
    while misses < 3:
        storable[DS] = any(perfect_recall(*member_data(cfg, DS, run)).ok for run in range(2))
        expected, misses = (DS, 0) if storable[DS] else (expected, misses + 1)
        DS += 10
    metrics = result["metrics"]
    assert result["status"] == "ok" and metrics["decided_by"] == "solver"
    assert metrics["perfect_ds"] == expected
    perfect = [p for p in result["points"] if p["phase"] == "perfect recall"]
    assert sorted({p["DS"] for p in perfect}) == sorted(storable)  # the scan, and no DS beyond it
    for p in perfect:
        assert p["decided"] and p["stored"] == (not p["unseparable"]) == (p["memorized"] == p["DS"])
        assert p["memorized"] is None or p["memorized"] <= p["upper"] <= p["DS"]
        assert p["complete"] or p["stored"] or len(p["unseparable"]) == 1  # a run fails at its first such neuron
    for DS in storable:  # runs in turn until one stores the DS whole
        runs = sorted((p for p in perfect if p["DS"] == DS), key=lambda p: p["run"])
        assert [p["run"] for p in runs] == list(range(len(runs)))
        assert DS == metrics["perfect_ds"] or [p["stored"] for p in runs].index(True) == len(runs) - 1 \
            if storable[DS] else len(runs) == 2
    capacity = [p for p in result["points"] if p["phase"] == "capacity"]
    assert capacity and all(p["memorized"] <= p["upper"] <= p["DS"] for p in capacity)
    best = max(p["memorized"] for p in capacity if p["DS"] == metrics["capacity_ds"]) if metrics["capacity_ds"] != \
        metrics["perfect_ds"] else metrics["perfect_ds"]
    assert metrics["memorized_max"] == best
    assert "decided by LPs" in solver.summary_line(result)


def test_threads_deciding_the_neurons_change_nothing_but_the_seconds(make_cfg, tmp_path):
    """search.solver_workers is how the machine computes the answer, not what it is: the same points, metrics and
    identity with one thread or three."""
    one = run_job(make_cfg(*SMALL, "search.solver_capacity=false"), tmp_path / "one", "test")
    three = run_job(make_cfg(*SMALL, "search.solver_capacity=false", "search.solver_workers=3"), tmp_path / "three",
                    "test")
    timeless = lambda points: [{k: v for k, v in p.items() if k != "seconds"} for p in points]  # noqa: E731
    clockless = lambda metrics: {k: v for k, v in metrics.items() if k != "solver_seconds"}  # noqa: E731
    assert timeless(three["points"]) == timeless(one["points"])
    assert clockless(three["metrics"]) == clockless(one["metrics"])
    assert three["job"] == one["job"]
    with pytest.raises(ConfigError, match="search.solver_workers"):
        validate(make_cfg(*SMALL, "search.solver_workers=0"))


def test_a_killed_solver_job_resumes_without_solving_its_points_again(make_cfg, tmp_path, monkeypatch):
    cfg = make_cfg(*SMALL, "search.max_ds=40")
    reference = run_job(cfg, tmp_path / "reference", "test")
    solved = []
    real = solver.perfect_point
    monkeypatch.setattr(solver, "perfect_point", lambda *a, **k: solved.append(a[1:3]) or real(*a, **k))
    job = tmp_path / "job"
    job.mkdir()
    partial = {**reference, "status": "running", "points": reference["points"][:3], "metrics": {}}
    (job / "result.json").write_text(json.dumps(partial))
    resumed = run_job(cfg, job, "test")
    untimed = [[{k: v for k, v in p.items() if k != "seconds"} for p in r["points"]] for r in (reference, resumed)]
    assert untimed[0] == untimed[1]
    assert resumed["metrics"]["perfect_ds"] == reference["metrics"]["perfect_ds"]
    done = {(p["DS"], p["run"]) for p in reference["points"][:3]}
    assert solved and not done & set(solved)  # only the points the first attempt had not decided


def test_a_dataset_training_stores_whole_is_storable_by_the_lps_and_one_they_refuse_is_never_stored(make_cfg):
    """Training's perfect points are witnesses (the trained weights), so the LPs must call those datasets
    storable; a dataset with a neuron the LPs prove not separable cannot be stored by any training."""
    cfg = make_cfg("N=20", "DS=30", "runs=4", "loss=bce", "trainer.max_steps=3000")
    trained = train_members(cfg, [(30, run) for run in range(4)])
    for point in trained:
        decided = solver.perfect_point(cfg, 30, point.run, 0)
        if point.memorized == 30:
            assert decided["memorized"] == 30 and not decided["unseparable"]
        if decided["unseparable"]:
            assert point.memorized < 30
    assert any(solver.perfect_point(cfg, 30, run, 0)["unseparable"] for run in range(4))  # both cases occur


@pytest.mark.parametrize("overrides, key", [
    (("model=recurrent",), "model"), (("model.density=0.5",), "model.density"), (("DS=50",), "DS"),
    (("prune=lottery", "DS=50"), "prune"), (("search.max_ds=100000", "N=1000"), "search.max_ds"),
])
def test_the_solver_refuses_what_it_does_not_decide_in_one_line(make_cfg, overrides, key):
    with pytest.raises(ConfigError) as refused:
        validate(make_cfg("search.decide=solver", *overrides))
    assert str(refused.value).startswith(f"{key}: ") and "\n" not in str(refused.value)
    with pytest.raises(ConfigError, match="search.decide: "):
        validate(make_cfg("search.decide=lp"))


def test_the_lps_decide_datasets_on_which_highs_presolve_answers_unknown(make_cfg):
    """At N=100, DS=340 HiGHS's presolve answers some neurons' feasibility LPs with "unknown" (status 15); the
    simplex without presolve decides them. Every run's dataset there has neurons that are not separable."""
    cfg = make_cfg("N=100", "loss=bce")
    assert all(perfect_recall(*member_data(cfg, 340, run)).failing for run in (0, 3))


def test_a_trained_search_of_the_simple_network_carries_the_solvers_answer_beside_its_own(make_cfg, tmp_path):
    """search.solver_check (null: wherever the solver applies): the perfect-recall DS decided by LPs on the
    same datasets, its points apart from training's, and training's answers as fractions of it."""
    cfg = make_cfg("N=20", "runs=2", "search.step=10", "search.max_ds=80", "trainer.max_steps=400")
    result = run_job(cfg, tmp_path / "trained", "test")
    alone = run_job(make_cfg(*SMALL, "search.solver_capacity=false"), tmp_path / "solver", "test")
    m = result["metrics"]
    assert m["solver_perfect_ds"] == alone["metrics"]["perfect_ds"]
    assert m["perfect_vs_solver"] == round(m["perfect_ds"] / m["solver_perfect_ds"], 4)
    assert m["capacity_vs_solver_perfect"] == round(m["capacity_ds"] / m["solver_perfect_ds"], 4)
    assert all(p["stop"] != "solver" for p in result["points"])  # training's points are training's alone
    assert {p["DS"] for p in result["solver_points"]} == {p["DS"] for p in alone["points"]}
    from memcap.patterns.job import summary_line

    assert f"LPs: perfect recall exact at DS={m['solver_perfect_ds']}" in summary_line(result)
    off = run_job(make_cfg("N=20", "runs=2", "search.step=10", "search.max_ds=80", "trainer.max_steps=400",
                           "search.solver_check=false"), tmp_path / "off", "test")
    assert "solver_perfect_ds" not in off["metrics"] and "solver_points" not in off


def test_under_the_tolerance_the_check_runs_only_when_asked(make_cfg):
    """Under bce_ignore the scan's answer is a lower bound and costs a complete check at every DS past exact
    capacity: left out by default (null), run when asked (true); exact recall keeps it on by default."""
    from memcap.patterns.config import solver_checks

    assert not solver_checks(make_cfg("loss=bce_ignore"))
    assert solver_checks(make_cfg("loss=bce_ignore", "search.solver_check=true"))
    assert solver_checks(make_cfg("loss=bce")) and solver_checks(make_cfg())


@pytest.mark.parametrize("overrides", [("model=recurrent",), ("DS=30",)])
def test_the_check_is_left_out_where_the_solver_does_not_apply_and_refused_when_asked_for_there(make_cfg, overrides):
    from memcap.patterns.config import solver_checks

    assert not solver_checks(make_cfg(*overrides))
    with pytest.raises(ConfigError, match=r"^search.solver_check: .*not (model=recurrent|DS=30)"):
        validate(make_cfg("search.solver_check=true", *overrides))


def test_under_the_tolerance_weights_that_recall_all_prove_a_dataset_storable_and_the_rest_stays_open(make_cfg):
    """bce_ignore at N=100 (one wrong bit of each kind allowed), where exact recall fails: at DS=450 the
    witness's weights (separators, and the other neurons' wrong bits placed within each pattern's budget)
    recall all of run 0's dataset (stored, proven by them); at DS=500 they fall short, and without the
    oracle's certification (oracle_iterations=0) that point is left open, not called unstorable."""
    cfg = make_cfg("N=100", "loss=bce_ignore", "search.decide=solver", "search.oracle_iterations=0")
    stored, open_ = (solver.perfect_point(cfg, DS, 0, 1) for DS in (450, 500))
    assert stored["unseparable"] and open_["unseparable"]  # neither stores its dataset exactly
    assert (stored["stored"], stored["memorized"], stored["decided"]) == (True, 450, True)
    assert stored["interval_status"] == "witness"
    assert (open_["stored"], open_["decided"], open_["upper"]) == (None, False, 500) and open_["memorized"] < 500
