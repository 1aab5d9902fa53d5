"""Topology (docs/topology.md): activations and SIREN init, sparse connectivity, lottery and random pruning."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from memcap.config import ConfigError
from memcap.fitting import Fit, make_trainer
from memcap.lifecycle import run_job
from memcap.patterns.config import validate
from memcap.patterns.engine import build_module, train_members
from memcap.patterns.models import PatternEnsemble
from memcap.patterns.prune import Tickets, kept_after
from memcap.topology.masks import MemberwiseUnstructured, effective, parameter
from tests.helpers import ROOT

TINY = ["N=20", "runs=2", "trainer.max_steps=120", "trainer.check_every=20"]


def test_siren_init_ranges():
    N, w0 = 50, 30.0
    sine = PatternEnsemble(N, 2, [0, 1], activation="sine", w0=w0)
    first, later = 1 / N, math.sqrt(6 / N) / w0
    assert sine.W.abs().max() <= first and sine.W.abs().max() > 0.9 * first
    assert sine.R.abs().max() <= later and sine.R.abs().max() > 0.9 * later
    tanh = PatternEnsemble(N, 2, [0], activation="tanh")
    assert tanh.W.abs().max() > 0.9 / math.sqrt(N)  # the default init, as torch.nn.Linear


def test_activation_is_what_the_recurrent_path_feeds_back():
    model = PatternEnsemble(6, 3, [0], activation="sine", w0=30.0)
    X = torch.rand(1, 4, 6)
    W, b, R = model.W[0], model.b[0], model.R[0]
    drive = a = X[0] @ W.T + b
    for _ in range(2):
        a = drive + torch.sin(30.0 * a) @ R.T
    assert torch.allclose(model(X)[0], a, atol=1e-5)


@pytest.mark.parametrize("steps", [1, 2])
def test_half_density_counts_half_the_weights(steps):
    N = 20
    dense, sparse = PatternEnsemble(N, steps, [3, 4]), PatternEnsemble(N, steps, [3, 4], density=0.5)
    weights = dense.num_parameters() - N  # the biases are not masked
    assert sparse.num_parameters() - N == weights / 2
    for name in sparse.weight_names:  # every member keeps exactly half of each matrix, at its own positions
        kept = getattr(sparse, f"{name}_mask").flatten(1).sum(1)
        assert kept.tolist() == [sparse.allowed(name).sum().item() / 2] * 2
        assert not torch.equal(getattr(sparse, f"{name}_mask")[0], getattr(sparse, f"{name}_mask")[1])
    # Masking changes nothing else: the surviving weights are the dense network's.
    assert torch.equal(parameter(sparse, "W"), dense.W)


def test_masked_weights_stay_zero_through_training_and_are_not_counted(make_cfg):
    cfg = make_cfg("N=20", "model=recurrent", "model.density=0.5", "trainer.max_steps=80", "lr=0.05")
    module = build_module(cfg, [(40, 0), (60, 1)])
    model = module.model
    before = {name: parameter(model, name).detach().clone() for name in model.weight_names}
    make_trainer(cfg.trainer, Fit(), 80).fit(module)
    for name in model.weight_names:
        masked = getattr(model, f"{name}_mask") == 0
        assert not torch.equal(parameter(model, name), before[name])  # it trained
        assert torch.equal(effective(model, name)[masked], torch.zeros(int(masked.sum())))
        # Adam never moved them either: their gradient through the mask is zero.
        assert torch.equal(parameter(model, name)[masked], before[name][masked])
    assert model.num_parameters() == 20 + (20 * 20) // 2 + (20 * 20 - 20) // 2


def test_memberwise_pruning_removes_the_rate_of_each_members_remaining_weights():
    scores = torch.arange(20.0).repeat(2, 1)
    scores[1] = scores[1].flip(0)
    mask = torch.ones(2, 20)
    mask[0, 10:] = 0  # member 0 has 10 weights left, member 1 all 20
    pruned = MemberwiseUnstructured(0.2).compute_mask(scores, mask)
    assert pruned[0].tolist() == [0, 0] + [1] * 8 + [0] * 10  # 2 of its 10, the smallest
    assert pruned[1].tolist() == [1] * 16 + [0] * 4  # 4 of 20, the smallest (scores reversed)


@pytest.mark.parametrize("method", ["lottery", "random"])
def test_a_round_prunes_the_rate_of_each_members_weights_globally_across_w_and_r(make_cfg, method):
    cfg = make_cfg(*TINY, "model=recurrent", "DS=30", f"prune={method}")
    members, N = [(30, 0), (30, 1)], 20
    tickets = Tickets(method, 0.2, rewind_step=0)
    train_members(cfg, members, prepare=tickets.prepare)
    trained = tickets.trained[0][0]
    magnitude = torch.cat([effective(trained, name).detach().abs().flatten(1) for name in trained.weight_names], 1)
    tickets.prune_trained({(30, 0): 1, (30, 1): 2}, round_index=1)
    pruned = build_module(cfg, members, prepare=tickets.prepare).model
    keep = torch.cat([getattr(pruned, f"{name}_mask").flatten(1) for name in pruned.weight_names], 1) == 1
    possible = N * N + N * N - N  # W, and R off its diagonal
    assert keep.sum(1).tolist() == [possible - round(0.2 * possible)] * 2
    assert pruned.num_parameters() == N + possible - round(0.2 * possible)
    allowed = torch.cat([pruned.allowed(name).flatten() for name in pruned.weight_names]) == 1
    assert not (keep & ~allowed).any()  # the recurrent diagonal is never kept, nor counted
    if method == "lottery":  # the survivors are each member's largest trained weights
        for i in range(2):
            assert magnitude[i][keep[i]].min() >= magnitude[i][allowed & ~keep[i]].max()


def test_survivors_restart_from_the_initial_values(make_cfg):
    cfg = make_cfg(*TINY, "DS=30", "prune=lottery")
    members = [(30, 0), (30, 1)]
    initial = build_module(cfg, members).model
    tickets = Tickets("lottery", 0.5, rewind_step=0)
    train_members(cfg, members, prepare=tickets.prepare)
    tickets.prune_trained({(30, 0): 1, (30, 1): 2}, round_index=1)
    module = build_module(cfg, members, prepare=tickets.prepare)  # round 1, before training
    assert torch.equal(parameter(module.model, "W"), initial.W)
    assert torch.equal(module.model.b, initial.b)
    assert module.model.num_parameters() == 20 + 200


def test_rewind_step_snapshots_the_weights_after_that_many_steps():
    network = PatternEnsemble(8, 1, [0, 1])
    tickets = Tickets("lottery", 0.2, rewind_step=3)
    tickets.prepare(network, [(5, 0), (5, 1)])
    optimizer = torch.optim.Adam(network.parameters(), lr=0.1)
    X = torch.rand(2, 5, 8)
    history = []
    for _ in range(6):
        history.append(network.W.detach().clone())
        optimizer.zero_grad()
        network(X).square().sum().backward()
        optimizer.step()
    assert torch.equal(tickets.rewind[5, 1]["W"], history[3][1])
    assert not torch.equal(history[3], history[0])


def test_masks_and_weights_do_not_depend_on_companions():
    alone = PatternEnsemble(12, 2, [7], density=0.3)
    crowd = PatternEnsemble(12, 2, [3, 7], density=0.3)
    for name in ("W", "R"):
        assert torch.equal(getattr(alone, f"{name}_mask")[0], getattr(crowd, f"{name}_mask")[1])
        assert torch.equal(parameter(alone, name)[0], parameter(crowd, name)[1])


@pytest.mark.parametrize("overrides", [
    ["model.density=0.5"],
    ["model=recurrent", "model.activation=tanh"],
    ["model=recurrent", "model.activation=relu", "model.density=0.7"],
    ["model=recurrent", "model.activation=sine", "lr=0.01"],
])
def test_topology_options_run_as_jobs(make_cfg, overrides, tmp_path):
    result = run_job(make_cfg(*TINY, "DS=30", *overrides), tmp_path, "test")
    assert result["status"] == "ok"
    N = 20
    if "model.density=0.5" in overrides:
        assert result["config"]["density"] == 0.5 and result["metrics"]["params"] == N + N * N // 2
    if "model.activation=tanh" in overrides:
        assert result["config"]["activation"] == "tanh"


@pytest.mark.parametrize("method", ["lottery", "random"])
def test_pruning_jobs_record_every_round(make_cfg, method, tmp_path):
    cfg = make_cfg(*TINY, "model=recurrent", "DS=20", f"prune={method}", "prune.rounds=2", "prune.rate=0.5",
                   "prune.target=null")
    result = run_job(cfg, tmp_path, "test")
    rounds = result["metrics"]["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert [r["density"] for r in rounds] == pytest.approx([1.0, 0.5, 0.25], abs=0.003)
    assert [r["params"] for r in rounds] == [800, 20 + 390, 20 + 195]  # 2 N^2, then half of the 780 weights
    assert result["metrics"]["ticket_round"] == 2 and result["metrics"]["params"] == 215
    assert {p["round"] for p in result["points"]} == {0, 1, 2} and len(result["points"]) == 6
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["status"] == "ok" and saved["metrics"]["rounds"] == rounds


def test_pruning_stops_after_the_first_round_below_the_target(make_cfg, tmp_path):
    cfg = make_cfg(*TINY, "DS=20", "prune=lottery", "prune.rounds=5", "prune.rate=0.9", "prune.target=1.0")
    result = run_job(cfg, tmp_path, "test")
    rounds = result["metrics"]["rounds"]
    assert not rounds[-1]["met_target"] and all(r["met_target"] for r in rounds[:-1])
    assert len(rounds) < 6


def test_pruning_sweep_through_train_py(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), "-m", "logger=none", *TINY, "DS=20", "prune=lottery,random",
         "prune.rounds=1", f"hydra.sweep.dir={tmp_path}"],
        cwd=ROOT, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*/result.json"))]
    assert [r["config"]["prune"] for r in results] == ["lottery", "random"]
    assert all(len(r["metrics"]["rounds"]) in (1, 2) for r in results)


def test_without_a_ds_the_search_measures_the_pruned_networks_capacity(make_cfg, tmp_path):
    """prune=... with DS null: every searched DS's point is that run's last pruning round, the same count a fixed-DS
    pruning job of those rounds gives at that DS; the parameters are the ticket's nonzero ones."""
    rounds = ["prune=lottery", "prune.rate=0.2", "prune.rounds=2", "trainer.max_steps=600"]
    searched = run_job(make_cfg(*TINY, *rounds, "search.stop_short=false", "search.max_ds=60"), tmp_path / "search",
                       "test")
    m = searched["metrics"]
    assert searched["status"] == "ok" and m["capacity_ds"] is not None
    assert m["params"] == 20 + kept_after(20 * 20, 0.2, 2) == 20 + 256
    ds = max(p["DS"] for p in searched["points"])  # the failing DS above the answer: counts below DS
    fixed = run_job(make_cfg(*TINY, *rounds, f"DS={ds}", "prune.target=null"), tmp_path / "fixed", "test")
    last = fixed["metrics"]["rounds"][-1]
    assert last["params"] == m["params"]  # the count kept_after predicts is the network's
    at_ds = sorted((p for p in searched["points"] if p["DS"] == ds), key=lambda p: p["run"])
    by_run = {p["run"]: p["memorized"] for p in fixed["points"] if p["round"] == 2}
    assert [p["memorized"] for p in at_ds] == [by_run[0], by_run[1]]


@pytest.mark.parametrize("overrides,key,message", [
    (["DS=10", "prune=lottery", "prune.rate=0"], "prune.rate", "(0, 1)"),
    (["DS=10", "prune=lottery", "prune.rate=1"], "prune.rate", "(0, 1)"),
    (["DS=10", "prune=random", "prune.rate=-0.2"], "prune.rate", "(0, 1)"),
    (["model.density=0"], "model.density", "(0, 1]"),
    (["model.density=1.5"], "model.density", "(0, 1]"),
    (["model=recurrent", "model.activation=gelu"], "model.activation", "allowed: sigmoid, tanh, relu, sine"),
    (["model.activation=tanh"], "model.activation", "needs model=recurrent"),
    (["model=recurrent", "model.activation=sine", "model.w0=0"], "model.w0", "positive"),
    (["DS=10", "prune=lottery", "prune.rounds=0"], "prune.rounds", "at least 1"),
    (["DS=10", "prune=lottery", "prune.rewind_step=-1"], "prune.rewind_step", "at least 0"),
    (["DS=10", "prune=lottery", "prune.target=0"], "prune.target", "(0, 1]"),
    (["model.density=0.5", "search.oracle=true"], "search.oracle", "dense network"),
])
def test_bad_topology_values_name_the_key(make_cfg, overrides, key, message):
    with pytest.raises(ConfigError) as error:
        validate(make_cfg(*overrides))
    assert error.value.key == key and message in str(error.value)


def test_unknown_pruning_method_is_refused(make_cfg):
    cfg = make_cfg("DS=10")
    cfg.prune.name = "magnitude"
    with pytest.raises(ConfigError, match="allowed: none, lottery, random"):
        validate(cfg)


def _result(config: dict, metrics: dict) -> dict:
    base = {"model": "simple", "loss": "bce", "search": "fixed", "N": 20, "s": 0.1, "steps": 1, "seed": 0, "runs": 1,
            "DS": 30}
    return {"status": "ok", "config": {**base, **config}, "points": [],
            "metrics": {"capacity_ds": 30, "perfect_ds": None, "memorized_runs": [0], "accuracy": 0.5,
                        "memorized_mean": 0.0, "memorized_std": 0.0, **metrics}}


def test_topology_table_compares_methods_at_equal_density(tmp_path):
    from memcap.aggregate.sources import load_dirs
    from memcap.aggregate.topology import figure_topology, topology_tables

    rounds = [{"round": r, "density": d, "params": p, "memorized_max": m, "memorized_mean": m, "bits_per_param": b}
              for r, d, p, m, b in [(0, 1.0, 420, 30, 1.0), (1, 0.5, 220, 25, 1.5)]]
    jobs = {
        "lottery": _result({"prune": "lottery"}, {"memorized_max": 25, "params": 220, "bits_per_param": 1.5,
                                                  "rounds": rounds}),
        "sparse": _result({"density": 0.5}, {"memorized_max": 20, "params": 220, "bits_per_param": 1.2}),
        "smaller": _result({"N": 14}, {"memorized_max": 15, "params": 210, "bits_per_param": 0.9}),
    }
    for name, result in jobs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text(json.dumps(result))
    df, skipped = load_dirs([tmp_path])
    assert not skipped
    table = topology_tables(df)["simple topology"]
    assert list(table.columns) == [1.0, 0.5]
    memorized = table.xs("Maximum number of memorized patterns", level="Quantity")
    assert memorized.loc["simple · bce · lottery"].tolist() == [30, 25]
    assert memorized.loc["simple · bce · sparse", 0.5] == 20
    assert memorized.loc["simple · bce · smaller", 0.5] == 15  # 14^2 / 20^2 = 0.49 weights: the 0.5 column
    assert figure_topology(df).axes
    assert topology_tables(df.drop(columns=["prune", "density", "rounds"])) == {}  # not a topology sweep
    from memcap.aggregate.cli import main

    assert main([str(tmp_path), "--out", str(tmp_path / "aggregate"), "--formats", "md"]) == 0
    written = (tmp_path / "aggregate" / "topology_tables.md").read_text()
    assert "simple · bce · lottery" in written and (tmp_path / "aggregate" / "topology_memorized_vs_params.png").exists()


def test_topology_at_capacity_compares_each_arm_with_the_dense_network_over_seeds(tmp_path):
    """Capacity searches (search=capacity) under each topology: one row per (method, density) over the seeds, the
    pruned network's density from its nonzero weights, and a verdict against the dense network only where every
    seed of one lies above (or below) every seed of the other; an unconverged seed's bits are a lower bound, and
    another feedback activation's dense network is compared with the sigmoid one."""
    from memcap.aggregate.cli import main
    from memcap.aggregate.sources import load_dirs
    from memcap.aggregate.topology import capacity_comparison

    def searched(seed, config, capacity, bits, params, converged):
        result = _result({"search": "capacity", "DS": None, "seed": seed, **config},
                         {"capacity_ds": capacity, "perfect_ds": capacity, "memorized_max": capacity,
                          "params": params, "bits_per_param": bits, "converged": converged})
        return {**result, "points": [{"DS": 10, "run": 0, "memorized": 9, "loss": 0.1, "steps": 100, "seconds": 1.0,
                                      "members": 1, "stop": "plateau"}]}

    arms = {"dense": ({}, [(60, 1.0), (70, 1.1), (60, 1.0)], 420),
            "lottery": ({"prune": "lottery", "prune_rounds": 1}, [(40, 1.3), (40, 1.3), (50, 1.4)], 220),
            "sparse": ({"density": 0.5}, [(30, 0.9), (40, 1.05), (30, 0.9)], 220),
            "random": ({"prune": "random", "prune_rounds": 1}, [(20, 0.5), (20, 0.5), (None, None)], 220),
            "tanh": ({"activation": "tanh"}, [(80, 1.2), (90, 1.3), (80, 1.2)], 420)}
    unconverged = {("lottery", 1)}  # a lower bound above every dense seed: still "more"
    for arm, (config, cells, params) in arms.items():
        for seed, (capacity, bits) in enumerate(cells):
            (tmp_path / f"{arm}{seed}").mkdir()
            (tmp_path / f"{arm}{seed}" / "result.json").write_text(
                json.dumps(searched(seed, config, capacity, bits, params, (arm, seed) not in unconverged)))
    df, skipped = load_dirs([tmp_path])
    assert not skipped
    table = capacity_comparison(df).set_index(["network", "method"]).loc["simple · bce"]
    assert table.loc["lottery", "density"] == 0.5  # (220 - 20) / 400 nonzero weights
    assert table.loc["lottery", "capacity DS"] == "40–50" and table.loc["lottery", "seeds"] == 3
    assert table.loc["lottery", "unconverged seeds"] == 1 and table.loc["dense", "unconverged seeds"] == 0
    per_pattern = math.log2(math.comb(20, 2))  # the aggregation counts bits from the stored counts (k = 2 of 20)
    lottery = [c * per_pattern / 220 for c in (40, 40, 50)]
    assert table.loc["lottery", "bits / nonzero param"] == (f"{sum(lottery) / 3:.3f} "
                                                           f"({min(lottery):.3f}–{max(lottery):.3f})")
    assert table["vs dense"].to_dict() == {"dense": "reference", "lottery": "more", "random": "less",
                                           "sparse": "not separated"}
    tanh = capacity_comparison(df).set_index(["network", "method"]).loc[("simple · bce · tanh", "dense")]
    assert tanh["vs dense"] == "more"  # against the sigmoid dense network of the same N, not its own reference
    # a seed at the step cap can store more: a sparse seed above the dense range keeps it from "less"
    random0 = (df.prune == "random") & (df.seed == 0)
    df.loc[random0, "converged"] = False
    assert capacity_comparison(df).set_index(["network", "method"]).loc[("simple · bce", "random"), "vs dense"] == \
        "not separated"
    random2 = (df.prune == "random") & (df.seed == 2)  # found no DS on its grid, and stopped at the cap
    df.loc[random2, "converged"] = False
    unknown = capacity_comparison(df).set_index(["network", "method"]).loc[("simple · bce", "random")]
    assert unknown["bits / nonzero param"] == "unknown (1 below the grid, at the step cap)"
    two_seeds = capacity_comparison(df[df.seed < 2]).set_index(["network", "method"])  # before the third seed
    assert set(two_seeds["vs dense"]) == {"reference", "pending"}
    # a search that found no DS on its grid (the first tried, 10): at most 9 patterns' bits
    assert table.loc["random", "capacity DS"] == "20, < 10"
    assert table.loc["random", "bits / nonzero param"] == f"≤ {20 * per_pattern / 220:.3f} (1 below the grid)"
    assert capacity_comparison(df[df.search == "fixed"]).empty
    assert main([str(tmp_path), "--out", str(tmp_path / "aggregate"), "--formats", "md"]) == 0
    assert "| lottery " in (tmp_path / "aggregate" / "topology_capacity.md").read_text()
