"""The benchmarks: the engine, whole searches, the oracle's and the solver's LPs, a sweep's work (memcap.bench).

    python scripts/bench.py                  # = make bench: throughput and one job end to end -> benchmarks/
    python scripts/bench.py --engine         # one suite; --help lists them, memcap/bench/__init__.py too

Each suite is one module of memcap/bench/ (its docstring says what it measures and why); memcap.bench.cli is
this command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from memcap.bench.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
