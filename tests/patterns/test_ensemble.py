"""The ensemble engine: a member trains exactly as it would alone."""

import pytest
import torch

from memcap.fitting import Fit, make_trainer
from memcap.patterns.config import ensemble_bytes
from memcap.patterns.engine import build_module, train_members
from memcap.patterns.layout import ALIGN, aligned_rows
from tests.helpers import fit_and_resume


def _fit(cfg, members, steps):
    """Train (DS, run) members together for exactly ``steps`` steps (no early stop); return their weights."""
    module = build_module(cfg.copy(), members, max_steps=steps)
    module.check_every = module.patience = 10_000
    make_trainer(cfg.trainer, Fit(), steps).fit(module)
    return [p.detach().clone() for p in module.model.parameters()]


@pytest.mark.parametrize("overrides", [
    ["loss=bce"], ["loss=bce_ignore"], ["loss=hinge"], ["loss=log_hinge"], ["model=recurrent", "loss=bce_ignore", "N=50"],
    ["loss=bce", "trainer.batch_size=16"],
])
def test_member_follows_its_solo_trajectory(make_cfg, overrides):
    cfg = make_cfg("N=30", "lr=0.05", *overrides)
    crowd = _fit(cfg, [(40, 0), (90, 1), (60, 2)], steps=200)
    alone = _fit(cfg, [(90, 1)], steps=200)
    for c, a in zip(crowd, alone):
        assert torch.equal(c[1], a[0]), (c[1] - a[0]).abs().max()


@pytest.mark.parametrize("overrides", [["loss=bce"], ["model=recurrent", "loss=bce", "steps=2"]])
def test_on_one_thread_a_member_trains_bit_for_bit_as_alone(make_cfg, overrides):
    """N=30, DS=90: unpadded, a bit differed at the recurrent network's 2nd step and the simple one's 37th.

    PyTorch's CPU elementwise kernels compute a tensor's last elements (the remainder after the vector
    width) on a scalar path whose exp and log differ from the vector path's in the last bit, and whether a
    member's last elements landed there depended on its companions; each member's rows are now padded to
    an aligned count (memcap.patterns.layout.aligned_rows), so none does (scripts/companions.py).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cfg = make_cfg("N=30", "lr=0.05", *overrides)
        crowd = _fit(cfg, [(90, 0), (90, 1), (90, 2)], steps=300)
        alone = _fit(cfg, [(90, 1)], steps=300)
    finally:
        torch.set_num_threads(threads)
    for c, a in zip(crowd, alone):
        assert torch.equal(c[1], a[0]), (c[1] - a[0]).abs().max()


@pytest.mark.parametrize("DS,N,rows", [(90, 30, 96), (96, 32, 96), (97, 32, 98), (2790, 200, 2792), (1, 64, 1), (5, 10, 32)])
def test_rows_are_padded_to_the_alignment(DS, N, rows):
    assert aligned_rows(DS, N) == rows and rows * N % ALIGN == 0


def test_the_memory_estimate_counts_the_padded_rows(make_cfg):
    """The refusal before work (trainer.max_memory_gb) sizes what build_module allocates: DS=65 at N=10
    trains on 96 rows, the same as DS=96 does."""
    padded, aligned = (ensemble_bytes(make_cfg("N=10", f"DS={DS}", "runs=3")) for DS in (65, 96))
    assert padded == aligned > ensemble_bytes(make_cfg("N=10", "DS=64", "runs=3"))


def test_a_checkpoint_written_with_the_data_in_it_still_loads(make_cfg):
    """Checkpoints written before the padding held X, Y and weight (unpadded): they are dropped on loading."""
    cfg = make_cfg("N=30", "lr=0.05")
    module = build_module(cfg.copy(), [(90, 0), (90, 1)], max_steps=10)
    state = module.state_dict()
    assert not {"X", "Y", "weight"} & set(state)  # rebuilt from the seeds, not saved
    old = {**state, "X": torch.zeros(2, 90, 30), "Y": torch.zeros(2, 90, 30), "weight": torch.ones(2, 90)}
    checkpoint = {"state_dict": old, "best_state": module.best_state, "batch_generators": []}
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint["state_dict"], strict=True)
    assert module.X.shape == (2, 96, 30) and int(module.weight.sum()) == 180


def test_results_do_not_depend_on_companions(make_cfg):
    cfg = make_cfg("N=20", "trainer.max_steps=300", "trainer.check_every=25", "lr=0.1")
    together = {(p.DS, p.run): (p.memorized, p.steps) for p in train_members(cfg, [(30, 0), (60, 0), (60, 1)])}
    alone = {(p.DS, p.run): (p.memorized, p.steps) for p in train_members(cfg, [(60, 1)])}
    assert together[(60, 1)] == alone[(60, 1)]


def test_finished_members_stop_changing(make_cfg):
    cfg = make_cfg("N=20", "trainer.max_steps=400", "trainer.check_every=10", "lr=0.1")
    points = train_members(cfg, [(5, 0), (120, 0)])
    easy, hard = sorted(points, key=lambda p: p.DS)
    assert easy.stop == "memorized" and easy.memorized == 5 and easy.steps < 400
    assert hard.steps > easy.steps


def test_chunking_gives_the_same_points(make_cfg):
    members = [(30, 0), (30, 1), (50, 0), (50, 1)]
    cfg = make_cfg("N=20", "trainer.max_steps=200", "lr=0.1")
    small = make_cfg("N=20", "trainer.max_steps=200", "lr=0.1", "trainer.max_members=1")
    key = lambda p: (p.DS, p.run, p.memorized, p.steps, p.stop)
    assert sorted(map(key, train_members(cfg, members))) == sorted(map(key, train_members(small, members)))


def test_patience_counts_memorized_patterns_not_loss(make_cfg):
    """A member far above capacity whose loss still falls stops once its count stalls."""
    cfg = make_cfg("N=40", "loss=bce", "trainer.max_steps=3000", "trainer.check_every=10", "trainer.patience=5")
    module = build_module(cfg, [(600, 0)])  # 15 N: about 4x the one-layer capacity
    first_loss = []
    check = module._check
    module._check = lambda logits, losses: (first_loss or first_loss.append(float(losses[0])), check(logits, losses))
    make_trainer(cfg.trainer, Fit(), 3000).fit(module)
    assert module.stop[0].item() == 2  # plateau
    assert module.steps_trained[0].item() < 3000
    assert float(module.last_loss[0]) < first_loss[0]  # its loss was still falling


def test_a_plateau_lasts_patience_fraction_of_the_checks_so_far(make_cfg):
    """With trainer.patience_fraction the plateau window grows with training: max(patience, fraction x checks)."""
    common = ("N=40", "loss=bce", "trainer.max_steps=3000", "trainer.check_every=10", "trainer.patience=5")

    def trace(fraction: float):
        cfg = make_cfg(*common, f"trainer.patience_fraction={fraction}")
        module = build_module(cfg, [(600, 0)])  # far above capacity: before a first pattern its loss stalls
        seen, check = [], module._check
        module._check = lambda logits, losses: (check(logits, losses), seen.append(
            (module.global_step, int(module.stale[0]), bool(module.active[0]))))
        make_trainer(cfg.trainer, Fit(), 3000).fit(module)
        assert module.stop[0].item() == 2  # plateau, before the cap
        return seen

    traces = {fraction: trace(fraction) for fraction in (0.0, 0.5)}
    for fraction, seen in traces.items():
        window = lambda step, fraction=fraction: max(5, fraction * step / 10)
        stopped = next(i for i, (_, _, active) in enumerate(seen) if not active)
        assert seen[stopped][1] >= window(seen[stopped][0])  # it stopped on a plateau of the window's length...
        assert all(stale < window(step) for step, stale, _ in seen[:stopped])  # ...and on no shorter one
    assert traces[0.5][-1][0] > traces[0.0][-1][0]  # the growing window trains it longer


def test_a_slow_starter_is_not_stopped_before_its_first_pattern(make_cfg):
    """At a small lr the count stays 0 for many checks while the loss falls: not a plateau."""
    cfg = make_cfg("N=40", "DS=60", "loss=bce", "lr=0.003", "trainer.max_steps=1500", "trainer.check_every=10",
                   "trainer.patience=5")
    module = build_module(cfg, [(60, 0)])
    counts = []
    check = module._check
    module._check = lambda logits, losses: (check(logits, losses), counts.append(int(module.best_count[0])))
    make_trainer(cfg.trainer, Fit(), 1500).fit(module)
    first = next(i for i, c in enumerate(counts) if c > 0)
    assert first > cfg.trainer.patience  # the count stayed 0 for longer than the patience...
    assert module.best_count[0].item() > 0  # ...and the member trained on until it memorized


def test_without_the_loss_plateau_before_a_first_pattern_only_fail_fast_steps_stops_it(make_cfg):
    """The recurrent network's loss is flat until it takes off: with trainer.plateau_before_first_pattern=false
    a member with nothing memorized and a flat loss trains on to search.fail_fast_steps (stop "nothing")."""
    common = ("N=30", "loss=bce", "lr=1e-6", "trainer.max_steps=400", "trainer.check_every=10", "trainer.patience=5",
              "search.fail_fast_steps=300")
    stops = {flag: train_members(make_cfg(*common, f"trainer.plateau_before_first_pattern={flag}"), [(300, 0)])[0]
             for flag in ("true", "false")}
    assert (stops["true"].stop, stops["true"].memorized) == ("plateau", 0) and stops["true"].steps < 300
    assert (stops["false"].stop, stops["false"].memorized, stops["false"].steps) == ("nothing", 0, 300)


def test_the_recurrent_network_waits_for_its_first_pattern(make_cfg):
    """Its model config turns the loss plateau off before a first pattern and gives it 5000 steps to find one."""
    recurrent, simple = make_cfg("model=recurrent"), make_cfg("model=simple")
    assert (recurrent.trainer.plateau_before_first_pattern, recurrent.search.fail_fast_steps) == (False, 5000)
    assert (simple.trainer.plateau_before_first_pattern, simple.search.fail_fast_steps) == (True, 2000)


def test_a_member_with_nothing_memorized_by_fail_fast_steps_stops(make_cfg):
    """Far above capacity a falling loss keeps a member going; with no pattern by search.fail_fast_steps it stops."""
    common = ("N=30", "s=0.2", "loss=bce", "lr=0.1", "trainer.max_steps=300", "trainer.check_every=10", "trainer.patience=1000")
    members = [(600, 0), (10, 0)]  # 20 N: nothing is memorized; 10 patterns: all of them, quickly
    far, easy = sorted(train_members(make_cfg(*common, "search.fail_fast_steps=100"), members), key=lambda p: -p.DS)
    assert (far.stop, far.memorized, far.steps) == ("nothing", 0, 100)
    assert easy.stop == "memorized"
    patient = train_members(make_cfg(*common, "search.fail_fast_steps=null"), members[:1])[0]
    assert (patient.stop, patient.memorized, patient.steps) == ("cap", 0, 300)


def test_a_member_that_cannot_pass_the_threshold_by_the_cap_stops_short(make_cfg):
    """In a capacity search a member whose count, rising at its average rate so far, would not exceed
    threshold x DS by the step cap stops "short" at fail_fast_steps; an easy one still memorizes all."""
    cfg = make_cfg("N=30", "loss=bce", "lr=0.1", "trainer.max_steps=1000", "trainer.check_every=10",
                   "trainer.patience=1000", "search.fail_fast_steps=100")
    far, easy = sorted(train_members(cfg, [(120, 0), (10, 0)], must_exceed=0.9), key=lambda p: -p.DS)
    assert (far.stop, far.steps) == ("short", 100) and 0 < far.memorized
    assert far.memorized * cfg.trainer.max_steps / far.steps <= 0.9 * far.DS  # the rule's own test, held
    assert easy.stop == "memorized"
    patient = train_members(cfg, [(120, 0)])[0]  # no threshold (a fixed DS): trained on
    assert patient.steps > far.steps and patient.memorized >= far.memorized


def test_without_fail_fast_steps_a_member_is_not_stopped_short_before_its_first_pattern(make_cfg):
    """search.fail_fast_steps=null: "short" judges a member from its first pattern on, never one with nothing yet."""
    cfg = make_cfg("N=30", "loss=bce", "lr=0.1", "trainer.max_steps=600", "trainer.check_every=10",
                   "trainer.patience=1000", "search.fail_fast_steps=null")
    far, easy = sorted(train_members(cfg, [(120, 0), (10, 0)], must_exceed=0.9), key=lambda p: -p.DS)
    assert far.memorized > 0 and far.steps > 10
    assert easy.stop == "memorized"


@pytest.mark.parametrize("overrides", [
    ["loss=bce", "trainer.patience=3"], ["loss=bce", "trainer.patience=100"],
    ["model=recurrent", "trainer.patience=3", "search.fail_fast_steps=100"],
    ["loss=bce", "trainer.patience=3", "trainer.batch_size=8"],
])
def test_the_engine_s_shortcuts_change_no_point(make_cfg, overrides):
    """One optimizer step per Lightning call with every member computed to the end (the engine without its
    shortcuts), against all steps from one check to the next in one call with stopped members leaving the
    computation (the default), and 7 steps a call (calls that straddle the checks): the same points, losses
    and step counts, and the same weights; members stop for different reasons (memorized, plateau, the cap)
    at different steps."""
    members = [(5, 0), (40, 0), (40, 1), (150, 0)]
    base = ["N=20", "lr=0.1", "trainer.max_steps=430", "trainer.check_every=10", *overrides]
    runs = {}
    for per_call, compact in (("1", "false"), ("null", "true"), ("7", "true")):
        cfg = make_cfg(*base, f"trainer.steps_per_call={per_call}", f"trainer.compact={compact}")
        points = train_members(cfg, members)
        module = build_module(cfg.copy(), members)
        make_trainer(cfg.trainer, Fit(), cfg.trainer.max_steps).fit(module)
        runs[per_call] = ([p.model_dump(exclude={"seconds"}) for p in points],
                          [p.detach().clone() for p in module.model.parameters()])
    (points, weights), *others = runs.values()
    assert len({p["stop"] for p in points}) >= 2, points  # members stop for different reasons at different steps
    for other_points, other_weights in others:
        assert other_points == points
        assert all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(weights, other_weights))


def test_stopped_members_leave_the_computation_and_a_resumed_fit_continues_without_them(make_cfg, tmp_path):
    """The easy member stops at its first check and leaves the stacked tensors (2 of 3 stay); a checkpoint
    saved after that resumes into a fit that ends with the same points and weights as the uninterrupted one."""
    cfg = make_cfg("N=20", "lr=0.1", "trainer.max_steps=200", "trainer.check_every=10", "trainer.patience=100")
    seen = []
    whole, resumed = fit_and_resume(cfg, [(5, 0), (40, 0), (40, 1)], 60, tmp_path / "mid.ckpt",
                                    lambda module: seen.append((module.live.tolist(), len(module.model.W), len(module.X))))
    assert seen == [([1, 2], 2, 2)]
    for name in ("best_count", "steps_trained", "stop", "last_loss", "live"):
        assert torch.equal(getattr(whole, name), getattr(resumed, name)), name
    assert whole.model.W.shape[0] == 3  # after the fit every member is back, at its best check
    assert all(torch.equal(a, b) for a, b in zip(whole.model.parameters(), resumed.model.parameters()))
