"""Pruning rounds on the text encoders : prune=lottery|random on the state measure."""

from __future__ import annotations

import pytest
import torch

from memcap.lifecycle import run_job
from memcap.results import read_result
from memcap.text.state import measure as state
from memcap.text.state.prune import encoder_density, next_masks
from memcap.topology.masks import MemberwiseUnstructured, effective, mask_matrices, matrix_mask, weight_matrices

STATE = ["data=text", "search=state", "text.source=random", "text.heldout=256", "text.validation=64", "text.length=3"]
ROUNDS = [*STATE, "model=rnn", "model.hidden=8", "runs=1", "search.lrs=[0.01,0.03]", "search.max_steps=80",
          "search.check_every=40", "prune.rounds=2", "prune.rate=0.5", "prune.target=null"]


def entries(network) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(|weight| as trained, its mask) of every encoder weight matrix, flattened."""
    encoder = network.encoder
    return [(effective(encoder.get_submodule(path), name).detach().abs().flatten(),
             matrix_mask(encoder, (path, name)).flatten()) for path, name in weight_matrices(encoder)]


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru", "transformer", "dense", "hybrid"])
def test_a_lottery_round_removes_the_smallest_weights_across_the_encoders_matrices(make_cfg, model):
    network = state.build(make_cfg(*STATE, f"model={model}", "model.hidden=8"), 8, 3, 0, 8)
    total = sum(len(w) for w, _ in entries(network))
    masks = next_masks(network, "lottery", MemberwiseUnstructured(0.3), seed=0)
    mask_matrices(network.encoder, masks)
    kept = torch.cat([w[m == 1] for w, m in entries(network)])
    removed = torch.cat([w[m == 0] for w, m in entries(network)])
    assert len(removed) == round(0.3 * total) and encoder_density(network) == pytest.approx(1 - len(removed) / total)
    # ranked by magnitude across every matrix together: no removed weight is larger than a kept one
    orig = torch.cat([getattr(network.encoder.get_submodule(p), f"{n}_orig").detach().abs().flatten()
                      for p, n in weight_matrices(network.encoder)])
    mask = torch.cat([m for _, m in entries(network)])
    assert orig[mask == 0].max() <= orig[mask == 1].min()
    assert (kept > 0).all() and (removed == 0).all()  # the network computes with the masked weights at zero
    network(torch.nn.functional.one_hot(torch.randint(0, 95, (4, 3)), 95).float())  # and still runs


def test_a_second_round_prunes_the_rate_of_what_is_left_and_random_differs_from_lottery(make_cfg):
    network = state.build(make_cfg(*STATE, "model=lstm", "model.hidden=8"), 8, 3, 0, 8)
    pruning = MemberwiseUnstructured(0.5)
    mask_matrices(network.encoder, next_masks(network, "lottery", pruning, seed=0))
    mask_matrices(network.encoder, next_masks(network, "lottery", pruning, seed=0))
    assert encoder_density(network) == pytest.approx(0.25, abs=1e-3)
    control = state.build(make_cfg(*STATE, "model=lstm", "model.hidden=8"), 8, 3, 0, 8)
    random = next_masks(control, "random", pruning, seed=1)
    assert random.keys() == next_masks(control, "lottery", pruning, seed=1).keys()
    assert any(not torch.equal(random[m], next_masks(control, "lottery", pruning, seed=1)[m]) for m in random)
    assert all(torch.equal(random[m], next_masks(control, "random", pruning, seed=1)[m]) for m in random)  # seeded


@pytest.mark.parametrize("method", ["lottery", "random"])
def test_a_pruning_job_halves_the_encoder_each_round_and_reports_its_rounds(make_cfg, tmp_path, method):
    result = run_job(make_cfg(*ROUNDS, f"prune={method}"), tmp_path, tmp_path)
    m = result["metrics"]
    assert result["status"] == "ok" and read_result(tmp_path / "result.json")["status"] == "ok"  # the schema reads it
    assert [r["density"] for r in m["rounds"]] == pytest.approx([1.0, 0.5, 0.25], abs=2e-3)
    dense, *pruned = [r["encoder_nonzero_params"] for r in m["rounds"]]
    assert dense == m["encoder_params"] and pruned[0] < dense and pruned[1] < pruned[0]
    assert len(result["points"]) == 3 * 2 and {p["round"] for p in result["points"]} == {0, 1, 2}  # 2 lrs a round
    assert result["config"]["prune"] == method and result["config"]["hidden"] == 8
    assert m["measure"] == "state capacity, pruned" and not (tmp_path / f"masks.{result['job']}.pt").exists()
    for r in m["rounds"]:
        assert r["met_target"] == (r["heldout_char"] >= 0.99)
        assert r["bits_per_nonzero_encoder_param"] == pytest.approx(r["fano_bits"] / r["encoder_nonzero_params"])


def test_a_pruning_job_killed_after_a_round_resumes_at_the_next_and_ends_as_if_never_stopped(
        make_cfg, tmp_path, monkeypatch):
    cfg = make_cfg(*ROUNDS, "prune=lottery")
    reference = run_job(cfg, tmp_path / "reference", tmp_path / "reference")
    trained = state.train_round

    def killed_in_round_two(*args, **kwargs):
        if killed_in_round_two.calls == 1:
            raise KeyboardInterrupt  # a kill: the result stays "running", to resume
        killed_in_round_two.calls += 1
        return trained(*args, **kwargs)

    killed_in_round_two.calls = 0
    monkeypatch.setattr(state, "train_round", killed_in_round_two)
    with pytest.raises(KeyboardInterrupt):
        run_job(cfg, tmp_path / "killed", tmp_path / "killed")
    partial = read_result(tmp_path / "killed" / "result.json")
    assert partial["status"] == "running" and len(partial["metrics"]["rounds"]) == 1
    monkeypatch.setattr(state, "train_round", trained)
    calls = []
    monkeypatch.setattr(state, "train_round", lambda *a, **k: calls.append(1) or trained(*a, **k))
    resumed = run_job(cfg, tmp_path / "killed", tmp_path / "killed")
    assert len(calls) == 2  # rounds 1 and 2 only
    assert resumed["metrics"]["rounds"] == reference["metrics"]["rounds"]
