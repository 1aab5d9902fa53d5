"""The pattern task's sizes that follow from N, s and the loss alone: ones per pattern, tolerated wrong bits,
the memory the LP oracle would need.

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


# Refuse a problem whose dense LP/MILP data would need more than this many bytes.
MAX_ORACLE_BYTES = 4 * 2**30


def check_oracle_size(DS: int, n_in: int, n_out: int, max_bytes: int = MAX_ORACLE_BYTES) -> None:
    """Refuse (ValueError, one line) a dataset whose oracle LPs/MILP would not fit in ``max_bytes``.

    The dense pieces are the signed data (DS, n_in + 1) per neuron's Farkas LP,
    the (DS, n_out) label and bit-variable arrays, and the sparse covering rows
    (at most DS per cut, a few cuts per neuron and round); 8 bytes each, with
    a factor 4 for HiGHS's own copies.
    """
    need = 8 * 4 * DS * (n_in + 2 + 4 * n_out)
    if need > max_bytes:
        raise ValueError(f"oracle: DS={DS}, N_in={n_in}, N_out={n_out} needs about {need / 2**30:.1f} GiB "
                         f"for its LPs and MILP, more than the {max_bytes / 2**30:.1f} GiB allowed")
