"""Aggregate sweeps into tables and figures; the same as the `memcap-aggregate` command."""

from memcap.aggregate.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
