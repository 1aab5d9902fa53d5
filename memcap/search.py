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

When a phase ends, the DS that decide it (the failure just above its answer,
and the capacity DS, whose counts are the reported numbers) may be settled:
their runs that a fail-fast rule or the step cap stopped before their plateau
are trained again without those limits, and a failure that passes then sends
the search on up from it (``settle``).

The search is pure logic: it sees the world only through ``evaluate``, a
function from a list of DS values to each DS's memorized counts (one per run),
and ``settle``, the same after training such runs again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

Evaluate = Callable[[list[int]], dict[int, list[int]]]


@dataclass
class Bracket:
    """The largest grid index j in [1, limit] whose predicate holds.

    ``lo`` is the largest index known to pass (0: none yet), ``hi`` the smallest
    known to fail (None: not found yet, so keep galloping).

    Without a ``guess`` the gallop doubles from 1, then bisects. With one (a
    prior: the answer scaled from a smaller N of the same sweep) the first round
    trains the guess. If it passes, the gallop goes on up from it with a doubling
    stride, never past the point above it that the gallop from 1 would try; once
    a candidate fails (or at once, when the guess fails) the search proposes
    exactly the candidates the search without a guess would, less those its
    results already answer (``plain``, ``plain_hi``: that search's bracket). So a
    guess moves only where the search looks, never the grid point it lands on
    (when the predicate falls monotonically), and a wrong guess costs at most one
    failing round (each such round trains to the step cap near the answer) more
    than no guess: its own, or the first failure of its gallop.
    """

    limit: int
    lo: int = 0
    hi: int | None = None
    guess: int | None = None
    stride: int = 1
    plain: int = 0  # the bracket of the search without a guess, its candidates answered from lo and hi
    plain_hi: int | None = None
    proposed: list[int] | None = None  # the last candidates of that search (they update its bracket)

    def __post_init__(self) -> None:
        if self.guess is not None:
            self.guess = min(max(1, self.guess), self.limit)

    @property
    def done(self) -> bool:
        return self.lo >= self.limit or (self.hi is not None and self.hi <= self.lo + 1)

    def candidates(self, batch: int) -> list[int]:
        if self.guess is not None and self.lo == 0 and self.hi is None:
            return [self.guess]
        if self.guess is not None and self.hi is None:  # the guess passed: gallop on up from it, not past the
            ceiling = 2 ** self.lo.bit_length()  # point above it that the gallop from 1 would try (1, 2, 4, ...)
            return sorted({min(self.lo + self.stride * 2**i, ceiling, self.limit) for i in range(batch)})
        while True:  # the search without a guess: its candidates that lo and hi do not answer yet
            self.proposed = _gallop_or_bisect(self.plain, self.plain_hi, batch, self.limit)
            unknown = [j for j in self.proposed if j > self.lo and (self.hi is None or j < self.hi)]
            if unknown:
                return unknown
            self._answer_plain()

    def update(self, passed: dict[int, bool]) -> None:
        if self.guess is not None and self.hi is None and not (self.lo == 0 and list(passed) == [self.guess]):
            self.stride *= 2 ** len(passed)  # a gallop round up from the guess (not the guess's own round)
        fails = [j for j, ok in passed.items() if not ok and j > self.lo]
        if fails:
            self.hi = min(fails + ([self.hi] if self.hi is not None else []))
        passes = [j for j, ok in passed.items() if ok and (self.hi is None or j < self.hi)]
        self.lo = max(passes + [self.lo])
        if self.proposed is not None:
            self._answer_plain()

    def reopen(self) -> None:
        """``hi`` passed after all (a settled count, memcap.search._decide): the answer is at least that, and
        likely just above it, so the search gallops on up from it as from a passing guess, stride 1 first."""
        self.lo, self.hi, self.plain_hi = self.hi, None, None
        self.guess, self.stride = self.lo, 1

    def _answer_plain(self) -> None:
        """The search without a guess learns its last candidates' answers: those up to lo pass, from hi on fail."""
        fails = [j for j in self.proposed if self.hi is not None and j >= self.hi]
        self.plain = max([j for j in self.proposed if j <= self.lo] + [self.plain])
        if fails:
            self.plain_hi = min(fails + ([self.plain_hi] if self.plain_hi is not None else []))
        self.proposed = None


def _gallop_or_bisect(lo: int, hi: int | None, batch: int, limit: int) -> list[int]:
    """A bracket's next candidates: doubling up from ``lo`` while no failure is known, then evenly inside."""
    if hi is None:
        start = max(lo, 1)
        ladder = [start * 2**i for i in range(1 if lo else 0, batch + (1 if lo else 0))]
        return sorted({min(j, limit) for j in ladder})
    width = hi - lo
    return sorted({lo + max(1, min(width - 1, round(i * width / (batch + 1)))) for i in range(1, batch + 1)})


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


Settle = Callable[[list[int]], dict[int, list[int]]]


def _decide(bracket: Bracket, evaluate: Evaluate, to_ds: Callable[[int], int], holds, batch: int,
            settle: Settle | None, settle_lo: bool) -> None:
    """Bisect until the bracket is done; then ``settle`` the deciding DS (the failure just above the answer and,
    with ``settle_lo``, the answer itself): their runs that stopped before their plateau are trained again to it,
    and their counts replace the search's. If the failure passes after all (a late take-off that a fail-fast rule
    cut), the answer is at least that DS and the search goes on up from it."""
    while True:
        while not bracket.done:
            candidates = bracket.candidates(batch)
            results = evaluate([to_ds(j) for j in candidates])
            bracket.update({j: holds(to_ds(j), results[to_ds(j)]) for j in candidates})
        if settle is None:
            return
        deciding = ([bracket.hi] if bracket.hi is not None else []) + ([bracket.lo] if settle_lo else [])
        counts = settle([to_ds(j) for j in deciding if to_ds(j) > 0])
        if bracket.hi is None or not holds(to_ds(bracket.hi), counts[to_ds(bracket.hi)]):
            return
        bracket.reopen()


def capacity_search(
    evaluate: Evaluate, *, step: int, resolution: int, threshold: float, batch: int, max_ds: int,
    on_phase: Callable[[str], None] = lambda phase: None, guess: tuple[int | None, int | None] = (None, None),
    settle: Settle | None = None,
) -> SearchOutcome:
    """Run the report's two-phase protocol through ``evaluate``; see the module docstring.

    ``on_phase`` hears "perfect recall" and then "capacity" as each phase starts (the progress lines name it).
    ``guess`` = (perfect DS, capacity DS), each or both None: where each phase starts (``Bracket``).
    ``settle(ds_values)``: each DS's counts, one per run, after its runs that stopped before their plateau
    (a fail-fast rule, the step cap) were trained again without those limits (memcap.patterns.job); called
    with the DS that decide each phase when it ends (``_decide``). None: the search's counts stand.
    """
    seen: dict[int, list[int]] = {}

    def cached(ds_values: Iterable[int]) -> dict[int, list[int]]:
        todo = sorted({ds for ds in ds_values if ds not in seen})
        if todo:
            seen.update(evaluate(todo))
        return {ds: seen[ds] for ds in ds_values}

    def settle_seen(ds_values: list[int]) -> dict[int, list[int]]:
        seen.update(settle(ds_values) if ds_values else {})
        return seen

    after = settle_seen if settle is not None else None
    on_phase("perfect recall")
    perfect_guess, capacity_guess = guess
    perfect = Bracket(limit=max(1, max_ds // resolution),
                      guess=round(perfect_guess / resolution) if perfect_guess else None)
    _decide(perfect, cached, lambda j: j * resolution, lambda ds, mem: max(mem) >= ds, batch, after, settle_lo=False)
    perfect_ds = perfect.lo * resolution or None

    on_phase("capacity")
    base = perfect_ds or 0
    capacity = Bracket(limit=max(0, (max_ds - base) // step),
                       guess=round((capacity_guess - base) / step) if capacity_guess and capacity_guess > base else None)
    _decide(capacity, cached, lambda j: base + j * step, lambda ds, mem: max(mem) / ds > threshold, batch, after,
            settle_lo=True)
    capacity_ds = base + capacity.lo * step or None
    capped = capacity.lo >= capacity.limit
    return SearchOutcome(perfect_ds=perfect_ds, capacity_ds=capacity_ds, capped=capped, results=seen)


# A member's stop reasons before its plateau (memcap.patterns.module): the search's fail-fast rules (it could
# not pass its round's threshold) and the step cap. Its count is less than it would have stored.
BEFORE_PLATEAU_STOPS = ("nothing", "short", "cap")


SETTLE = "settle"  # the ``phase`` of a point trained again to its plateau (memcap.patterns.job)


def settled(points: list[dict], key: str = "DS") -> list[dict]:
    """The search's points, each (value, run) that was trained again to its plateau (``phase`` "settle") in place
    of the search's point for it: what the answer's statistics and its convergence are read from. ``key``: the
    value a point's search varies (DS; a text state search's width, "hidden")."""
    again = {(p[key], p["run"]): p for p in points if p.get("phase") == SETTLE}
    if not again:  # (nothing settled: points of any task, as they are)
        return list(points)
    return [again.get((p[key], p.get("run")), p) for p in points if p.get("phase") != SETTLE]


def before_plateau(points: list[dict], capacity_ds: int | None) -> bool:
    """Did a run at the capacity DS stop before its plateau (a fail-fast rule, or the step cap; after settling,
    the settling's step cap)? Then the mean over the runs counts less than they can store: a lower bound.
    (Whether the capacity, the best run's count, is the network's is ``converged``'s question.)"""
    return capacity_ds is not None and any(p["DS"] == capacity_ds and p["stop"] in BEFORE_PLATEAU_STOPS
                                           for p in settled(points))


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
    not count, whatever they cost. A deciding member trained again to its plateau (``settled``) counts by that
    training's stop.
    """
    points = settled(points)
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
    _decide(short, recorded, lambda j: grid[j - 1], lambda width, scores: max(scores) < target, batch, None, False)
    return NeuronOutcome(min_hidden=grid[short.lo] if short.lo < len(grid) else None, results=seen)
