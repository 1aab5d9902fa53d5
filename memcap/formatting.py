"""How memcap writes numbers for people: a span of time (the progress lines of a fit and ``memcap status``) and a
range over seeds (every published table writes ``lo–hi`` the same way)."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """"45 s", "12 min", "3.4 h": the unit a person reads at a glance ("" for None)."""
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def span(values, spec: str = "{}", empty: str = "–") -> str:
    """``lo–hi`` of the values as ``spec`` writes them; one value where both ends read the same, ``empty`` where
    there is none. None and NaN (a seed without the number) are skipped, so a list and a pandas column read alike."""
    kept = [v for v in values if v is not None and v == v]  # NaN is the one value unequal to itself
    if not kept:
        return empty
    lo, hi = spec.format(min(kept)), spec.format(max(kept))
    return lo if lo == hi else f"{lo}–{hi}"
