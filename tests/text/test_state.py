"""The state measures (search=state, search=memorize): planted answers, the stream, resume, bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch

from memcap.aggregate.text_study import answers, collect, pages, reading
from memcap.aggregate.text_study import figures as plots
from memcap.config import ConfigError
from memcap.lifecycle import run_job
from memcap.results import read_result
from memcap.text.config import validate, width_grid
from memcap.text.models import Shape, build_autoencoder
from memcap.text.state import measure as state
from memcap.text.state.information import codelength_bits, fano_bits
from memcap.text.state.stream import Stream, draw_sets, string_keys

STATE = ["data=text", "search=state", "text.source=random", "runs=1", "text.heldout=256", "text.validation=64"]


def timeless(points):
    return [{k: v for k, v in p.items() if k != "seconds"} for p in points]


# -- planted answers ------------------------------------------------------------------------------------------
def test_planted_linear_state_of_width_L_times_A_reconstructs_exactly(make_cfg):
    """A (near) linear encoder of width L|A| that copies its one-hot input, and a decoder undoing it: every held-out
    character right, Fano's bound at its maximum L log2|A|, far below 32 bits per state number."""
    cfg = make_cfg(*STATE, "model=dense", "text.length=3")
    size, length = 95, 3
    width = length * size
    network = build_autoencoder(cfg.model, Shape(size, length, width), classes=size)
    gain = 0.5  # tanh(0.5 x) on a one-hot input: 0 or tanh(0.5), a linear code of the input
    with torch.no_grad():
        layer = network.encoder.net[0][0]
        layer.weight.copy_(gain * torch.eye(width))
        layer.bias.zero_()
        network.decoder.net.weight.copy_(torch.eye(width) / math.tanh(gain))
        network.decoder.net.bias.zero_()
    sets = draw_sets(cfg.text, 0, length)
    point = state.score(cfg, network, sets, length, size, "width", width)
    assert point["heldout_char"] == 1.0 and point["heldout_exact"] == 1.0
    assert point["fano_bits"] == pytest.approx(length * math.log2(size))
    assert point["fano_bits_per_state"] == pytest.approx(math.log2(size) / size)
    assert point["position_char"] == [1.0] * length
    assert point["participation_ratio"] > width / 3  # many directions used alike (256 samples bound the estimate)


def test_width_one_state_cannot_carry_eight_random_characters(make_cfg, tmp_path):
    """52.6 bits in one float32 (at most 32 bits): the search finds no width, and the bound stays below 32."""
    cfg = make_cfg(*STATE, "model=rnn", "text.length=8", "search.min_hidden=1", "search.max_hidden=1",
                   "search.max_steps=300", "search.check_every=50", "search.lrs=[0.01]")
    result = run_job(cfg, tmp_path, tmp_path)
    m = result["metrics"]
    assert m["capped"] and m["min_hidden"] is None and m["hidden"] == 1
    assert m["heldout_char"] < 0.5
    assert 0 <= m["max_fano_bits_per_state"] <= 32
    assert read_result(tmp_path / "result.json")["status"] == "ok"  # the schema reads it


def test_a_wide_trained_state_reaches_the_target(make_cfg, tmp_path):
    cfg = make_cfg(*STATE, "model=dense", "text.length=2", "text.heldout=128", "text.validation=48",
                   "search.min_hidden=64", "search.max_hidden=64", "search.max_steps=1500", "search.lrs=[0.01]")
    m = run_job(cfg, tmp_path, tmp_path)["metrics"]
    assert m["min_hidden"] == 64 and m["heldout_char"] >= 0.99 and m["converged"]
    assert m["fano_bits"] > 12 and m["fano_bits_per_state"] <= 32


# -- the stream and the fixed sets ----------------------------------------------------------------------------
def test_stream_never_draws_an_excluded_string():
    space = torch.arange(95).view(-1, 1)  # L = 1: every string is drawn thousands of times
    excluded = space[[3, 50, 94]]
    stream = Stream(95, 1, 512, seed=0, excluded=excluded)
    drawn = torch.cat([stream.draw() for _ in range(20)])
    assert not torch.isin(drawn, excluded).any() and stream.rejected > 0
    assert set(drawn.flatten().tolist()) == set(range(95)) - {3, 50, 94}


def test_string_keys_are_exact_below_2_63_and_equal_strings_share_a_key():
    strings = torch.tensor([[1, 2, 3], [3, 2, 1], [1, 2, 3]])
    keys = string_keys(strings, 95)
    assert keys[0] == keys[2] != keys[1] and keys[0] == 1 + 2 * 95 + 3 * 95 ** 2
    long = torch.randint(0, 256, (50, 40))
    assert torch.equal(string_keys(long, 256), string_keys(long.clone(), 256))


def test_fixed_sets_are_distinct_disjoint_and_seeded(make_cfg):
    cfg = make_cfg(*STATE, "text.length=3")
    a, b = draw_sets(cfg.text, 0, 3), draw_sets(cfg.text, 0, 3)
    assert torch.equal(a.heldout, b.heldout) and torch.equal(a.validation, b.validation)
    rows = {tuple(r) for r in torch.cat([a.validation, a.heldout]).tolist()}
    assert len(rows) == 256 + 64


def test_fano_bound():
    assert fano_bits(1.0, 8, 95) == pytest.approx(8 * math.log2(95))
    assert fano_bits(1 / 95, 8, 95) == 0.0  # chance: nothing
    assert fano_bits(0.99, 1, 95) == pytest.approx(math.log2(95) + 0.99 * math.log2(0.99) + 0.01 * math.log2(0.01)
                                                   - 0.01 * math.log2(94))


# -- the searches ----------------------------------------------------------------------------------------------
def test_smallest_and_largest_passing():
    grid = width_grid(type("M", (), {"name": "rnn", "heads": 1})(), 2, 256)
    assert grid == [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256]
    tried = []
    assert state.smallest_passing(grid, lambda w: tried.append(w) or w >= 40) == 45
    assert tried[:5] == [2, 4, 8, 16, 32] and len(tried) <= 8
    assert state.smallest_passing(grid, lambda w: False) is None
    finer = list(range(2, 257))
    for answer in (2, 5, 33, 40, 45, 46, 200, 256):  # any integer answer, each width tried at most once
        tried = []
        assert state.smallest_passing(grid, lambda w, t=tried, a=answer: t.append(w) or w >= a, finer) == answer
        assert len(tried) == len(set(tried)) <= 16
    heads = [w for w in finer if w % 4 == 0]  # an attending encoder's widths: multiples of its heads
    assert state.smallest_passing([4, 8, 12, 16, 24, 32, 48], lambda w: w >= 37, heads) == 40
    assert state.largest_passing(1, 64, lambda v: v <= 11) == (11, False)
    assert state.largest_passing(1, 64, lambda v: True) == (64, True)
    assert state.largest_passing(16, 4096, lambda v: v <= 300, resolution=0.125)[0] in range(264, 301)


# -- the lifecycle ---------------------------------------------------------------------------------------------
TINY = [*STATE, "model=gru", "text.length=3", "search.min_hidden=2", "search.max_hidden=8", "search.max_steps=120",
        "search.check_every=40", "search.lrs=[0.003,0.01]"]


def test_same_seed_same_result_and_resume_reuses_recorded_rounds(make_cfg, tmp_path, monkeypatch):
    cfg = make_cfg(*TINY)
    first = run_job(cfg, tmp_path / "a", tmp_path / "a")
    again = run_job(cfg, tmp_path / "b", tmp_path / "b")
    assert timeless(first["points"]) == timeless(again["points"]) and first["metrics"] == again["metrics"]
    widths = sorted({p["hidden"] for p in first["points"]})
    assert len(widths) >= 2 and {p["lr"] for p in first["points"]} == {0.003, 0.01}
    assert first["config"]["lrs"] == [0.003, 0.01] and first["metrics"]["measure"] == "state capacity"
    m = first["metrics"]  # the width that decided the bracket from below, with its best held-out score
    assert m["decisive"] in widths and m["decisive"] < m["hidden"]
    assert m["decisive_score"] == max(p["heldout_char"] for p in first["points"] if p["hidden"] == m["decisive"])

    trained, real = [], state.run_fit

    def spy(trainer_cfg, module, fit, max_steps):
        trained.append(module.members[0].encoder.state_size)
        return real(trainer_cfg, module, fit, max_steps)

    monkeypatch.setattr(state, "run_fit", spy)
    killed = {**first, "status": "running", "metrics": {},
              "points": [p for p in first["points"] if p["hidden"] == widths[0]]}
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "result.json").write_text(json.dumps(killed))
    resumed = run_job(cfg, tmp_path / "c", tmp_path / "c")
    assert resumed["metrics"] == first["metrics"] and timeless(resumed["points"]) == timeless(first["points"])
    order = list(dict.fromkeys(p["hidden"] for p in first["points"]))  # the widths in the order first trained
    assert trained == [w for w in order if w != widths[0]]  # the recorded round is not trained again


def test_a_refined_width_search_answers_an_integer_width_whose_neighbour_below_failed(make_cfg, tmp_path):
    """search.refine: the answer is a width every narrower width tried failed at, and the width just below it
    (or the grid's floor) was tried; the grid alone only guarantees the grid width below."""
    result = run_job(make_cfg(*STATE, "model=gru", "text.length=2", "text.heldout=128", "text.validation=48",
                              "search.min_hidden=2", "search.max_hidden=32", "search.max_steps=400",
                              "search.check_every=40", "search.lrs=[0.03]", "search.analyse=false",
                              "search.refine=true"), tmp_path, tmp_path)
    m, points = result["metrics"], result["points"]
    assert result["config"]["refine"] is True and not m["capped"]
    best = {w: max(p["heldout_char"] for p in points if p["hidden"] == w) for w in {p["hidden"] for p in points}}
    assert best[m["min_hidden"]] >= 0.99 and all(score < 0.99 for w, score in best.items() if w < m["min_hidden"])
    assert m["min_hidden"] == 2 or m["decisive"] == m["min_hidden"] - 1


SETTLING = [*STATE, "model=gru", "text.length=2", "text.heldout=128", "text.validation=48", "search.min_hidden=2",
            "search.max_hidden=64", "search.max_steps=80", "search.check_every=20", "search.lrs=[0.01]",
            "search.refine=true", "search.analyse=false", "search.target=0.9"]


def test_settling_trains_capped_deciding_widths_longer_and_moves_the_answer_down(make_cfg, tmp_path, monkeypatch):
    """search.settle_factor: a width below the answer whose network hit the cap is trained again for 4x the steps;
    passing then moves the answer down, and the widths under it are searched the same way. Every width below the
    answer fails at the budget it was last given, and no failure that decides it stopped at the cap."""
    plain = run_job(make_cfg(*SETTLING), tmp_path / "plain", tmp_path / "plain")
    cfg = make_cfg(*SETTLING, "search.settle_factor=4")
    result = run_job(cfg, tmp_path / "settled", tmp_path / "settled")
    m, points = result["metrics"], result["points"]
    again = [p for p in points if p.get("phase") == "settle"]
    assert again and all(p["steps"] > 80 or p["stop"] != "cap" for p in again) and max(p["steps"] for p in again) <= 320
    assert m["min_hidden"] < plain["metrics"]["min_hidden"] and m["converged"]
    last = {}
    for p in points:  # the settled point of a width replaces its first
        if p.get("phase") == "settle" or p["hidden"] not in last:
            last[p["hidden"]] = p
    assert last[m["min_hidden"]]["heldout_char"] >= 0.9
    assert all(p["heldout_char"] < 0.9 for w, p in last.items() if w < m["min_hidden"])
    assert last[m["decisive"]]["stop"] != "cap" and m["decisive"] == m["min_hidden"] - 1

    trained = []
    monkeypatch.setattr(state, "run_fit", lambda *args: trained.append(args) or 0.0)
    again = run_job(cfg, tmp_path / "settled", tmp_path / "settled")  # finished: every point reused
    assert trained == [] and again["metrics"] == m


def test_a_count_search_resumes_matching_points_on_the_count_not_the_width(make_cfg, tmp_path, monkeypatch, caplog):
    """search=memorize varies the count, not the task's key (hidden): recorded rounds are matched on (count, run),
    so a resumed job trains only the counts it lacks. The width (3) is no count the search tries."""
    cfg = make_cfg("data=text", "search=memorize", "text.source=random", "runs=1", "model=rnn", "model.hidden=3",
                   "text.length=2", "text.heldout=32", "search.min_count=4", "search.max_count=32",
                   "search.max_steps=150", "search.check_every=50", "search.lrs=[0.03]", "search.resolution=0.5")
    with caplog.at_level("INFO", logger="memcap"):
        first = run_job(cfg, tmp_path / "a", tmp_path / "a")
    counts = list(dict.fromkeys(p["count"] for p in first["points"]))  # in the order first trained
    assert len(counts) >= 2 and {p["hidden"] for p in first["points"]} == {3}
    assert f"count={counts[0]} best" in caplog.text and "hidden=" not in caplog.text

    trained, real = [], state.run_fit

    def spy(trainer_cfg, module, fit, max_steps):
        trained.append(len(module.check))
        return real(trainer_cfg, module, fit, max_steps)

    monkeypatch.setattr(state, "run_fit", spy)
    killed = {**first, "status": "running", "metrics": {},
              "points": [p for p in first["points"] if p["count"] == counts[0]]}
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "result.json").write_text(json.dumps(killed))
    resumed = run_job(cfg, tmp_path / "c", tmp_path / "c")
    assert resumed["metrics"] == first["metrics"] and timeless(resumed["points"]) == timeless(first["points"])
    assert trained == counts[1:]  # the recorded round is not trained again


MEMORIZE = ["data=text", "search=memorize", "text.source=random", "runs=1", "model=rnn", "model.hidden=4",
            "text.length=2", "text.heldout=32", "search.min_count=4", "search.max_count=256", "search.lrs=[0.03]",
            "search.resolution=0.125", "search.check_every=20"]


def test_settling_a_count_search_trains_capped_counts_above_the_answer_longer_and_moves_it_up(make_cfg, tmp_path,
                                                                                               monkeypatch):
    """search=memorize with search.settle_factor: the smallest count above the answer whose network hit the cap is
    trained again for factor x the steps (the same seeds and strings); a pass moves the answer up and the counts
    above it are searched the same way. A settled network is the one a job with that longer cap trains, so 300
    steps settled twice as long answer what 600 steps answer, point for point where they meet."""
    short = run_job(make_cfg(*MEMORIZE, "search.max_steps=300"), tmp_path / "short", tmp_path / "short")
    longer = run_job(make_cfg(*MEMORIZE, "search.max_steps=600"), tmp_path / "long", tmp_path / "long")
    cfg = make_cfg(*MEMORIZE, "search.max_steps=300", "search.settle_factor=2")
    settled = run_job(cfg, tmp_path / "settled", tmp_path / "settled")
    m = settled["metrics"]
    assert m["max_count"] > short["metrics"]["max_count"] and m["max_count"] == longer["metrics"]["max_count"]
    again = {p["count"]: p for p in settled["points"] if p.get("phase") == "settle"}
    plain = {p["count"]: p for p in longer["points"]}
    fit = ("steps", "stop", "train_char", "train_loss_bits", "heldout_char")
    assert again and all({k: p[k] for k in fit} == {k: plain[count][k] for k in fit}
                         for count, p in again.items() if count in plain)
    assert m["decisive"] in again and settled["config"]["settle_factor"] == 2

    trained = []
    monkeypatch.setattr(state, "run_fit", lambda *args: trained.append(args) or 0.0)
    assert run_job(cfg, tmp_path / "settled", tmp_path / "settled")["metrics"] == m  # finished: nothing trained
    assert trained == []


def test_memorize_counts_bits_over_all_parameters_and_frozen_trains_only_the_decoder(make_cfg, tmp_path):
    base = ["data=text", "search=memorize", "text.source=random", "runs=1", "model=rnn", "model.hidden=4",
            "text.length=4", "text.heldout=64", "search.min_count=4", "search.max_count=64", "search.max_steps=800", "search.lrs=[0.03]",
            "search.resolution=0.5"]
    trained = run_job(make_cfg(*base), tmp_path / "t", tmp_path)["metrics"]
    frozen = run_job(make_cfg(*base, "search.freeze_encoder=true"), tmp_path / "f", tmp_path)["metrics"]
    assert trained["max_count"] >= 4 and trained["measure"] == "memorization"
    assert trained["bits"] == pytest.approx(trained["max_count"] * 4 * math.log2(95))
    assert trained["bits_per_param"] == pytest.approx(trained["bits"] / trained["params"])
    assert frozen["frozen"] and frozen["trainable_params"] == frozen["params"] - frozen["encoder_params"]
    assert trained["trainable_params"] == trained["params"]


# -- bad input, one line naming the key -------------------------------------------------------------------------
@pytest.mark.parametrize("overrides,key", [
    (["text.length=0"], "text.length"),
    (["text.length=1"], "text.heldout"),  # 320 fixed strings of 95 possible: they would overlap the stream
    (["text.alphabet=latin"], "text.alphabet"),
    (["search.min_hidden=0"], "search.min_hidden"),
    (["search.min_hidden=8", "search.max_hidden=4"], "search.max_hidden"),
    (["search.target=0"], "search.target"),
    (["search.target=1.5"], "search.target"),
    (["text.source=stdlib"], "text.source"),
    (["search.lrs=[]"], "search.lrs"),
    (["search.vary=depth"], "search.vary"),
    (["search.vary=length", "model.hidden=0"], "model.hidden"),
    (["model=transformer", "model.heads=3", "search.min_hidden=2", "search.max_hidden=2"], "search.max_hidden"),
])
def test_bad_state_input_is_refused_naming_the_key(make_cfg, overrides, key):
    with pytest.raises(ConfigError) as error:
        validate(make_cfg(*STATE, "text.length=4", *overrides))
    assert error.value.key == key and "\n" not in str(error.value)


def test_bad_memorize_input_is_refused(make_cfg):
    base = ["data=text", "search=memorize", "text.source=random", "text.length=2"]
    with pytest.raises(ConfigError, match="search.max_count"):
        validate(make_cfg(*base, "search.max_count=4096"))  # 4096 + 1024 of 9025 strings
    with pytest.raises(ConfigError, match="search.target"):
        validate(make_cfg(*base, "search.target=-1", "search.max_count=64", "text.heldout=64"))
    with pytest.raises(ConfigError, match="search.settle_factor"):
        validate(make_cfg(*base, "search.settle_factor=-1", "search.max_count=64", "text.heldout=64"))


def test_the_table_shows_the_width_below_the_answer_with_its_best_score():
    """From metrics.decisive where a result has it, else by the same rule from the points (older results)."""
    width_below = reading.width_below
    points = [{"hidden": w, "run": r, "heldout_char": s} for w, r, s in
              [(4, 0, 0.5), (8, 0, 0.97), (8, 1, 0.988), (11, 0, 0.992), (16, 0, 0.999)]]
    old = {"metrics": {"capped": False, "min_hidden": 11}, "points": points}
    assert width_below(old) == (8, 0.988)
    assert width_below({**old, "metrics": {**old["metrics"], "decisive": 8, "decisive_score": 0.988}}) == (8, 0.988)
    assert width_below({**old, "metrics": {"capped": False, "min_hidden": 4}}) is None  # nothing below the first
    assert width_below({**old, "metrics": {"capped": True, "min_hidden": None}}) is None


def test_figures_and_tables_come_from_result_files(make_cfg, tmp_path):
    run_job(make_cfg(*STATE, "model=rnn", "text.length=3", "search.min_hidden=2", "search.max_hidden=3",
                     "search.max_steps=100", "search.lrs=[0.01]"), tmp_path / "r" / "state" / "rnn-L3", tmp_path / "r")
    run_job(make_cfg("data=text", "search=memorize", "text.source=random", "runs=1", "model=rnn", "model.hidden=4",
                     "text.length=4", "text.heldout=64", "search.min_count=4", "search.max_count=16",
                     "search.max_steps=100", "search.lrs=[0.03]"), tmp_path / "r" / "memorize" / "rnn-L4", tmp_path / "r")
    assert pages.write(tmp_path / "r", tmp_path / "docs", tmp_path / "none.md")
    md = (tmp_path / "docs" / "text_study.md").read_text()
    assert "| rnn | 3 |" in md and "| rnn | 4 | trained |" in md and "(a float32 holds 32)" in md
    assert (tmp_path / "docs" / "state_accuracy.png").exists() and (tmp_path / "docs" / "state_where.png").exists()


def test_the_fewest_state_numbers_are_named_only_where_the_seeds_separate_them():
    def converged(*answers):
        return [(a, a) for a in answers]

    fewest = reading.fewest
    assert fewest({"rnn": converged(12, 13, 12), "lstm": converged(8, 10, 8), "gru": converged(11, 14, 12)}) == "**lstm**"
    assert fewest({"rnn": converged(12, 13, 12), "lstm": converged(8, 12, 8),
                   "gru": converged(11, 14, 12)}) == "not separated: rnn, lstm, gru"
    assert fewest({"rnn": converged(9, 10), "lstm": converged(10, 12), "dense": converged(11, 11)}) == \
        "not separated: rnn, lstm"
    assert fewest({"rnn": converged(12), "transformer": [(129, 129)]}) == "**rnn**"  # capped above its ceiling
    # an unconverged answer is an upper bound: its floor below the winner's answer keeps them apart
    assert fewest({"rnn": [(5, 12)], "transformer": converged(7)}) == "not separated: rnn, transformer"
    assert fewest({"rnn": [(8, 12)], "transformer": converged(7)}) == "**transformer**"


def test_an_unconverged_answers_floor_is_above_the_widest_converged_failure():
    width_floor = reading.width_floor
    points = [{"hidden": w, "run": run, "stop": stop} for w, run, stop in
              [(2, 0, "plateau"), (4, 0, "plateau"), (8, 0, "cap"), (6, 0, "plateau"), (6, 1, "target"),
               (7, 0, "cap"), (7, 1, "plateau")]]
    result = {"config": {"min_hidden": 2}, "points": points,
              "metrics": {"capped": False, "min_hidden": 8, "hidden": 8, "decisive": 7}}
    assert width_floor(result) == 7  # 6 fell short with no network at the cap; 7 had one capped
    settled = [*points, {"hidden": 7, "run": 0, "stop": "plateau", "phase": "settle"}]
    assert width_floor({**result, "points": settled}) == 8  # 7's capped network, trained longer, fell short too
    assert width_floor({**result, "points": [p for p in points if p["hidden"] >= 7]}) == 2  # no converged failure


def test_the_answer_table_waits_for_three_seeds_of_every_encoder():
    def job(model, seed, state, capped=False):
        capped_failure = (model, seed) == ("hybrid", 2)
        return {"config": {"model": model, "length": 4, "seed": seed, "min_hidden": 2, "max_steps": 6000,
                           "settle_factor": 4, "target": 0.99}, "wall_time": 60.0,
                "points": [{"hidden": state - 2, "run": 0, "stop": "plateau", "heldout_char": 0.9, "steps": 3000},
                           {"hidden": state - 1, "run": 0, "stop": "cap" if capped_failure else "plateau",
                            "heldout_char": 0.95, "steps": 6000},
                           *([{"hidden": state - 1, "run": 0, "stop": "cap", "heldout_char": 0.985, "steps": 24000,
                               "phase": "settle"}] if capped_failure else []),
                           {"hidden": state, "run": 0, "stop": "target", "heldout_char": 0.99, "steps": 5000}],
                "metrics": {"state_size": state, "hidden": state, "min_hidden": None if capped else state,
                            "capped": capped, "decisive": state - 1}}

    jobs = [job(model, seed, 10 + i) for i, model in enumerate(collect.MODELS) for seed in range(3)]
    table = answers.answers_table(jobs)
    assert "| 4 | 10 (10, 10, 10; 3/3) |" in table and "| 15† [≥ 14] (15, 15, 15; 3/3) |" in table
    assert next(line for line in table.splitlines() if line.startswith("| 4 |")).endswith("| **rnn** |")
    assert "pending" in answers.answers_table(jobs[:-1])  # the hybrid's third seed missing: no verdict yet
    assert "at most 6000 steps per network and 4x that for a deciding failure at that cap" in table
    # the † comes with its budget curve: the deciding width's best network at the cap, then settled
    assert "- L = 4, hybrid, seed 2: width 14: 0.950 (6000 steps) → 0.985 (24000 steps)" in table
    assert table.count("\n- L = ") == 1


def test_each_encoder_gets_one_where_figure_over_its_seeds(tmp_path):
    def job(seed, length):
        points = [{"hidden": 4, "heldout_char": 0.5, "position_char": [0.4] * length},
                  {"hidden": 6, "heldout_char": 0.995, "position_char": [0.99] * length}]
        return {"config": {"model": "gru", "length": length, "seed": seed, "target": 0.99}, "points": points,
                "metrics": {"hidden": 6, "state_size": 6, "position_char": [0.99] * length,
                            "ablation": [0.1, 0.3, 0.2, 0.0, 0.05, 0.01], "participation_ratio": 4.2}}

    results = [job(seed, length) for seed in range(3) for length in (2, 4)]
    assert plots.fig_where_encoder(results, "gru", tmp_path) == tmp_path / "where_gru.png"
    assert (tmp_path / "where_gru.png").stat().st_size > 0
    assert plots.fig_where_encoder(results, "lstm", tmp_path) is None  # no result: no figure


def test_bits_per_state_number_put_fano_beside_the_code_length_of_the_answering_network():
    log2a = math.log2(95)

    def job(seed, loss_bits):
        points = [{"hidden": 4, "run": 0, "stop": "plateau", "heldout_char": 0.5, "heldout_loss_bits": 3.0,
                   "fano_bits_per_state": 0.5},
                  {"hidden": 5, "run": 0, "stop": "target", "heldout_char": 0.99, "heldout_loss_bits": 9.0,
                   "fano_bits_per_state": 1.0},
                  {"hidden": 5, "run": 1, "stop": "target", "heldout_char": 0.995, "heldout_loss_bits": loss_bits,
                   "fano_bits_per_state": 1.5}]
        return {"config": {"model": "gru", "length": 2, "seed": seed, "alphabet_size": 95}, "points": points,
                "metrics": {"capped": False, "hidden": 5, "state_size": 5, "max_fano_bits_per_state": 2.0 + seed}}

    # the answering network is the best at the answer's width (run 1); its cross-entropy saves log2|A| - CE per char
    assert codelength_bits(job(0, 0.0)["points"][2]["heldout_loss_bits"], 2, 95) == pytest.approx(2 * log2a)
    assert codelength_bits(job(0, 9.0)["points"][2]["heldout_loss_bits"], 2, 95) == 0.0  # worse than uniform: nothing
    table = answers.bits_table([job(0, log2a - 2.5), job(1, log2a - 5.0)])
    assert "| 2 | gru | 2 | 5 | 1.50 | 1.00–2.00 | 2.00–3.00 |" in table


def test_memorization_over_seeds_is_tabulated_apart_with_its_unconverged_counts_marked(make_cfg, tmp_path):
    """results/text/memorize-settled/ goes to the answers block over seeds, not to the one-seed study's tables; a
    seed whose smallest failing count above the answer still stopped at the cap is marked †."""
    for seed in (0, 1):
        run_job(make_cfg(*MEMORIZE, "search.max_steps=300", "search.settle_factor=2", f"seed={seed}"),
                tmp_path / "r" / "memorize-settled" / f"rnn-L2{f'-s{seed}' if seed else ''}", tmp_path / "r")
    assert pages.write(tmp_path / "r", tmp_path / "docs", tmp_path / "none.md")
    block = (tmp_path / "docs" / "text_answers.md").read_text()
    assert "## Memorization over seeds" in block and "| 2 | rnn | 2 |" in block
    assert "| rnn | 2 |" not in (tmp_path / "docs" / "text_study.md").read_text()
    assert (tmp_path / "docs" / "memorize_settled.png").stat().st_size > 0  # its figure over seeds, with the anchors

    def job(seed, count, stop):
        return {"config": {"model": "gru", "length": 4, "seed": seed, "max_steps": 2000, "settle_factor": 4,
                           "target": 0.99},
                "points": [{"count": count, "run": 0, "stop": "target", "train_char": 0.99, "steps": 1500},
                           {"count": count + 8, "run": 0, "stop": stop, "train_char": 0.97, "steps": 2000}],
                "metrics": {"max_count": count, "capped": False, "decisive": count + 8, "bits": count * 26.3,
                            "bits_per_param": count / 100, "params": 2000, "encoder_params": 500,
                            "heldout_char": 0.02 * seed, "memorized_bits": count * 20.0}}

    table = answers.memorize_answer([job(0, 64, "plateau"), job(1, 80, "cap"), job(2, 72, "plateau")])
    assert "| 4 | gru | 3 | 64–80† | 0.00–0.04 | 0.640–0.800 | 0.640–0.800 | 2.56–3.20 | 0.75 |" in table
    assert "- L = 4, gru, seed 1: count 88: 0.970 (2000 steps)" in table and table.count("\n- L = ") == 1


def test_a_job_settled_longer_replaces_the_same_seed_and_its_mark_goes_if_it_converged():
    """results/text/memorize-settled-long/ holds the same search settled longer: its job stands in for the same
    encoder, L and seed of memorize-settled (the others stay), and the table says which cells it replaced."""
    def job(model, seed, factor, count, stop):
        return {"config": {"model": model, "length": 8, "seed": seed, "max_steps": 2000, "settle_factor": factor,
                           "target": 0.99},
                "points": [{"count": count, "run": 0, "stop": "target", "train_char": 0.99, "steps": 1500},
                           {"count": count + 8, "run": 0, "stop": "cap", "train_char": 0.97, "steps": 2000},
                           {"count": count + 8, "run": 0, "stop": stop, "train_char": 0.98, "steps": 2000 * factor,
                            "phase": "settle"}],
                "metrics": {"max_count": count, "capped": False, "decisive": count + 8, "bits": count * 52.6,
                            "bits_per_param": count / 100, "params": 2000, "encoder_params": 500,
                            "heldout_char": 0.01, "memorized_bits": count * 40.0}}

    short = [job("dense", seed, 4, 64, "cap") for seed in range(3)] + [job("rnn", 0, 4, 40, "plateau")]
    longer = [job("dense", 1, 16, 72, "plateau")]
    chosen = collect.longest_settled(short + longer)
    assert sorted((r["config"]["model"], r["config"]["seed"], r["config"]["settle_factor"]) for r in chosen) == \
        [("dense", 0, 4), ("dense", 1, 16), ("dense", 2, 4), ("rnn", 0, 4)]
    assert {id(r) for r in collect.longest_settled(longer + short)} == {id(r) for r in chosen}  # any order
    table = answers.memorize_answer(chosen)
    assert "| 8 | dense | 3 | 64–72† |" in table  # seeds 0 and 2 still at the cap
    assert "The jobs of dense at L = 8 (seed 1) are those of results/text/memorize-settled-long/" in table
    assert "settled 4x longer" in table and "4x that or 16x that" in table
    converged = answers.memorize_answer(collect.longest_settled(
        short + [job("dense", seed, 16, 72, "plateau") for seed in range(3)]))
    assert "| 8 | dense | 3 | 72 |" in converged  # every seed settled to its plateau: no mark
    assert "The jobs of dense at L = 8 (seeds 0, 1, 2) are" in converged


def test_the_answers_table_names_the_most_memorizing_encoder_only_when_every_seed_separates_it():
    """The one-table summary at the top of docs/text.md: an encoder named only once every encoder has its seeds
    and its lowest seed lies above every other's highest; a count bound († or +) has no upper end."""
    assert answers.most_encoders({"rnn": (2.0, 2.1), "gru": (1.0, 1.5)}) == ["rnn"]
    assert answers.most_encoders({"rnn": (2.0, 2.1), "gru": (1.0, math.inf)}) == ["rnn", "gru"]  # gru a bound

    def job(model, seed, bits, stop="plateau"):
        return {"config": {"model": model, "length": 4, "seed": seed, "target": 0.99},
                "points": [{"count": 64, "run": 0, "stop": "target", "train_char": 0.99, "steps": 900},
                           {"count": 72, "run": 0, "stop": stop, "train_char": 0.95, "steps": 2000}],
                "metrics": {"capped": False, "decisive": 72, "memorized_bits": bits * 1000, "params": 1000}}

    jobs = [job(model, seed, 1.0 + i + 0.01 * seed) for i, model in enumerate(collect.MODELS) for seed in range(3)]
    table = answers.questions([], jobs)
    assert "L = 4: **hybrid** (6.00–6.02) |" in table  # the hybrid's seeds lie above every other encoder's
    capped = [job("dense", seed, 5.0, "cap") if (j["config"]["model"], seed) == ("dense", 0) else j
              for seed, j in zip([j["config"]["seed"] for j in jobs], jobs)]
    assert "not separated: dense (5.00–5.02†), hybrid (6.00–6.02)" in answers.questions([], capped)
    assert "L = 4: pending (17 of 18 jobs)" in answers.questions([], jobs[:-1])
    assert "no result under results/text/topology-widths/ yet" in table
