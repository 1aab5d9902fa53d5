"""The pattern task's sizes that follow from N, s and the loss alone: ones per pattern, tolerated wrong bits.

No torch: the jobs read them to make data and to judge recall, and the aggregation reads them to count a
stored result's bits (memcap.patterns.report.recount_bits) as the job that wrote it does now.
"""

from __future__ import annotations


def active_bits(N: int, s: float) -> int:
    """Number of ones per pattern: round(N * s)."""
    return int(round(N * s))


def bits_to_ignore(N: int, s: float) -> int:
    """The report's #bti = int(N * s * 0.1) (eq. 3): wrong bits tolerated per group."""
    return int(N * s * 0.1)


def tolerance(loss: str, N: int, s: float) -> int:
    """Wrong bits tolerated per group by the memorization criterion under ``loss``: #bti for bce_ignore, else 0."""
    return bits_to_ignore(N, s) if loss == "bce_ignore" else 0
