"""Figures and tables of the text study (docs/text.md), from the committed results (results/text/) into docs/text/.

    python scripts/text_figures.py                     # results/text -> docs/text/{state_*,memorize_*,where_*}.png,
                                                       # text_*.md, and the blocks into docs/text.md between its markers
    python scripts/text_figures.py --results DIR --out DIR --doc none

Reads every result.json under --results with memcap.results.read_result (checked against
memcap/text/schema.py); only finished jobs (status ok) are drawn, and text_study.md lists what was found and
what was not. The work is memcap.aggregate.text_study (pages.write says what goes where).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from memcap.aggregate.text_study.pages import write  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default=str(REPO / "results" / "text"))
    parser.add_argument("--out", default=str(REPO / "docs" / "text"))
    parser.add_argument("--doc", default=str(REPO / "docs" / "text.md"), help="the tables replace what lies between "
                        "its markers (none: left alone)")
    args = parser.parse_args(argv)
    for line in write(Path(args.results), Path(args.out), Path(args.doc)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
