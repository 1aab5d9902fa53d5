"""Capacity search: which dataset sizes to train, and what the answer is.

The report's protocol: find the largest DS that some run memorizes perfectly
(``perfect_ds``), then raise DS in steps of ``step`` from there up to the
largest DS at which some run still memorizes more than ``threshold`` of it
(``capacity_ds``). Instead of a linear scan each phase brackets its answer by
galloping (doubling) and then narrows it by bisection. Each round proposes up to
``batch`` candidates, which the caller trains together as one ensemble; with
``batch=1`` this is the textbook one-at-a-time gallop and bisection, and for any
batch it lands on the same grid point whenever the predicate falls monotonically
with DS.

The search is pure logic: it sees the world only through ``evaluate``, a
function from a list of DS values to each DS's memorized counts (one per run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Evaluate = Callable[[list[int]], dict[int, list[int]]]


@dataclass
class Bracket:
    """The largest grid index j in [1, limit] whose predicate holds.

    ``lo`` is the largest index known to pass (0: none yet), ``hi`` the smallest
    known to fail (None: not found yet, so keep galloping).

    Without a ``guess`` the gallop doubles from 1. With one (a prior: the
    answer scaled from a smaller N of the same sweep) it starts at the guess and
    gallops away from it with a doubling stride, up while candidates pass, down
    while they fail, until the answer is bracketed; then it bisects. A good
    guess brackets the answer in two rounds instead of a dozen; a bad one costs
    a few rounds more than none. Either way the answer is the same grid point
    when the predicate falls monotonically.

    ``hints`` maps a failed index to where its result says the answer lies (the
    perfect-recall phase: the best run's count, when that count is settled, not
    cut off by the step cap, and above the capacity threshold of its DS).
    Galloping down, the next candidate is the lower of the ladder's and the
    hint: a guess of DS=1330 whose best run settled at 1265 tries 1260 next, not
    1320, 1300, 1260 in three rounds. It moves only where the search looks, so
    the answer is the same grid point as without it.
    """

    limit: int
    lo: int = 0
    hi: int | None = None
    guess: int | None = None
    stride: int = 1
    hints: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.guess is not None:
            self.guess = min(max(1, self.guess), self.limit)

    @property
    def done(self) -> bool:
        return self.lo >= self.limit or (self.hi is not None and self.hi <= self.lo + 1)

    def candidates(self, batch: int) -> list[int]:
        if self.guess is not None and self.lo == 0 and self.hi is None:
            return [self.guess]
        if self.guess is not None and (self.hi is None or self.lo == 0):  # gallop away from the guess
            if self.hi is None:
                ladder = [self.lo + self.stride * 2**i for i in range(batch)]
            else:  # down from the failure, or from just above its hint when that is lower
                top = min(self.hi, self.hints.get(self.hi, self.hi) + self.stride)
                ladder = [top - self.stride * 2**i for i in range(batch)]
            return sorted({min(max(j, 1), self.limit) for j in ladder})
        if self.hi is None:
            start = max(self.lo, 1)
            ladder = [start * 2**i for i in range(1 if self.lo else 0, batch + (1 if self.lo else 0))]
            return sorted({min(j, self.limit) for j in ladder})
        width = self.hi - self.lo
        return sorted({self.lo + max(1, min(width - 1, round(i * width / (batch + 1)))) for i in range(1, batch + 1)})

    def update(self, passed: dict[int, bool], hints: dict[int, int] | None = None) -> None:
        self.hints.update(hints or {})
        if self.guess is not None and not (self.lo == 0 and self.hi is None and list(passed) == [self.guess]):
            self.stride *= 2 ** len(passed)  # a gallop round away from the guess (not the guess's own round)
        fails = [j for j, ok in passed.items() if not ok and j > self.lo]
        if fails:
            self.hi = min(fails + ([self.hi] if self.hi is not None else []))
        passes = [j for j, ok in passed.items() if ok and (self.hi is None or j < self.hi)]
        self.lo = max(passes + [self.lo])


def gallop(holds: Callable[[int], bool], first: int, up: Callable[[int], int], top: int,
           close_enough: Callable[[int, int], bool] = lambda lo, hi: hi - lo <= 1) -> tuple[int | None, bool]:
    """The largest x in [first, top] for which ``holds`` (assumed to hold, then fail, as x grows), one probe at a time.

    Probes ``first``, ``up(first)``, ... (at most ``top``) while they hold, then bisects at (lo + hi) // 2
    between the last that held and the first that failed until ``close_enough(lo, hi)``. Returns (that x, or
    None when ``first`` fails; whether ``top`` held, so the answer may lie beyond it). ``Bracket`` is the
    batched form, with a guess, for searches whose rounds train several candidates at once; this one serves
    the state measures (memcap.text.state), which train one value a round.
    """
    lo, x = None, first
    while holds(x):
        lo = x
        if x >= top:
            return lo, True
        x = min(up(x), top)
    if lo is None:
        return None, False
    hi = x
    while not close_enough(lo, hi):
        mid = (lo + hi) // 2
        if holds(mid):
            lo = mid
        else:
            hi = mid
    return lo, False


@dataclass
class SearchOutcome:
    perfect_ds: int | None
    capacity_ds: int | None
    capped: bool  # the search hit max_ds while still passing: the capacity may be larger
    results: dict[int, list[int]]


def _bisect(bracket: Bracket, evaluate: Evaluate, to_ds: Callable[[int], int], holds, batch: int,
            hint: Callable[[int, list[int]], int | None] = lambda ds, memorized: None) -> None:
    while not bracket.done:
        candidates = bracket.candidates(batch)
        results = evaluate([to_ds(j) for j in candidates])
        passed = {j: holds(to_ds(j), results[to_ds(j)]) for j in candidates}
        hints = {j: hint(to_ds(j), results[to_ds(j)]) for j in candidates if not passed[j]}
        bracket.update(passed, {j: h for j, h in hints.items() if h is not None})


def capacity_search(
    evaluate: Evaluate, *, step: int, resolution: int, threshold: float, batch: int, max_ds: int,
    on_phase: Callable[[str], None] = lambda phase: None, guess: tuple[int | None, int | None] = (None, None),
    settled: Callable[[int], bool] = lambda ds: True,
) -> SearchOutcome:
    """Run the report's two-phase protocol through ``evaluate``; see the module docstring.

    ``on_phase`` hears "perfect recall" and then "capacity" as each phase starts (the progress lines name it).
    ``guess`` = (perfect DS, capacity DS), each or both None: where each phase starts (``Bracket``).
    ``settled(ds)``: whether the best count at ``ds`` is final (its run did not stop at the step cap);
    only a settled count of a failed guess sends the gallop down to it (``Bracket.hints``). A count cut
    off by the cap was still rising: at the report's N=400, DS=1330 stopped at 1265 by the cap, and the
    perfect-recall DS turned out to be 1300 or more.
    """
    seen: dict[int, list[int]] = {}

    def cached(ds_values: Iterable[int]) -> dict[int, list[int]]:
        todo = sorted({ds for ds in ds_values if ds not in seen})
        if todo:
            seen.update(evaluate(todo))
        return {ds: seen[ds] for ds in ds_values}

    on_phase("perfect recall")
    perfect_guess, capacity_guess = guess
    perfect = Bracket(limit=max(1, max_ds // resolution),
                      guess=round(perfect_guess / resolution) if perfect_guess else None)
    _bisect(perfect, cached, lambda j: j * resolution, lambda ds, mem: max(mem) >= ds, batch,
            hint=lambda ds, mem: max(mem) // resolution if max(mem) > threshold * ds and settled(ds) else None)
    perfect_ds = perfect.lo * resolution or None

    on_phase("capacity")
    base = perfect_ds or 0
    capacity = Bracket(limit=max(0, (max_ds - base) // step),
                       guess=round((capacity_guess - base) / step) if capacity_guess and capacity_guess > base else None)
    _bisect(capacity, cached, lambda j: base + j * step, lambda ds, mem: max(mem) / ds > threshold, batch)
    capacity_ds = base + capacity.lo * step or None
    capped = capacity.lo >= capacity.limit
    return SearchOutcome(perfect_ds=perfect_ds, capacity_ds=capacity_ds, capped=capped, results=seen)


# A member's stop reasons before its plateau (memcap.patterns.module): the search's fail-fast rules (it could
# not pass its round's threshold) and the step cap. Its count is less than it would have stored.
BEFORE_PLATEAU_STOPS = ("nothing", "short", "cap")


def before_plateau(points: list[dict], capacity_ds: int | None) -> bool:
    """Did a run at the capacity DS stop before its plateau (a fail-fast rule, or the step cap)? Then the mean
    over the runs counts less than they can store: a lower bound. (Whether the capacity, the best run's count,
    is the network's is ``converged``'s question.)"""
    return capacity_ds is not None and any(p["DS"] == capacity_ds and p["stop"] in BEFORE_PLATEAU_STOPS
                                           for p in points)


def converged(points: list[dict], capacity_ds: int | None, perfect_ds: int | None = None) -> bool:
    """Whether the answer is the network's and not the step cap's (docs/search.md, "The deciding points, and convergence"; the aggregation recomputes it from the points).

    A member has converged when it stopped by the criterion: every pattern
    memorized, a plateau (no new best count in max(``trainer.patience``,
    ``trainer.patience_fraction`` x its checks) checks), nothing by
    ``search.fail_fast_steps``, or "short" (it cannot pass the threshold by the
    cap at its average rate so far) -- anything but the step cap.
    The answer rests on the deciding points: the capacity DS (its counts are the
    reported numbers) and the smallest DS tried above it (its failure bounds the
    answer), and likewise the smallest DS tried above ``perfect_ds``. The answer
    has converged when no member at a deciding point ran to the step cap;
    otherwise the capacity is a lower bound. Members further above decide
    nothing (the search assumes the predicate falls with DS), so their caps do
    not count, whatever they cost.
    """
    tried = sorted({p["DS"] for p in points})

    def next_above(ds: int | None) -> list[int]:
        above = [d for d in tried if d > (ds or 0)]
        return above[:1]

    deciding = set(next_above(capacity_ds) + next_above(perfect_ds))
    if capacity_ds is not None:
        deciding.add(capacity_ds)
    return not any(p["stop"] == "cap" for p in points if p["DS"] in deciding)


@dataclass
class NeuronOutcome:
    min_hidden: int | None  # the smallest width at which some run reached the target (None: none in the grid did)
    results: dict[int, list[float]]  # every trained width's scores, one per run


def neuron_search(
    evaluate: Callable[[list[int]], dict[int, list[float]]], *, grid: list[int], target: float, batch: int
) -> NeuronOutcome:
    """The smallest width H in ``grid`` (ascending) at which some run's score reaches ``target``.

    The mirror image of the capacity search: a Bracket over grid indices finds
    the largest width that still falls short (no run reaches the target),
    galloping up from the smallest width and then bisecting, and the answer is
    the next width. Like the capacity search it assumes the predicate is
    monotone: a width that reaches the target is never followed by one that
    does not. ``evaluate`` maps widths to their scores, one per run.
    """
    seen: dict[int, list[float]] = {}

    def recorded(widths: list[int]) -> dict[int, list[float]]:
        seen.update(evaluate(widths))
        return seen

    short = Bracket(limit=len(grid))
    _bisect(short, recorded, lambda j: grid[j - 1], lambda width, scores: max(scores) < target, batch)
    return NeuronOutcome(min_hidden=grid[short.lo] if short.lo < len(grid) else None, results=seen)
