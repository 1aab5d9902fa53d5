"""Random sparse binary pattern pairs, as in the memory-capacity report.

Every row of X and of Y has exactly k = round(N * s) ones; no row repeats within
X, none within Y (a repeated input with two different targets could never be
memorized, and a repeated target would make the task easier than stated).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from memcap.patterns.sizes import active_bits

# Below this many distinct patterns we enumerate them all and sample without
# replacement; rejection sampling would spend long in its coupon-collector tail.
_ENUMERATE_LIMIT = 200_000


def num_distinct_patterns(N: int, k: int) -> int:
    """C(N, k): how many distinct binary vectors of length N with k ones exist."""
    return math.comb(N, k)


def _random_sparse_rows(M: int, N: int, k: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """M rows with k ones at uniformly random positions, and which rows succeeded.

    The first k distinct values of a stream of uniform draws from range(N) form a
    uniformly random k-subset, so we draw a few more than k per row with
    replacement (about N*ln(N/(N-k)) are needed) and keep the first k distinct.
    This touches M*c numbers instead of the M*N of a random-key top-k.
    """
    c = math.ceil(1.2 * N * math.log(N / (N - k + 0.5))) + 16
    draws = torch.randint(0, N, (M, c), generator=gen)
    values, order = draws.sort(dim=1, stable=True)
    repeat_sorted = torch.zeros_like(values, dtype=torch.bool)
    repeat_sorted[:, 1:] = values[:, 1:] == values[:, :-1]
    repeat = torch.empty_like(repeat_sorted).scatter_(1, order, repeat_sorted)
    keep = ~repeat & (torch.cumsum(~repeat, dim=1) <= k)
    rows = torch.zeros(M, N)
    # Dropped draws re-write the row's first draw, which is always kept.
    rows.scatter_(1, torch.where(keep, draws, draws[:, :1]), 1.0)
    return rows, keep.sum(dim=1) == k


def _unique_sparse_rows(N: int, k: int, DS: int, gen: torch.Generator) -> torch.Tensor:
    total = num_distinct_patterns(N, k)
    if total <= _ENUMERATE_LIMIT:
        combos = torch.tensor(list(itertools.combinations(range(N), k)), dtype=torch.long)
        chosen = combos[torch.randperm(total, generator=gen)[:DS]]
        return torch.zeros(DS, N).scatter_(1, chosen, 1.0)
    rows = torch.empty(0, N)
    while rows.shape[0] < DS:
        # Duplicates are rare when C(N, k) >> DS: draw a little more than needed.
        need = DS - rows.shape[0]
        fresh, complete = _random_sparse_rows(need + need // 50 + 8, N, k, gen)
        rows = torch.cat([rows, fresh[complete]]) if rows.numel() else fresh[complete]
        packed = np.packbits(rows.numpy() > 0, axis=1)
        _, first = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_index=True)
        if len(first) < rows.shape[0]:
            rows = rows[torch.from_numpy(np.sort(first))]
    return rows[:DS].contiguous()


def make_patterns(N: int, DS: int, s: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (X, Y): float tensors of shape (DS, N) with round(N*s) ones per row.

    Rows are distinct within X and within Y. The same arguments always give the
    same tensors.
    """
    k = active_bits(N, s)
    if N < 1:
        raise ValueError(f"N must be a positive integer, got {N}")
    if not 0 < s < 1:
        raise ValueError(f"s must lie in (0, 1), got {s}")
    if k < 1:
        raise ValueError(f"round(N*s) = round({N}*{s}) = 0 active bits; raise N or s")
    if DS < 1:
        raise ValueError(f"DS must be at least 1, got {DS}")
    total = num_distinct_patterns(N, k)
    if DS > total:
        raise ValueError(f"DS={DS} exceeds the C({N}, {k}) = {total} distinct patterns with {k} ones")
    gen = torch.Generator().manual_seed(int(seed))
    X = _unique_sparse_rows(N, k, DS, gen)
    Y = _unique_sparse_rows(N, k, DS, gen)
    return X, Y
