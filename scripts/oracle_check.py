"""Check the LP oracle against the known one-layer capacities, and time it.

Expected (s = 0.1, exact recall): about 298 of 300 patterns on average at
N=100, DS=300 (all 300 on one of three datasets), and at least 677 of 700 at
N=200, DS=700. Also prints the count under the bce_ignore tolerance, and that
of the plain hinge-LP optimum before any pattern is dropped (greedy=False).

Usage: .venv/bin/python scripts/oracle_check.py
"""

from __future__ import annotations

import time

from memcap.patterns.data import make_patterns
from memcap.patterns.losses import bits_to_ignore
from memcap.patterns.oracle import lp_memorized

S = 0.1
CASES = [(100, 300, 0), (100, 300, 1), (100, 300, 2), (200, 700, 0)]


def main() -> None:
    for N, DS, seed in CASES:
        X, Y = make_patterns(N, DS, S, seed)
        for bti in (0, bits_to_ignore(N, S)):
            start = time.perf_counter()
            result = lp_memorized(X, Y, bti=bti)
            seconds = time.perf_counter() - start
            print(f"N={N} DS={DS} seed={seed} bti={bti}: memorized {result.memorized}/{DS} in {seconds:.1f} s", flush=True)
        plain = lp_memorized(X, Y, progress=False, greedy=False).memorized
        print(f"N={N} DS={DS} seed={seed}: the hinge LP's optimum alone memorizes {plain}/{DS}", flush=True)


if __name__ == "__main__":
    main()
