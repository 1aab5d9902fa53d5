"""Topology on text: model.activation and model.density on the text encoders, the refusals, identity."""

from __future__ import annotations

import pytest
import torch

from memcap.aggregate.text_study import answers, pages
from memcap.config import ConfigError, identity, identity_hash
from memcap.lifecycle import run_job
from memcap.results import read_result
from memcap.text.config import validate
from memcap.text.state import measure as state
from memcap.topology.activations import siren_bound
from memcap.topology.masks import effective

STATE = ["data=text", "search=state", "text.source=random", "runs=1", "text.heldout=256", "text.validation=64",
         "text.length=3"]
TINY = [*STATE, "search.min_hidden=4", "search.max_hidden=4", "search.max_steps=60", "search.check_every=30",
        "search.lrs=[0.01]"]


def masked_weights(module: torch.nn.Module) -> dict[str, tuple[torch.nn.Module, str, torch.Tensor]]:
    """Every masked weight of ``module``: qualified name -> (owner, weight name, mask)."""
    found = {}
    for path, owner in module.named_modules():
        for name, buffer in owner.named_buffers(recurse=False):
            if name.endswith("_mask"):
                found[f"{path}.{name[:-5]}"] = (owner, name[:-5], buffer)
    return found


def one_hot_batch(length: int, size: int = 95, batch: int = 16) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.randint(0, size, (batch, length)), size).float()


def test_a_composed_job_with_activation_and_density_runs_and_counts_nonzero_parameters(make_cfg, tmp_path):
    cfg = make_cfg(*TINY, "model=rnn", "model.activation=sine", "model.density=0.5")
    result = run_job(cfg, tmp_path, tmp_path)
    c, m = result["config"], result["metrics"]
    assert result["status"] == "ok" and read_result(tmp_path / "result.json")["status"] == "ok"  # the schema reads it
    assert (c["activation"], c["w0"], c["density"]) == ("sine", cfg.model.w0, 0.5)
    network = state.build(cfg, 4, 3, 0, 4)
    masked = sum(round((1 - cfg.model.density) * mask.numel()) for _, _, mask in masked_weights(network).values())
    assert masked > 0 and m["nonzero_params"] == m["params"] - masked
    assert m["encoder_nonzero_params"] == m["encoder_params"] - masked
    assert m["bits_per_nonzero_param"] == pytest.approx(m["fano_bits"] / m["nonzero_params"])
    assert len(m["position_char"]) == 3  # the forgetting curve is measured as for any encoder


@pytest.mark.parametrize("model,activation", [("rnn", "tanh"), ("rnn", "sigmoid"), ("dense", "relu"), ("lstm", None),
                                              ("gru", None), ("transformer", None), ("hybrid", None)])
def test_density_masks_the_encoder_and_masked_weights_stay_zero_and_inert_after_training(make_cfg, model, activation):
    """The mask keeps exactly round(density x entries) of every encoder weight matrix; after Adam steps the masked
    entries of the weights the network computes with are still zero, and moving them (in the stored _orig) changes
    nothing the network computes: no path (nn.RNN's kernel, an unrolled loop, attention's out_proj) reads them."""
    overrides = [*STATE, f"model={model}", "model.density=0.25", *([f"model.activation={activation}"] if activation else [])]
    cfg = make_cfg(*overrides)
    validate(cfg)
    network = state.build(cfg, 8, 3, 0, 8)
    masks = masked_weights(network.encoder)
    assert masks and not masked_weights(network.decoder)  # the encoder's matrices only: the readout stays dense
    for _, _, mask in masks.values():
        assert int(mask.sum()) == round(0.25 * mask.numel())
    x = one_hot_batch(3)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.05)
    start = {key: effective(owner, name).detach().clone() for key, (owner, name, _) in masks.items()}
    for _ in range(3):
        optimizer.zero_grad()
        network(x).square().mean().backward()
        optimizer.step()
    for key, (owner, name, mask) in masks.items():
        weight = effective(owner, name).detach()
        assert torch.all(weight[mask == 0] == 0), key
        assert not torch.equal(weight, start[key]), key  # the kept weights did train
    network.eval()
    with torch.no_grad():
        before = network(x)
        for owner, name, mask in masks.values():
            getattr(owner, f"{name}_orig").add_(100 * (1 - mask))
        assert torch.equal(network(x), before)


def test_the_unrolled_elman_network_computes_what_nn_rnn_computes(make_cfg):
    """sigmoid and sine run the Elman recursion written out; with tanh in it, it must give nn.RNN's own answer."""
    cfg = make_cfg(*STATE, "model=rnn", "model.layers=2", "model.density=0.5")
    encoder = state.build(cfg, 6, 3, 0, 6).encoder
    x = one_hot_batch(3)
    native = encoder(x)
    encoder.function = torch.tanh  # the unrolled path, with nn.RNN's nonlinearity
    assert torch.allclose(encoder(x), native, atol=1e-6)


@pytest.mark.parametrize("model", ["rnn", "dense"])
def test_sine_draws_sirens_ranges(make_cfg, model):
    cfg = make_cfg(*STATE, f"model={model}", "model.activation=sine", "model.w0=10")
    encoder = state.build(cfg, 16, 3, 0, 16).encoder
    weights = {name: p for name, p in encoder.named_parameters() if p.dim() == 2}
    first = "net.weight_ih_l0" if model == "rnn" else "net.0.0.weight"
    for name, weight in weights.items():
        bound = siren_bound(weight.shape[1], 10.0, first=name == first)
        assert weight.abs().max() <= bound and weight.abs().max() > 0.9 * bound, name
    tanh = state.build(make_cfg(*STATE, f"model={model}"), 16, 3, 0, 16).encoder
    assert dict(tanh.named_parameters())[first].abs().max() > siren_bound(weights[first].shape[1], 10.0, True)


@pytest.mark.parametrize("overrides,key", [
    (["model=lstm", "model.activation=relu"], "model.activation"),  # gates keep their sigmoid and tanh
    (["model=transformer", "model.activation=sine"], "model.activation"),
    (["model=rnn", "model.activation=softplus"], "model.activation"),
    (["model=dense", "model.activation=null"], "model.activation"),
    (["model=rnn", "model.density=0"], "model.density"),
    (["model=gru", "model.density=1.5"], "model.density"),
    (["model=rnn", "model.activation=sine", "model.w0=0"], "model.w0"),
    (["prune=lottery", "search=memorize"], "prune"),  # the rounds run on the state measure only
    (["prune=random", "search.vary=length"], "prune"),  # ... at one width and one L
    (["prune=lottery", "prune.rewind_step=5"], "prune.rewind_step"),  # text rewinds to the initialization
    (["prune=lottery", "prune.rate=1"], "prune.rate"),
])
def test_bad_topology_input_is_refused_in_one_line_naming_the_key(make_cfg, overrides, key):
    with pytest.raises(ConfigError) as error:
        validate(make_cfg(*STATE, *overrides))
    assert error.value.key == key and "\n" not in str(error.value)
    if key == "model.activation" and "lstm" in overrides[0]:
        assert "rnn and dense" in str(error.value)  # what is allowed


def test_identity_differs_exactly_when_the_topology_differs(make_cfg):
    def job(*overrides):
        return identity_hash(identity(make_cfg(*STATE, "model=rnn", *overrides)))

    assert job("model.activation=tanh") == job()  # tanh is rnn's own: the same job
    assert len({job(), job("model.activation=relu"), job("model.activation=sine"), job("model.density=0.5"),
                job("model.density=0.25"), job("model.activation=sine", "model.w0=10")}) == 6


def test_the_topology_table_comes_from_result_files(make_cfg, tmp_path):
    """The text study's pages tabulate results/text/topology/ apart from the state study's tables."""
    for activation, density in (("tanh", 1.0), ("sigmoid", 0.5)):
        run_job(make_cfg(*TINY, "model=rnn", f"model.activation={activation}", f"model.density={density}"),
                tmp_path / "r" / "topology" / f"rnn-{activation}-{density}", tmp_path / "r")
    assert pages.write(tmp_path / "r", tmp_path / "docs", tmp_path / "none.md")
    md = (tmp_path / "docs" / "text_topology.md").read_text()
    assert "| rnn | 3 | sigmoid | 0.5 | 4: " in md and "| rnn | 3 | tanh | 1.0 | 4: " in md
    study = (tmp_path / "docs" / "text_study.md").read_text()
    assert "| rnn | 3 |" not in study  # topology cells are not the state study's answers


def test_the_topology_answer_names_more_or_less_only_where_every_seed_is_on_one_side():
    """The topology answer: each arm over seeds against its encoder's own dense network."""

    def job(activation, density, seed, bits, capped=False, capped_failure=False):
        return {"config": {"model": "rnn", "length": 4, "activation": activation, "w0": 30.0 if activation == "sine"
                           else None, "density": density, "seed": seed, "min_hidden": 2, "max_steps": 6000,
                           "settle_factor": 4, "target": 0.99},
                "wall_time": 10.0,
                "points": [{"hidden": 7, "run": 0, "stop": "cap" if capped_failure else "plateau", "heldout_char": 0.98,
                            "steps": 6000},
                           {"hidden": 8, "run": 0, "stop": "target", "heldout_char": 0.99, "steps": 4000}],
                "metrics": {"capped": capped, "hidden": 8, "min_hidden": None if capped else 8, "decisive": 7,
                            "state_size": 8, "encoder_nonzero_params": 1000, "bits_per_nonzero_encoder_param": bits}}

    own = [job("tanh", 1.0, seed, 0.020 + 0.001 * seed) for seed in range(3)]  # the widths study's jobs
    results = ([job("tanh", 0.5, seed, 0.030 + 0.001 * seed) for seed in range(3)] +  # above every dense seed
               [job("relu", 1.0, seed, 0.010 + 0.011 * seed) for seed in range(3)] +  # straddles them
               [job("sigmoid", 1.0, seed, 0.010, capped_failure=seed == 0) for seed in range(3)] +  # † can't be less
               [job("sine", 1.0, seed, 0.010, capped=seed == 2) for seed in range(3)])
    rows = {tuple(cell.strip() for cell in line.split("|")[3:5]): line.rstrip("| ").rsplit("| ", 1)[-1]
            for line in answers.topology_answer(results, own).splitlines() if line.startswith("| rnn")}
    assert rows == {("tanh", "1"): "reference", ("tanh", "0.5"): "more", ("relu", "1"): "not separated",
                    ("sigmoid", "1"): "not separated", ("sine (w0 30)", "1"): "not separated"}
    lows = answers.topology_answer([r for r in results if r["config"]["activation"] == "sine"
                                    and not r["metrics"]["capped"]], own)
    assert "| sine (w0 30) | 1 | 2 | 8 | 1,000 | 0.0100 (0.0100) | pending |" in lows  # 2 of 3 seeds: no verdict
    below = answers.topology_answer([job("sine", 1.0, seed, 0.010) for seed in range(3)], own)
    assert "| sine (w0 30) | 1 | 3 | 8 | 1,000 | 0.0100 (0.0100) | less |" in below
    # the summary at the top of docs/text.md: the arms of each verdict named, those pending counted
    assert answers.topology_summary(results[:-1], own) == [
        "more: rnn L = 4 tanh d0.5", "not separated: rnn L = 4 sigmoid d1, rnn L = 4 relu d1",
        "pending: 1 arm of rnn L = 4 (2 of 3 seeds)"]
    assert "> 8" in answers.topology_answer(results, own)  # the capped seed shows the widest width tried
    assert "- L = 4, rnn, sigmoid, density 1, seed 0: width 7: 0.980 (6000 steps)" in answers.topology_answer(results, own)  # † has its curve
    other_length = [{**r, "config": {**r["config"], "length": 2}} for r in own]
    assert "| reference |" not in answers.topology_answer(results, other_length)  # only the lengths studied
