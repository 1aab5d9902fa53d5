"""The capacity search finds planted answers, batched or one at a time."""

import pytest

from memcap.search import Bracket, before_plateau, capacity_search, converged, settled


def planted(perfect: int, capacity: int, calls: list | None = None):
    """Every run memorizes all of DS up to ``perfect``, 95% up to ``capacity``, 80% beyond."""

    def evaluate(ds_values):
        if calls is not None:
            calls.append(list(ds_values))
        return {ds: [ds if ds <= perfect else int(ds * (0.95 if ds <= capacity else 0.8)), 0] for ds in ds_values}

    return evaluate


@pytest.mark.parametrize("perfect,capacity", [(237, 655), (10, 3000), (500, 500), (95, 190), (1000, 1020)])
@pytest.mark.parametrize("batch", [1, 2, 4, 7])
def test_finds_planted_answer(perfect, capacity, batch):
    outcome = capacity_search(planted(perfect, capacity), step=100, resolution=10, threshold=0.9, batch=batch, max_ds=5000)
    assert outcome.perfect_ds == perfect // 10 * 10
    base = outcome.perfect_ds
    assert outcome.capacity_ds == base + (capacity - base) // 100 * 100
    assert not outcome.capped


def test_batched_search_agrees_with_one_at_a_time_and_needs_fewer_rounds():
    one, many = [], []
    a = capacity_search(planted(237, 655, one), step=100, resolution=10, threshold=0.9, batch=1, max_ds=4000)
    b = capacity_search(planted(237, 655, many), step=100, resolution=10, threshold=0.9, batch=4, max_ds=4000)
    assert (a.perfect_ds, a.capacity_ds) == (b.perfect_ds, b.capacity_ds) == (230, 630)
    assert len(many) < len(one)
    assert all(len(c) == 1 for c in one)


def test_no_dataset_size_is_trained_twice():
    calls = []
    capacity_search(planted(237, 655, calls), step=100, resolution=10, threshold=0.9, batch=3, max_ds=4000)
    trained = [ds for call in calls for ds in call]
    assert len(trained) == len(set(trained))


def test_ceiling_is_reported_as_capped():
    outcome = capacity_search(planted(10**6, 10**6), step=100, resolution=10, threshold=0.9, batch=4, max_ds=800)
    assert outcome.capped and outcome.perfect_ds == 800 and outcome.capacity_ds == 800


def test_nothing_memorized():
    outcome = capacity_search(lambda ds: {d: [0] for d in ds}, step=100, resolution=10, threshold=0.9, batch=2, max_ds=500)
    assert outcome.perfect_ds is None and outcome.capacity_ds is None


def test_bracket_gallops_then_bisects():
    bracket = Bracket(limit=1000)
    assert bracket.candidates(1) == [1]
    bracket.update({1: True})
    assert bracket.candidates(3) == [2, 4, 8]
    bracket.update({2: True, 4: True, 8: False})
    assert (bracket.lo, bracket.hi) == (4, 8)
    assert bracket.candidates(1) == [6]
    assert bracket.candidates(3) == [5, 6, 7]


def _points(stops: dict[int, str]) -> list[dict]:
    return [{"DS": ds, "stop": stop} for ds, stop in stops.items()]


def test_converged_counts_only_the_deciding_points():
    """The capacity DS and the smallest DS tried above it (and above perfect_ds) decide; caps further up don't."""
    far_above_capped = _points({100: "memorized", 200: "plateau", 300: "plateau", 400: "plateau", 800: "cap"})
    assert converged(far_above_capped, capacity_ds=300, perfect_ds=100)
    assert not converged(_points({100: "memorized", 300: "cap", 400: "plateau"}), capacity_ds=300, perfect_ds=100)
    assert not converged(_points({100: "memorized", 300: "plateau", 400: "cap"}), capacity_ds=300, perfect_ds=100)
    # the DS tried next above perfect_ds bounds the perfect-recall answer
    assert not converged(_points({100: "memorized", 110: "cap", 300: "plateau", 400: "plateau"}), 300, 100)
    # with no capacity found, the smallest DS tried decides
    assert not converged(_points({10: "cap", 20: "plateau"}), capacity_ds=None)
    assert converged(_points({10: "plateau", 20: "cap"}), capacity_ds=None)


@pytest.mark.parametrize("guess", [(230, 630), (240, 640), (100, 300), (1000, 3000), (10, 20), (5000, 5000), (None, 700)])
@pytest.mark.parametrize("batch", [1, 3])
def test_a_guess_changes_the_rounds_not_the_answer(guess, batch):
    plain = capacity_search(planted(237, 655), step=100, resolution=10, threshold=0.9, batch=batch, max_ds=5000)
    calls = []
    guided = capacity_search(planted(237, 655, calls), step=100, resolution=10, threshold=0.9, batch=batch,
                             max_ds=5000, guess=guess)
    assert (guided.perfect_ds, guided.capacity_ds, guided.capped) == (plain.perfect_ds, plain.capacity_ds, False)
    trained = [ds for call in calls for ds in call]
    assert len(trained) == len(set(trained))


def test_a_good_guess_brackets_each_phase_in_two_rounds():
    calls = []
    capacity_search(planted(237, 655, calls), step=100, resolution=10, threshold=0.9, batch=1, max_ds=5000,
                    guess=(230, 630))
    assert calls == [[230], [240], [630], [730]]
    plain = []
    capacity_search(planted(237, 655, plain), step=100, resolution=10, threshold=0.9, batch=1, max_ds=5000)
    assert len(plain) > 2 * len(calls)


def failing_candidates(perfect: int, capacity: int, guess=(None, None), batch: int = 1) -> int:
    """The DS a search of a planted answer trained where no run passes its phase's test (near the answer such a
    candidate's runs train to the step cap: the costly ones)."""
    phase, failing = [None], [0]
    evaluate = planted(perfect, capacity)

    def counted(ds_values):
        limit = perfect if phase[0] == "perfect recall" else capacity
        failing[0] += sum(ds > limit for ds in ds_values)
        return evaluate(ds_values)

    capacity_search(counted, step=100, resolution=10, threshold=0.9, batch=batch, max_ds=16000, guess=guess,
                    on_phase=lambda name: phase.__setitem__(0, name))
    return failing[0]


def test_a_failed_guess_goes_on_as_without_one():
    """A prior's DS=1330 fails (perfect recall lies at 1260): the search gallops up from the grid's first point
    below it, as without a guess, instead of galloping down from the guess through failures near the answer,
    each trained to the step cap."""
    calls = []
    guided = capacity_search(planted(1262, 1400, calls), step=100, resolution=10, threshold=0.9, batch=1,
                             max_ds=16000, guess=(1330, None))
    plain = []
    capacity_search(planted(1262, 1400, plain), step=100, resolution=10, threshold=0.9, batch=1, max_ds=16000)
    assert (guided.perfect_ds, guided.capacity_ds) == (1260, 1360)
    assert calls[:4] == [[1330], [10], [20], [40]]
    assert calls[1:8] == plain[:7]  # up to the gallop's 1280, which fails below the guess too


@pytest.mark.parametrize("perfect", [3, 37, 90, 240, 777, 1262, 2620])
@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9, 0.97, 1.0, 1.03, 1.08, 1.5, 3.0])
@pytest.mark.parametrize("batch", [1, 3])
def test_a_wrong_guess_costs_at_most_one_failing_candidate(perfect, ratio, batch):
    """A guess adds at most one failing candidate to the search: its own, or its gallop's first failure."""
    plain = failing_candidates(perfect, 2 * perfect, batch=batch)
    assert failing_candidates(perfect, 2 * perfect, guess=(round(perfect * ratio), None), batch=batch) <= plain + 1


def test_a_guess_above_the_ceiling_still_finds_the_capped_answer():
    outcome = capacity_search(planted(10**6, 10**6), step=100, resolution=10, threshold=0.9, batch=1, max_ds=800,
                              guess=(5000, 9000))
    assert outcome.capped and outcome.perfect_ds == 800 and outcome.capacity_ds == 800


def test_a_guess_when_nothing_is_memorized():
    outcome = capacity_search(lambda ds: {d: [0] for d in ds}, step=100, resolution=10, threshold=0.9, batch=1,
                              max_ds=500, guess=(200, 400))
    assert outcome.perfect_ds is None and outcome.capacity_ds is None


def cut_short(perfect: int, capacity: int, late: set[int]):
    """``planted``'s search, except that at the DS in ``late`` every run stopped before its plateau (a fail-fast
    rule cut a late take-off) with 80%; ``settle`` trains them again: the planted counts."""
    truth = planted(perfect, capacity)
    settled_ds = []

    def evaluate(ds_values):
        return {ds: ([int(0.8 * ds)] * 2 if ds in late else truth([ds])[ds]) for ds in ds_values}

    def settle(ds_values):
        settled_ds.extend(ds_values)
        return truth(ds_values)

    return evaluate, settle, settled_ds


def test_settling_the_deciding_failures_recovers_a_late_take_off():
    """The failure just above each phase's answer is settled; one that passes then moves the search on up, to the
    answer the search finds without the cut."""
    evaluate, settle, settled_ds = cut_short(1275, 1600, late={1270, 1280, 1570})
    calls, plain_calls = [], []

    def counted(ds_values):
        calls.append(ds_values)
        return evaluate(ds_values)

    outcome = capacity_search(counted, step=100, resolution=10, threshold=0.9, batch=1, max_ds=16000, settle=settle)
    plain = capacity_search(planted(1275, 1600, plain_calls), step=100, resolution=10, threshold=0.9, batch=1,
                            max_ds=16000)
    assert len(calls) == len(plain_calls)  # after a settled pass the search tries the grid point above it first
    assert (outcome.perfect_ds, outcome.capacity_ds) == (plain.perfect_ds, plain.capacity_ds) == (1270, 1570)
    assert 1270 in settled_ds and 1570 in settled_ds  # a failure that passed; the capacity DS
    cut = capacity_search(evaluate, step=100, resolution=10, threshold=0.9, batch=1, max_ds=16000)
    assert cut.perfect_ds == 1260  # without settling the cut failure decides


def test_settling_asks_for_the_deciding_ds_only():
    evaluate, settle, settled_ds = cut_short(237, 655, late=set())
    outcome = capacity_search(evaluate, step=100, resolution=10, threshold=0.9, batch=1, max_ds=5000, settle=settle)
    assert (outcome.perfect_ds, outcome.capacity_ds) == (230, 630)
    assert sorted(settled_ds) == [240, 630, 730]  # above perfect recall; the capacity DS and the failure above it


def test_a_settled_point_stands_for_its_member():
    """A deciding member trained again to its plateau counts by that training: cut short, then settled on a
    plateau, it neither marks the mean (before_plateau) nor the answer (converged); settled at the settling's
    cap, it does."""
    cut = [{"DS": 300, "run": 0, "stop": "plateau"}, {"DS": 300, "run": 1, "stop": "short"},
           {"DS": 400, "run": 0, "stop": "cap"}, {"DS": 100, "run": 0, "stop": "memorized"}]
    assert before_plateau(cut, 300) and not converged(cut, 300, 100)
    settled_ok = cut + [{"DS": 300, "run": 1, "stop": "plateau", "phase": "settle"},
                        {"DS": 400, "run": 0, "stop": "plateau", "phase": "settle"}]
    assert not before_plateau(settled_ok, 300) and converged(settled_ok, 300, 100)
    assert [p["stop"] for p in settled(settled_ok)] == ["plateau", "plateau", "plateau", "memorized"]
    settled_capped = cut + [{"DS": 300, "run": 1, "stop": "cap", "phase": "settle"}]
    assert before_plateau(settled_capped, 300) and not converged(settled_capped, 300, 100)
