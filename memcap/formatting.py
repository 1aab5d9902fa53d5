"""How memcap writes a span of time for people: the progress lines of a fit and ``memcap status`` share it."""

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
