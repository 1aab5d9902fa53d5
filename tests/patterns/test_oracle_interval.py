"""The certified interval [oracle_lower, oracle_upper] against optima known by construction or brute force."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
import torch

from memcap.patterns.data import make_patterns
from memcap.patterns.metrics import memorized
from memcap.patterns.oracle import check_oracle_size, oracle_interval, perfect_recall


def brute_force_optimum(X: np.ndarray, Y: np.ndarray) -> int:
    """The most patterns stored exactly (bti = 0): the smallest deletion set after which every column is separable."""
    DS = len(X)
    for k in range(DS + 1):
        for drop in itertools.combinations(range(DS), k):
            keep = np.setdiff1d(np.arange(DS), drop)
            if perfect_recall(X[keep], Y[keep]).ok:
                return DS - k
    raise AssertionError("unreachable: the empty set is separable")


def assert_achieved(result, X, Y, bti):
    """``lower`` and ``mask`` are what the returned weights recall by memcap's criterion."""
    X, Y = torch.as_tensor(X).float(), torch.as_tensor(Y).float()
    mask = memorized(torch.sigmoid(X @ result.W.T + result.b), Y, bti)
    assert torch.equal(result.mask, mask) and result.lower == int(mask.sum())
    assert result.lower <= result.upper <= len(X) and result.gap == result.upper - result.lower


def planted(N_in, N_out, DS, seed):
    X, _ = make_patterns(N_in, DS, 0.1, seed)
    gen = torch.Generator().manual_seed(seed)
    W, b = torch.randn(N_out, N_in, generator=gen), torch.randn(N_out, generator=gen)
    return X, (X @ W.T + b >= 0).float()


def test_all_separable_is_exact_at_ds():
    X, Y = planted(40, 7, 200, seed=3)
    result = oracle_interval(X, Y)
    assert (result.lower, result.upper) == (200, 200)
    assert_achieved(result, X, Y, 0)


def duplicated(N, DS, seed, differ_on, bti_rows=False):
    """Pattern 1 has pattern 0's input; its targets differ at the neurons ``differ_on``.

    With ``bti_rows`` pattern 0's target is 1 and pattern 1's is 0 at each of them.
    """
    X, Y = make_patterns(N, DS, 0.1, seed)
    X[1] = X[0]
    Y[1] = Y[0]
    for j in differ_on:
        old = float(Y[0, j])
        Y[0, j], Y[1, j] = (1.0, 0.0) if bti_rows else (1.0 - old, old)
    return X, Y


@pytest.mark.parametrize("differ_on", [[3], [0, 5, 9]])
def test_a_duplicated_input_with_two_outputs_loses_exactly_one(differ_on):
    X, Y = duplicated(50, 40, seed=0, differ_on=differ_on)  # DS < N: all else is separable
    result = oracle_interval(X, Y)
    assert (result.lower, result.upper) == (39, 39) and result.status == "optimal"
    assert not (result.mask[0] and result.mask[1])
    assert_achieved(result, X, Y, 0)


@pytest.mark.parametrize("n_differ, optimum", [(2, 40), (3, 39)])
def test_the_bti_tolerance_is_part_of_the_criterion(n_differ, optimum):
    # Pattern 0 wants 1 and pattern 1 wants 0 at n_differ neurons, on the same input. Each such
    # neuron gets one of them wrong; with bti = 1 pattern 0 absorbs one wrong target-1 bit and
    # pattern 1 one wrong target-0 bit: two neurons are absorbed, a third costs a pattern.
    X, Y = duplicated(50, 40, seed=1, differ_on=[2, 4, 7][:n_differ], bti_rows=True)
    result = oracle_interval(X, Y, bti=1)
    assert (result.lower, result.upper) == (optimum, optimum)
    assert_achieved(result, X, Y, 1)
    assert oracle_interval(X, Y, bti=0).upper == 39  # exactly: one of the two goes


@pytest.mark.parametrize("seed", range(4))
def test_the_interval_contains_the_brute_force_optimum(seed):
    # Gaussian inputs (exact checks on the floats' rational values), past capacity.
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((12, 3)), (rng.random((12, 2)) < 0.5).astype(float)
    best = brute_force_optimum(X, Y)
    result = oracle_interval(X, Y)
    assert result.lower <= best <= result.upper
    assert result.status != "optimal" or result.lower == result.upper == best
    assert_achieved(result, X, Y, 0)


@pytest.mark.parametrize("seed", range(3))
def test_binary_patterns_past_capacity_are_solved_exactly(seed):
    rng = np.random.default_rng(seed)
    X, Y = (rng.random((14, 5)) < 0.5).astype(float), (rng.random((14, 3)) < 0.5).astype(float)
    X = np.unique(X, axis=0)
    Y = Y[: len(X)]
    best = brute_force_optimum(X, Y)
    result = oracle_interval(X, Y)
    assert result.status == "optimal" and result.lower == result.upper == best


def test_n100_ds300_is_exact_on_a_dataset_the_heuristic_misses():
    # The greedy heuristic stores 298 of these 300; the optimum is 299 (dropping pattern 34 alone).
    from memcap.configs import compose
    from memcap.patterns.engine import member_data
    X, Y = member_data(compose("logger=none", "N=100"), 300, 2)
    result = oracle_interval(X, Y)
    assert (result.lower, result.upper) == (299, 299)
    assert_achieved(result, X, Y, 0)


def test_a_long_certification_reports_its_interval_as_it_goes(caplog):
    """The heuristic and the certification each log where they are (every minute in a job; here at every
    step): circuits found so far and the interval, which only narrows."""
    from memcap.configs import compose
    from memcap.patterns.engine import member_data
    X, Y = member_data(compose("logger=none", "N=100"), 300, 2)
    with caplog.at_level("INFO", logger="memcap"):
        result = oracle_interval(X, Y, log_every=0)
    lines = [r.getMessage() for r in caplog.records]
    certifying = [line for line in lines if line.startswith("  oracle: certifying")]
    assert any(line.startswith("  oracle: hinge LPs") for line in lines)
    assert any("(circuits)" in line for line in certifying) and any("(covering MILP)" in line for line in certifying)
    bounds = [tuple(map(int, line.split(", ")[2].split(" <= best <= "))) for line in certifying]
    assert all(298 <= lo <= hi <= 300 for lo, hi in bounds)
    assert [hi for _, hi in bounds] == sorted((hi for _, hi in bounds), reverse=True)
    assert (result.lower, result.upper) == (299, 299)


def test_the_interval_is_decided_by_counts_of_work_not_by_the_clock(monkeypatch):
    """A clock racing ahead (a slow or busy machine, seen from the solver) changes nothing: the same interval,
    status, circuits and history. Two rounds here stop this dataset short of its optimum (iteration limit)."""
    from types import SimpleNamespace

    from memcap.configs import compose
    from memcap.patterns.engine import member_data
    from memcap.patterns.oracle import interval, lp
    X, Y = member_data(compose("logger=none", "N=100"), 300, 2)
    quiet = oracle_interval(X, Y, iterations=1)
    ticks, read = iter(range(0, 10**9, 1000)), set()

    def racing(module):
        """The clock as ``module`` reads it (the heuristic's and the certification's), racing ahead."""
        def clock():
            read.add(module.__name__)
            return float(next(ticks))
        return SimpleNamespace(perf_counter=clock, monotonic=clock)

    for module in (lp, interval):
        monkeypatch.setattr(module, "time", racing(module))
    busy = oracle_interval(X, Y, iterations=1)
    assert read == {lp.__name__, interval.__name__}  # both raced
    assert quiet.status == "iteration limit" and quiet.iterations == 1
    for field in ("lower", "upper", "status", "cuts", "iterations", "history"):
        assert getattr(busy, field) == getattr(quiet, field), field
    assert torch.equal(busy.W, quiet.W) and torch.equal(busy.b, quiet.b)


def test_bad_input_is_refused_in_one_line():
    X, Y = make_patterns(20, 30, 0.1, 0)
    for limits in ({"iterations": -1}, {"nodes": 0}, {"iterations": 2.5}):
        with pytest.raises(ValueError, match="must be a whole number of at least [01], got"):
            oracle_interval(X, Y, **limits)
    with pytest.raises(ValueError, match="GiB"):
        check_oracle_size(10**7, 1000, 1000)
    with pytest.raises(ValueError, match="same DS"):
        oracle_interval(X, Y[:5])


def test_oracle_metrics_report_the_interval_beside_the_old_keys(caplog):
    from memcap.configs import compose
    from memcap.patterns.oracle import oracle_metrics
    cfg = compose("logger=none", "N=50", "search.oracle=true")
    with caplog.at_level(logging.INFO, logger="memcap"):
        m = oracle_metrics(cfg, 120, [118, 119], progress=False)
    # without a terminal (a log file, a SLURM job) the minutes of LPs still show: a line per dataset, with its interval
    # and one when its LPs begin
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("oracle:")]
    assert lines[0].startswith("oracle: the certified interval at DS=120 on each of 2 datasets")
    for k, (lo, up) in enumerate(zip(m["oracle_lower_runs"], m["oracle_upper_runs"]), start=1):
        assert lines[2 * k - 1] == f"oracle: dataset {k}/2: the LPs begin"
        assert lines[2 * k].startswith(f"oracle: dataset {k}/2: {lo} <= best <= {up} (")
    assert m["oracle_memorized_runs"] == m["oracle_lower_runs"] and m["oracle_ratio"] == m["oracle_ratio_lower"]
    for lo, up, gap in zip(m["oracle_lower_runs"], m["oracle_upper_runs"], m["oracle_gap_runs"]):
        assert lo <= up <= 120 and gap == up - lo
    assert m["oracle_ratio_upper"] == pytest.approx(np.mean([118 / m["oracle_upper_runs"][0], 119 / m["oracle_upper_runs"][1]]))
    assert m["oracle_ratio_upper"] <= m["oracle_ratio_lower"]


def test_a_dataset_training_recalled_whole_needs_no_lp(monkeypatch):
    """Its optimum is DS, witnessed by the trained network: no LP runs for it, and the others' still do."""
    from memcap.configs import compose
    from memcap.patterns.oracle import metrics
    cfg = compose("logger=none", "N=50", "search.oracle=true")
    solved = []
    real = metrics.oracle_interval
    monkeypatch.setattr(metrics, "oracle_interval", lambda X, Y, **kw: solved.append(len(X)) or real(X, Y, **kw))
    m = metrics.oracle_metrics(cfg, 120, [120, 119], progress=False)
    assert solved == [120]  # dataset 2 only
    assert m["oracle_lower_runs"][0] == m["oracle_upper_runs"][0] == 120 and m["oracle_gap_runs"][0] == 0
    assert m["oracle_status_runs"][0] == "trained" and m["oracle_ratio_runs"][0] == 1.0
    assert m["oracle_lower_runs"][1] <= m["oracle_upper_runs"][1] <= 120


def test_the_oracle_refuses_other_models_work_limits_and_worker_counts_in_one_line():
    from memcap.config import ConfigError
    from memcap.configs import compose
    from memcap.patterns.config import validate
    from memcap.patterns.oracle import oracle_metrics
    with pytest.raises(ConfigError, match="model=simple only"):
        oracle_metrics(compose("logger=none", "model=recurrent", "N=20"), 40, [40], progress=False)
    for key, low in (("oracle_iterations", 0), ("oracle_nodes", 1)):
        with pytest.raises(ConfigError, match=f"search.{key}: must be at least {low}, got -1"):
            validate(compose("logger=none", "search.oracle=true", f"search.{key}=-1"))
    with pytest.raises(ConfigError, match="search.oracle_workers: must be at least 1, got 0"):
        validate(compose("logger=none", "search.oracle=true", "search.oracle_workers=0"))


def test_the_exact_circuit_check_accepts_a_farkas_support_and_rejects_a_broken_one():
    # Column 19 of this N=100, DS=300 dataset is not separable (test_oracle.py's planted cases are).
    from memcap.patterns.oracle.certificates import (
        _exact_rows,
        _farkas_support,
        _integer_kernel_vector,
        _verified_circuit,
    )
    X, Y = make_patterns(100, 300, 0.1, 2)
    X, Y = X.numpy().astype(float), Y.numpy()
    sign = 2.0 * (Y[:, 19] > 0.5) - 1
    A = sign[:, None] * np.hstack([X, np.ones((300, 1))])
    C, lam = _farkas_support(A)
    exact = _exact_rows(X)
    assert _verified_circuit(exact, sign, C, lam)
    v = _integer_kernel_vector(A[C].astype(np.int64).T, lam)
    assert all(x > 0 for x in v) and not (A[C].astype(np.int64).T.astype(object) @ np.array(v, dtype=object)).any()
    assert not _verified_circuit(exact, sign, C[1:], lam[1:])  # a proper subset of a circuit is separable
    flipped = sign.copy()
    flipped[C[0]] *= -1
    assert not _verified_circuit(exact, flipped, C, lam)


def test_a_job_killed_in_its_oracle_resumes_without_solving_the_finished_datasets_again(tmp_path, monkeypatch):
    """At N=500 a dataset's LPs take 30-40 minutes: each interval is saved as it is found, and a resumed job
    (the same identity) solves only the datasets still missing, to the same metrics as a job never killed."""
    from memcap.configs import compose
    from memcap.lifecycle import run_job
    from memcap.patterns.oracle import metrics
    from memcap.results import read_result
    cfg = compose("logger=none", "N=20", "DS=60", "runs=3", "trainer.max_steps=30", "search.oracle=true")
    reference = run_job(cfg, tmp_path / "reference", "test")["metrics"]
    assert all(trained < 60 for trained in reference["memorized_runs"])  # every dataset needs its LPs
    real, solved = metrics.oracle_interval, []

    def solve(X, Y, **kwargs):
        if kill_at is not None and len(solved) == kill_at:
            raise KeyboardInterrupt  # as a signal or the end of an allocation would stop the job
        solved.append(len(X))
        return real(X, Y, **kwargs)

    monkeypatch.setattr(metrics, "oracle_interval", solve)
    kill_at = 2
    with pytest.raises(KeyboardInterrupt):
        run_job(cfg, tmp_path / "job", "test")
    partial = read_result(tmp_path / "job" / "result.json")
    assert partial["status"] == "running"
    assert [(e["run"], e["DS"]) for e in partial["metrics"]["oracle_datasets"]] == [(0, 60), (1, 60)]

    solved.clear()
    kill_at = None
    resumed = run_job(cfg, tmp_path / "job", "test")
    assert solved == [60]  # dataset 3 only
    assert resumed["status"] == "ok" and "oracle_datasets" not in resumed["metrics"]
    for key in ("oracle_lower_runs", "oracle_upper_runs", "oracle_status_runs", "oracle_ratio_upper"):
        assert resumed["metrics"][key] == reference[key]


def test_datasets_solved_at_once_give_the_same_intervals_and_the_same_job(tmp_path, caplog, monkeypatch):
    """search.oracle_workers=2 solves two datasets at a time in worker processes: the same intervals as one
    at a time, each worker's lines in the job's log, and the same identity (a finished job is not redone).
    More workers than the process's cores (one, here) are warned about, not refused."""
    import memcap.cpu
    from memcap.config import identity
    from memcap.configs import compose
    from memcap.lifecycle import run_job
    args = ("logger=none", "N=20", "DS=60", "runs=3", "trainer.max_steps=30", "search.oracle=true")
    one, two = compose(*args), compose(*args, "search.oracle_workers=2")
    assert identity(one) == identity(two)
    alone = run_job(one, tmp_path / "one", "test")["metrics"]
    monkeypatch.setattr(memcap.cpu, "usable_cores", lambda: [0])
    with caplog.at_level("INFO", logger="memcap"):
        together = run_job(two, tmp_path / "two", "test")["metrics"]
    assert all(trained < 60 for trained in alone["memorized_runs"])  # three datasets for the workers
    for key in ("oracle_lower_runs", "oracle_upper_runs", "oracle_status_runs", "oracle_gap"):
        assert together[key] == alone[key], key
    lines = [r.getMessage() for r in caplog.records]
    assert any("2 at once" in line for line in lines)
    assert any(line.startswith("search.oracle_workers=2, but this process may use 1 core(s)") for line in lines)
    assert sorted(line.split(":")[1] for line in lines if line.startswith("oracle: dataset")) == \
        [" dataset 1/3", " dataset 2/3", " dataset 3/3"]
    from memcap.results import read_result
    assert run_job(two, tmp_path / "one", "test") == read_result(tmp_path / "one" / "result.json")  # skipped



def test_a_covering_milp_stopped_at_its_node_limit_gives_its_bound_not_an_error():
    """HiGHS ends at ``nodes`` with a status scipy does not name (16): the MILP's bound so far, not optimal."""
    from memcap.patterns.oracle.cover import _cover_milp

    rng = np.random.default_rng(0)
    DS = 60
    cuts = [(j, np.sort(rng.choice(DS, 12, replace=False))) for j in range(80)]
    on = np.zeros((DS, 4), dtype=bool)
    drop, _, bound, optimal = _cover_milp(DS, cuts, on, 0, 1)
    assert not optimal and 0 <= bound
    full = _cover_milp(DS, cuts, on, 0, 100000)
    assert full[3] and bound <= full[2] + 1e-9  # the optimum's bound is at least the limited one's
