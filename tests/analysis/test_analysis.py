"""The report's two missing analyses: overlap statistics, variance components, the seed seam, the script."""

import importlib.util
import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from memcap.analysis import correlations, dataset_overlap, pattern_overlap, variance_components, variance_summary
from memcap.analysis.overlap import STATISTICS
from memcap.config import ConfigError
from memcap.patterns.config import validate
from memcap.patterns.data import make_patterns
from memcap.patterns.engine import build_module, member_data, member_seeds
from memcap.patterns.job import flat_config
from tests.helpers import ROOT


def _reference_overlap(M: torch.Tensor) -> dict[str, float]:
    """Pair by pair, set intersections of the active positions: slow and obvious."""
    active = [set(torch.nonzero(row).flatten().tolist()) for row in M]
    pairs = {(i, j): len(active[i] & active[j]) for i, j in itertools.combinations(range(len(active)), 2)}
    nearest = [max(pairs[min(i, j), max(i, j)] for j in range(len(active)) if j != i) for i in range(len(active))]
    return {"mean": sum(pairs.values()) / len(pairs), "nearest": sum(nearest) / len(nearest), "max": max(pairs.values())}


@pytest.mark.parametrize("N,DS,s", [(12, 9, 0.25), (20, 30, 0.2), (10, 2, 0.5)])
def test_overlap_matches_the_pairwise_reference(N, DS, s):
    X, Y = make_patterns(N, DS, s, seed=N + DS)
    assert pattern_overlap(X) == pytest.approx(_reference_overlap(X))
    stats = dataset_overlap(X, Y)
    assert set(stats) == set(STATISTICS)
    assert stats["output_max"] == _reference_overlap(Y)["max"]
    active = lambda M: [set(torch.nonzero(r).flatten().tolist()) for r in M]
    ax, ay = active(X), active(Y)
    joint = [len(ax[i] & ax[j]) * len(ay[i] & ay[j]) for i, j in itertools.combinations(range(DS), 2)]
    assert stats["joint_mean"] == pytest.approx(np.mean(joint))


def test_correlations_find_a_planted_relation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=200), "flat": 1.0, "y": 2 * x + 0.5 * rng.normal(size=200)})
    table = correlations(frame, "y", ["x", "noise", "flat"]).set_index("statistic")
    assert table.loc["x", "pearson_r"] > 0.95 and table.loc["x", "r_low"] < table.loc["x", "pearson_r"] < table.loc["x", "r_high"]
    assert abs(table.loc["noise", "pearson_r"]) < 0.2
    assert np.isnan(table.loc["flat", "pearson_r"])


def _planted(a: int, b: int, sd_data: float, sd_init: float, sd_rest: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data, init = rng.normal(0, sd_data, a), rng.normal(0, sd_init, b)
    y = 250 + data[:, None] + init[None, :] + rng.normal(0, sd_rest, (a, b))
    return pd.DataFrame([{"d": i, "i": j, "y": y[i, j]} for i in range(a) for j in range(b)])


def test_variance_components_recover_planted_ones():
    anova = variance_components(_planted(300, 300, sd_data=4.0, sd_init=2.0, sd_rest=1.0), "y", "d", "i")
    component = dict(zip(anova.source, anova.component))
    assert component["d"] == pytest.approx(16.0, rel=0.2)
    assert component["i"] == pytest.approx(4.0, rel=0.2)
    assert component["d × i"] == pytest.approx(1.0, rel=0.05)
    assert anova.SS.iloc[:3].sum() == pytest.approx(anova.SS.iloc[3])  # the decomposition is exact
    summary = variance_summary(anova)
    assert summary["data_share"] == pytest.approx(16 / 21, abs=0.05)
    assert summary["same_data"] == pytest.approx(np.sqrt(5), rel=0.1)


def test_variance_components_reject_an_incomplete_design():
    frame = _planted(3, 3, 1, 1, 1).iloc[1:]
    with pytest.raises(ValueError, match="incomplete"):
        variance_components(frame, "y", "d", "i")


def test_unpinned_seeds_are_unchanged(make_cfg):
    cfg = make_cfg("seed=3")
    assert member_seeds(cfg, 2, 50) == tuple(int(s) for s in np.random.SeedSequence([3, 2, 50]).generate_state(3))
    assert "data_seed" not in flat_config(cfg) and "init_seed" not in flat_config(cfg)


def _ensemble(cfg, runs: int):
    module = build_module(cfg, [(12, run) for run in range(runs)])
    return module.X[:, :12], module.model.W.detach()  # the real rows (the rest pad to an aligned count)


def test_data_seed_pins_the_data_and_varies_the_init(make_cfg):
    cfg = make_cfg("N=20", "data_seed=7")
    X, W = _ensemble(cfg, 3)
    assert all(torch.equal(X[0], X[i]) for i in (1, 2))
    assert not torch.equal(W[0], W[1]) and not torch.equal(W[1], W[2])
    assert torch.equal(X[0], make_patterns(20, 12, cfg.s, 7)[0])
    assert flat_config(cfg)["data_seed"] == 7


def test_init_seed_pins_the_init_and_varies_the_data(make_cfg):
    X, W = _ensemble(make_cfg("N=20", "init_seed=7"), 3)
    assert all(torch.equal(W[0], W[i]) for i in (1, 2))
    assert not torch.equal(X[0], X[1]) and not torch.equal(X[1], X[2])


def test_init_of_a_run_does_not_depend_on_the_data_seed(make_cfg):
    """What the crossed design relies on: init i is the same weights on every dataset."""
    _, W_a = _ensemble(make_cfg("N=20", "data_seed=1"), 2)
    _, W_b = _ensemble(make_cfg("N=20", "data_seed=2"), 2)
    _, W_free = _ensemble(make_cfg("N=20"), 2)
    assert torch.equal(W_a, W_b) and torch.equal(W_a, W_free)
    assert not torch.equal(*(member_data(make_cfg("N=20", f"data_seed={d}"), 12, 0)[0] for d in (1, 2)))


@pytest.mark.parametrize("overrides,key", [
    (["data_seed=-1"], "data_seed"), (["init_seed=-2"], "init_seed"), (["data_seed=1", "init_seed=1", "runs=2"], "init_seed"),
])
def test_bad_seed_pins_are_rejected(make_cfg, overrides, key):
    with pytest.raises(ConfigError) as error:
        validate(make_cfg(*overrides))
    assert error.value.key == key


def test_both_pins_allowed_for_one_run(make_cfg):
    validate(make_cfg("data_seed=1", "init_seed=1", "runs=1"))


def _script():
    """scripts/analyses.py as a module: run in-process, a subprocess would spend its time importing torch."""
    spec = importlib.util.spec_from_file_location("analyses_script", ROOT / "scripts" / "analyses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("study,args,files", [
    ("overlap", ["--runs", "4"], ["overlap_runs.csv", "overlap_correlations.csv", "overlap_recall_by_nearest_overlap.csv",
                                  "overlap.md", "overlap.png", "overlap.pdf"]),
    ("variance", ["--datasets", "3", "--inits", "2"],
     ["variance_runs.csv", "variance_anova.csv", "variance_sd_of_one_run.csv", "variance.md", "variance.png"]),
])
def test_script_end_to_end(tmp_path, capsys, study, args, files):
    argv = [study, "N=20", "DS=20", "trainer.max_steps=100", *args, "--out", str(tmp_path)]
    script = _script()
    script.main(argv)
    assert all((tmp_path / name).exists() for name in files)
    assert "| --- |" in capsys.readouterr().out  # the tables are printed
    runs = pd.read_csv(tmp_path / f"{study}_runs.csv")
    script.main(argv)
    assert runs.equals(pd.read_csv(tmp_path / f"{study}_runs.csv"))  # seeded: a rerun reproduces every count


def test_per_pattern_recall_agrees_with_the_counts(make_cfg):
    """The patterns read back as memorized are as many as each member's Point counts."""
    from memcap.analysis.studies import overlap_runs

    runs, patterns = overlap_runs(make_cfg("N=20", "DS=25", "trainer.max_steps=150"), 3)
    assert patterns.groupby("run").memorized.sum().tolist() == runs.memorized.tolist()
    assert len(patterns) == 3 * 25
