"""How an answer is read from a search's points: which network decided it, whether that network stopped at the
step cap (then the answer is a bound), the floor a width answer could fall to, the verdict among encoders, and
the numbers the tables write (their ranges over seeds: `memcap.formatting.span`)."""

from __future__ import annotations

import math

from memcap.aggregate.text_study.collect import MODELS, settle_factor
from memcap.search import settled

COLLINS, MORRIS = 5.0, 3.6  # bits per parameter: Collins et al. 2017 (RNNs), Morris et al. 2025 (GPT-style)
FLOAT32_BITS = 32  # the most one stored number could hold


def fmt(v, spec="{:.3f}"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return spec.format(v)


def width_below(result) -> tuple[int, float] | None:
    """The width that decided a width search from below (the widest tried under the answer) and its best held-out
    char accuracy: how close the answer came to one grid step smaller. ``metrics.decisive`` where the result has it;
    results from before it: the same rule from the points. None: capped, or nothing tried below."""
    m = result["metrics"]
    if m["capped"] or m["min_hidden"] is None:
        return None
    if m.get("decisive") is not None:
        return m["decisive"], m["decisive_score"]
    tried = [p for p in result["points"] if p["hidden"] < m["min_hidden"]]
    if not tried:
        return None
    width = max(p["hidden"] for p in tried)
    return width, max(p["heldout_char"] for p in tried if p["hidden"] == width)


def below_target(result) -> dict | None:
    """The best network of the widest width whose best network fell short of the target."""
    target, best = result["config"]["target"], {}
    for p in result["points"]:
        if p["hidden"] not in best or p["heldout_char"] > best[p["hidden"]]["heldout_char"]:
            best[p["hidden"]] = p
    short = [p for w, p in sorted(best.items()) if p["heldout_char"] < target and p.get("position_char")]
    return short[-1] if short else None


def answer_network(result) -> dict:
    """The network that answered: the best of the smallest width reaching the target (after any settling)."""
    m = result["metrics"]
    at = [p for p in settled(result["points"], "hidden") if p["hidden"] == m["hidden"]]
    return max(at, key=lambda p: p["heldout_char"])


def failure_capped(result, key: str = "hidden") -> bool:
    """Did a network of the value that decided the answer (``key``: the widest width tried below it, or the
    smallest count above it) stop at the step cap, after any settling? Then the answer is only a bound (a width
    from above, a count from below). (A passing network at the cap passed all the same: more steps cannot undo
    that.)"""
    m = result["metrics"]
    if m["capped"]:
        return False
    return any(p[key] == m["decisive"] and p["stop"] == "cap" for p in settled(result["points"], key))


SCORE = {"hidden": "heldout_char", "count": "train_char"}  # what a width / count search compares with its target


def deciding_budget(result, key: str = "hidden") -> str:
    """The budget curve of the network that decided an answer (``failure_capped``'s): its value's best score at
    each budget it was trained to, the search's step cap first, then its settling's, as ``count 832: 0.793 (2000
    steps) → 0.985 (8000 steps)``, so a reader sees whether it was still rising."""
    m, score = result["metrics"], SCORE[key]
    at = [p for p in result["points"] if p[key] == m["decisive"]]
    phases = [[p for p in at if not p.get("phase")], [p for p in at if p.get("phase")]]
    noun = "width" if key == "hidden" else key
    return f"{noun} {m['decisive']}: " + " → ".join(f"{max(p[score] for p in ps):.3f} ({max(p['steps'] for p in ps)} steps)"
                                             for ps in phases if ps)


def width_floor(result) -> int:
    """The smallest width the answer could be, had every network trained to its plateau: one above the widest width
    tried below the answer whose every network (settled, where it was) stopped before the step cap and still fell
    short (a converged failure), else the search's first width. An answer whose deciding failure converged is
    its own floor."""
    m = result["metrics"]
    if not m["capped"] and not failure_capped(result):
        return m["min_hidden"]
    at = m["hidden"] + (1 if m["capped"] else 0)
    stops: dict[int, list[str]] = {}
    for p in settled(result["points"], "hidden"):
        stops.setdefault(p["hidden"], []).append(p["stop"])
    failed = [w for w, reasons in stops.items() if w < at and "cap" not in reasons]
    return max(failed) + 1 if failed else result["config"]["min_hidden"]


def fewest_encoders(cells: dict[str, list[tuple[int, int]]]) -> list[str]:
    """From each encoder's (floor, answer) in state numbers over seeds: the encoder whose largest answer is below
    every other encoder's smallest floor (one name), or the encoders whose ranges [floor, answer] reach below the
    lowest answer (no ranking among them). A capped seed's answer lies above its search's ceiling; an unconverged
    seed's floor is below its answer (``width_floor``)."""
    if not cells:
        return []
    low = min(cells, key=lambda model: (max(a for _, a in cells[model]), min(a for _, a in cells[model])))
    top = max(a for _, a in cells[low])
    tied = [model for model in cells if model != low and min(f for f, _ in cells[model]) <= top]
    return sorted([low, *tied], key=MODELS.index)


def fewest(cells: dict[str, list[tuple[int, int]]]) -> str:
    """The verdict of one L in words: ``fewest_encoders``, one in bold, several "not separated"."""
    names = fewest_encoders(cells)
    if not names:
        return "–"
    return f"**{names[0]}**" if len(names) == 1 else "not separated: " + ", ".join(names)


def budget(results) -> str:
    """The step budget the results were trained under, in words (from their configs)."""
    caps = sorted({r["config"]["max_steps"] for r in results})
    factors = sorted({settle_factor(r) for r in results})
    words = f"at most {' or '.join(map(str, caps))} steps per network"
    if factors != [0]:
        words += (" and " + " or ".join(f"{f}x that" for f in factors if f) +
                  " for a deciding failure at that cap (`search.settle_factor`)")
    return words
