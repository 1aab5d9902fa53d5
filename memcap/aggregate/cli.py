"""memcap-aggregate: sweep directories and/or W&B runs -> tables and figures.

    memcap-aggregate multirun/2024-05-01/12-00-00 [more sweep dirs]
    memcap-aggregate --wandb me/memcap --group report --tag v1 --where loss=bce_ignore

Prints the tables, writes tables.{md,csv,tex} and the figures (PNG and PDF)
into --out (default: FIRST_SWEEP_DIR/aggregate), and lists every skipped input
with its reason. For a paper: --style single (one column, 3.3 in) or double
(6.8 in), fonts sized for print; include the PDF at its own width. Capped and
unconverged cells are marked (≥, †) and explained under each table. Text-memory jobs (data=text) get their own table of minimal H,
text_tables.{md,csv,tex}, and figure, text_accuracy.{png,pdf}; a sweep of both
tasks gets both. --beside-report also writes the pattern jobs beside the report's
Tables 1 and 2 and Gardner's bound (memcap.aggregate.published): one row per
network and N, with the oracle's interval and the wall time, as beside_report.md
and .csv, and its figure beside_report.{png,pdf}. Exit status 0 when at least
one job was aggregated, 2 when none.
"""

from __future__ import annotations

import argparse
import json
import netrc
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from memcap.aggregate.figures import FIGURES, STYLES, TEXT_FIGURES, style, write_figures
from memcap.aggregate.published import BESIDE_REPORT_FIGURES, write_beside_report, write_capacity_comparison
from memcap.aggregate.sources import WandbUnavailable, by_task, load
from memcap.aggregate.tables import WRITERS, print_tables, report_tables, text_tables, write_tables
from memcap.aggregate.topology import TOPOLOGY_FIGURES, topology_tables, with_topology

PROG = "memcap-aggregate"
# Per task: its tables, the name its table files start with, its figures.
OUTPUTS = {"patterns": (report_tables, "tables", FIGURES), "text": (text_tables, "text_tables", TEXT_FIGURES),
           "topology": (topology_tables, "topology_tables", TOPOLOGY_FIGURES)}  # docs/topology.md


def wandb_filters(group: str | None = None, tags: list[str] = (), where: list[str] = ()) -> dict[str, Any] | None:
    """W&B's MongoDB-style run query: in the group, carrying every tag, config keys equal to values.

    ``where`` items are "key=value"; the value is read as JSON when it parses
    ("100", "0.1", "null") and as a string otherwise ("bce").
    """
    conditions: list[dict[str, Any]] = [{"group": group}] if group else []
    conditions += [{"tags": {"$in": [tag]}} for tag in tags]
    for item in where:
        key, _, text = item.partition("=")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        conditions.append({f"config.{key}": value})
    return {"$and": conditions} if conditions else None


def wandb_online() -> bool:
    """Can W&B be reached without a prompt? Not offline or disabled, and an API key is configured.

    Checked before any W&B call, which would otherwise ask for a key on the terminal.
    """
    if os.environ.get("WANDB_MODE", "").lower() in {"offline", "disabled", "dryrun"}:
        return False
    if os.environ.get("WANDB_API_KEY"):
        return True
    import wandb

    host = urlparse(wandb.Settings().base_url).hostname
    try:
        return netrc.netrc(os.environ.get("NETRC")).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def log_to_wandb(project: str | None, tables: dict, figures: list[Path]) -> str:
    """Log the tables (wandb.Table) and PNG figures to a new summary run; returns its URL."""
    import wandb

    entity, _, name = (project or "").rpartition("/")
    with wandb.init(entity=entity or None, project=name or None, job_type="aggregate", name="aggregate",
                    settings=wandb.Settings(init_timeout=90)) as run:
        for model, table in tables.items():
            frame = table.reset_index()
            frame.columns = [str(c) for c in frame.columns]
            run.log({f"table/{model}": wandb.Table(dataframe=frame)})
        run.log({f"figure/{path.stem}": wandb.Image(str(path)) for path in figures if path.suffix == ".png"})
        return run.url


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(WRITERS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown)} (choose from {', '.join(WRITERS)})")
    return formats


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dirs", nargs="*", metavar="SWEEP_DIR", help="directories searched for result.json")
    parser.add_argument("--wandb", metavar="ENTITY/PROJECT", help="also read the runs of this W&B project")
    parser.add_argument("--group", help="W&B: only runs in this group")
    parser.add_argument("--tag", action="append", default=[], help="W&B: only runs with this tag (repeatable)")
    parser.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                        help="W&B: only runs whose config KEY equals VALUE (repeatable)")
    parser.add_argument("--out", type=Path, help="output directory (default: FIRST_SWEEP_DIR/aggregate)")
    parser.add_argument("--formats", type=_formats, default=list(WRITERS), help="table formats (default: md,csv,tex)")
    parser.add_argument("--style", choices=list(STYLES), default="screen",
                        help="figure style: screen (6.4 in, matplotlib's fonts), or for a paper single (one column, "
                             "3.3 in, 8 pt) or double (two columns, 6.8 in, 9 pt); default: screen")
    parser.add_argument("--width", type=float, metavar="INCHES", help="figure width, overriding the style's")
    parser.add_argument("--beside-report", action="store_true",
                        help="also write beside_report.{md,csv,png,pdf}: the pattern jobs beside the report's "
                             "Tables 1 and 2, Gardner's bound and the oracle, with each cell's wall time")
    parser.add_argument("--log-wandb", action="store_true",
                        help="log tables and figures to a W&B run (in the --wandb project if given); "
                             "skipped when W&B is offline or has no API key")
    return parser


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.sweep_dirs and not args.wandb:
        return _error("give at least one SWEEP_DIR or --wandb ENTITY/PROJECT")
    if args.wandb and not wandb_online():
        return _error("--wandb needs W&B online: WANDB_MODE is offline/disabled or no API key is configured")

    filters = wandb_filters(args.group, args.tag, args.where)
    try:
        df, skipped = load(args.sweep_dirs, wandb_path=args.wandb, filters=filters)
    except WandbUnavailable as error:
        return _error(str(error))
    for where, reason in skipped:
        print(f"skipped {where}: {reason}", file=sys.stderr)
    if df.empty:
        sources = ", ".join(args.sweep_dirs + ([f"W&B {args.wandb}"] if args.wandb else []))
        return _error(f"no finished job found in {sources} ({len(skipped)} input(s) skipped)")

    if args.out is None:
        first = Path(args.sweep_dirs[0]) if args.sweep_dirs else Path.cwd()
        args.out = (first if first.is_dir() or not first.exists() else first.parent) / "aggregate"
    args.out.mkdir(parents=True, exist_ok=True)
    tables, figures, written = {}, [], []
    for task, frame in with_topology(by_task(df)).items():
        build, stem, drawings = OUTPUTS[task]
        beside = args.beside_report and task == "patterns"
        task_tables = build(frame)
        print_tables(task_tables)
        drawings = drawings | (BESIDE_REPORT_FIGURES if beside else {})
        figures += write_figures(frame, args.out, figures=drawings, style=style(args.style, args.width))
        written += write_tables(task_tables, args.out, args.formats, stem) if task_tables else []
        written += write_beside_report(frame, args.out, args.formats) if beside else []
        written += write_capacity_comparison(frame, args.out, args.formats) if task == "topology" else []
        tables.update(task_tables)
    written += figures
    print(f"{len(df)} job(s) aggregated, {len(skipped)} input(s) skipped; wrote {len(written)} files to {args.out}")

    if args.log_wandb:
        if wandb_online():
            print(f"logged to W&B: {log_to_wandb(args.wandb, tables, figures)}")
        else:
            print("W&B is offline or has no API key: wrote the files only", file=sys.stderr)
    return 0
