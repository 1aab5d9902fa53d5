"""Where a capacity search starts: the answers of the same network at other N in the same sweep, scaled.

A sweep over N (the design card's ``N=50,100,150,200``) finds each answer from
scratch by galloping up from DS=10, and the rounds of that gallop and of the
bisection after it are most of a job's cost near capacity. The jobs that
finished before it in the same sweep, with the same identity but N, say where
the answer lies: with one of them the guess scales its DS in proportion to N,
with two or more it follows the power law through the two nearest. The guess
only sets where the search starts (memcap.search.Bracket); the answer is the
same grid point whenever the predicate falls with DS. ``search.prior=false``
turns it off.
"""

from __future__ import annotations

import math
from pathlib import Path

from memcap.results import read_result


def _same_but_n(identity: dict, other: dict) -> bool:
    return {k: v for k, v in identity.items() if k != "N"} == {k: v for k, v in other.items() if k != "N"}


def neighbours(index: Path, identity: dict) -> dict[int, dict]:
    """Finished, uncapped results in the sweep's ``index`` whose identity differs from ``identity`` in N only."""
    found = {}
    for path in sorted(index.glob("*.json")) if index.is_dir() else []:
        result = read_result(path)
        if not isinstance(result, dict) or result.get("status") != "ok":
            continue
        other, metrics = result.get("identity") or {}, result.get("metrics") or {}
        if other.get("N") == identity.get("N") or not _same_but_n(identity, other):
            continue
        if metrics.get("capacity_ds") and not metrics.get("capped"):
            found[int(other["N"])] = metrics
    return found


def scaled(N: int, known: dict[int, float]) -> float:
    """A quantity at ``N`` from its values at other N: proportional to N from one, a power law from the two nearest."""
    nearest = sorted(known, key=lambda n: (abs(math.log(n / N)), n))[:2]
    if len(nearest) == 1:
        return known[nearest[0]] * N / nearest[0]
    (n1, n2), (v1, v2) = nearest, (known[nearest[0]], known[nearest[1]])
    exponent = math.log(v2 / v1) / math.log(n2 / n1)
    return v1 * (N / n1) ** exponent


def guess(index: Path, identity: dict) -> tuple[int | None, int | None, list[int]]:
    """(perfect DS, capacity DS, the N it came from) for the search's start, or (None, None, []) without neighbours."""
    known = neighbours(index, identity)
    if not known:
        return None, None, []
    N = int(identity["N"])
    capacity = scaled(N, {n: m["capacity_ds"] for n, m in known.items()})
    perfect_known = {n: m["perfect_ds"] for n, m in known.items() if m.get("perfect_ds")}
    perfect = scaled(N, perfect_known) if perfect_known else None
    return (round(perfect) if perfect else None), round(capacity), sorted(known)
