"""How many rows a member's slab of an ensemble has: its DS padded to an aligned count.

A module of its own, importing nothing of memcap's, because two places must agree on it: the engine,
which allocates the slabs (``memcap.patterns.engine.build_module``), and the
memory estimate that refuses a job before it allocates anything
(``memcap.patterns.config.ensemble_bytes``), and the engine imports the config.
"""

from __future__ import annotations

import math

# Each member's rows are padded (weight 0) until rows x N is a multiple of ALIGN elements: PyTorch's CPU
# elementwise kernels compute a tensor's last elements (the remainder after the vector width, 16 floats
# with AVX2 and 32 with AVX-512, loops unrolled twice) on a scalar path whose exp and log differ from the
# vector path's in the last bit. With every member's slab aligned, none of its elements lands there, so on
# one thread a member trains to the bit as it would alone (tests/patterns/test_ensemble.py, scripts/companions.py).
ALIGN = 64


def aligned_rows(DS: int, N: int) -> int:
    """The fewest rows, at least ``DS``, whose rows x N elements are a multiple of ALIGN."""
    step = ALIGN // math.gcd(N, ALIGN)
    return -(-DS // step) * step
