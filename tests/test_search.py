"""The capacity search finds planted answers, batched or one at a time."""

import pytest

from memcap.search import Bracket, capacity_search, converged


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


def test_a_failed_guess_whose_best_run_settled_on_most_of_it_jumps_down_to_that_count():
    """A prior's DS=1330 fails with a best run that settled (stopped on a plateau) at 1265 (95%): the next
    candidate is 1260, not the ladder's 1320, 1300, 1260; the answer is the one the plain search finds.
    Had that run been cut off by the step cap (still rising; the report's N=400, where perfect recall
    turned out to lie at 1300 or above), the count says nothing and the ladder goes on."""
    calls = []
    guided = capacity_search(planted(1262, 1400, calls), step=100, resolution=10, threshold=0.9, batch=1,
                             max_ds=16000, guess=(1330, 1330))
    plain = capacity_search(planted(1262, 1400), step=100, resolution=10, threshold=0.9, batch=1, max_ds=16000)
    assert (guided.perfect_ds, guided.capacity_ds) == (plain.perfect_ds, plain.capacity_ds) == (1260, 1360)
    assert calls[:2] == [[1330], [1260]]
    capped = []
    at_cap = capacity_search(planted(1262, 1400, capped), step=100, resolution=10, threshold=0.9, batch=1,
                             max_ds=16000, guess=(1330, 1330), settled=lambda ds: False)
    assert (at_cap.perfect_ds, at_cap.capacity_ds) == (1260, 1360)
    assert capped[:3] == [[1330], [1320], [1300]]


def test_a_collapsed_count_gives_no_hint():
    """Far above capacity a run stores almost nothing (80% here, under the 90% threshold): its count says
    nothing about where perfect recall lies, and the search gallops down its ladder as before."""
    calls = []
    capacity_search(planted(500, 600, calls), step=100, resolution=10, threshold=0.9, batch=1, max_ds=5000,
                    guess=(700, 700))
    assert calls[:3] == [[700], [690], [670]]


def test_a_guess_above_the_ceiling_still_finds_the_capped_answer():
    outcome = capacity_search(planted(10**6, 10**6), step=100, resolution=10, threshold=0.9, batch=1, max_ds=800,
                              guess=(5000, 9000))
    assert outcome.capped and outcome.perfect_ds == 800 and outcome.capacity_ds == 800


def test_a_guess_when_nothing_is_memorized():
    outcome = capacity_search(lambda ds: {d: [0] for d in ds}, step=100, resolution=10, threshold=0.9, batch=1,
                              max_ds=500, guess=(200, 400))
    assert outcome.perfect_ds is None and outcome.capacity_ds is None
