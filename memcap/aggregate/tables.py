"""The report's tables (Tables 1 and 2), what the report lacked, and the text task's table of minimal H.

One table per model; in it one block per network ("simple · bce",
"recurrent · bce_ignore · 2 steps"), one column per N. A network is its model,
loss and recurrence steps, plus any other config key that varies within those
(an lr or s sweep gets one block per value), so different experiments never
share a cell.

Several jobs in one (network, N) cell -- different seeds -- are combined as more
runs of one experiment: the maximum, accuracy, DS, parameters and bits come from
the job with the largest maximum (max of max); mean and standard deviation are
taken over the pooled runs of all the jobs, and a "Jobs combined" row appears.

The text task (docs/text.md) gets one table in the same layout: one block per
architecture, one column per L, the smallest H and what it costs and stores;
several seeds in a cell are combined by the job with the smallest H.

A table is a DataFrame indexed by (Network, Quantity) with one column per N or
L (``columns.name``). Every renderer takes {name: table}; a table is titled
"Table i: NAME networks" unless its ``attrs["title"]`` says otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from memcap.text.config import ARCHITECTURES
from memcap.theory import gardner_bound

_IDENTITY = ("model", "loss", "steps")  # what a network is named by
_PER_CELL = ("N", "seed")  # the columns, and what a cell combines
_MODEL_ORDER = {"simple": 0, "recurrent": 1}  # the report's order; others after

# (row label, summary column, format); rows without a value in a block are left out.
ROWS = [
    ("Maximum number of memorized patterns", "memorized_max", "{:.0f}"),
    ("Accuracy [%]", "accuracy_pct", "{:.2f}"),
    ("Mean of memorized patterns", "memorized_mean", "{:.2f}"),
    ("Standard deviation of memorized patterns", "memorized_std", "{:.2f}"),
    ("DS searched (capacity DS)", "capacity_ds", "{:.0f}"),
    ("Perfect-recall DS", "perfect_ds", "{:.0f}"),
    ("Trainable parameters", "params", "{:.0f}"),
    ("Bits per parameter", "bits_per_param", "{:.3f}"),
    ("Gardner bound α_c(s)·N", "gardner_bound", "{:.1f}"),
    ("Memorized / bound", "bound_ratio", "{:.3f}"),
    ("Oracle memorized", "oracle_memorized", "{:.0f}"),
    ("Oracle upper bound (proven)", "oracle_upper", "{:.0f}"),
    ("Oracle ratio", "oracle_ratio", "{:.3f}"),
    ("Ratio to the proven upper bound", "oracle_ratio_upper", "{:.3f}"),
    ("Jobs combined", "jobs", "{:.0f}"),
]
# The text table: one cell per (architecture, L), from the neuron searches' answers.
TEXT_ROWS = [
    ("Smallest H", "min_hidden", "{:.0f}"),
    ("No H reached the target, up to", "capped_at", "{:.0f}"),
    ("State size at min H", "state_size", "{:.0f}"),
    ("Parameters at min H", "params", "{:.0f}"),
    ("Encoder parameters", "encoder_params", "{:.0f}"),
    ("Training char accuracy", "train_char", "{:.3f}"),
    ("Training exact accuracy", "train_exact", "{:.3f}"),
    ("Held-out char accuracy", "heldout_char", "{:.3f}"),
    ("Bits reconstructed", "bits", "{:.0f}"),
    ("Bits per neuron", "bits_per_neuron", "{:.1f}"),
    ("Bits per parameter", "bits_per_param", "{:.3f}"),
    ("Jobs combined", "jobs", "{:.0f}"),
]
_FORMATS = {label: fmt for label, _, fmt in ROWS + TEXT_ROWS}  # a label shared by both has one format
_TEXT_IDENTITY = ("model", "steps", "length", "seed")  # steps is L again
_TEXT_ORDER = {name: i for i, name in enumerate(ARCHITECTURES)}  # the order docs/text.md lists them in
_TEXT_BEST_JOB = ("min_hidden", "state_size", "params", "encoder_params", "train_char", "train_exact",
                  "heldout_char", "bits", "bits_per_neuron", "bits_per_param")
# Taken from a cell's best job; the oracle columns only when a result reports them.
_BEST_JOB = ("memorized_max", "capacity_ds", "perfect_ds", "params", "bits_per_param",
             "oracle_memorized", "oracle_ratio", "oracle_upper", "oracle_ratio_upper")


def _with_varying_keys(df: pd.DataFrame, labels: pd.Series, named: tuple[str, ...]) -> pd.Series:
    """``labels`` plus " · key=value" for every config key not in ``named`` that varies within a label."""
    others = [k for k in df.attrs["config_keys"] if k not in named]
    for _, jobs in df.groupby(labels.copy(), sort=False):
        for key in others:
            if jobs[key].map(str).nunique() > 1:
                labels[jobs.index] += f" · {key}=" + jobs[key].map(str)
    return labels


def network_labels(df: pd.DataFrame) -> pd.Series:
    """Each job's network label: model · loss [· k steps] [· key=value for keys varying within it]."""
    steps = df["steps"].map(lambda n: f" · {n} steps" if n > 1 else "")
    return _with_varying_keys(df, df["model"] + " · " + df["loss"] + steps, _IDENTITY + _PER_CELL)


def text_labels(df: pd.DataFrame) -> pd.Series:
    """Each text job's network label: the architecture [· key=value for keys varying within it]."""
    return _with_varying_keys(df, df["model"].copy(), _TEXT_IDENTITY)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (network, N): the numbers behind every table cell and figure point."""
    # A job that memorized no DS above the threshold has null metrics: NaN, an empty cell.
    df = df.astype({k: float for k in ("accuracy", *_BEST_JOB) if k in df})
    df = df.assign(network=network_labels(df), _order=df["model"].map(_MODEL_ORDER).fillna(len(_MODEL_ORDER)))
    df = df.sort_values(["_order", "model", "loss", "steps", "network", "N"], kind="stable")
    cells = []
    for (network, N), jobs in df.groupby(["network", "N"], sort=False):
        best = jobs.sort_values("memorized_max", ascending=False, kind="stable").iloc[0]
        runs = np.concatenate([np.asarray(r, dtype=float) for r in jobs["memorized_runs"]])
        cell = {"network": network, "model": best.model, "s": best.s, "N": N, "jobs": len(jobs),
                "accuracy_pct": 100 * best.accuracy,
                "memorized_mean": runs.mean() if runs.size else np.nan,
                "memorized_std": runs.std() if runs.size else np.nan,  # population std, as the report
                **{k: best[k] for k in _BEST_JOB if k in best}}
        if best.model == "simple":
            cell["gardner_bound"] = gardner_bound(N, best.s)
            cell["bound_ratio"] = best.memorized_max / cell["gardner_bound"]
        cells.append(cell)
    return pd.DataFrame(cells)


def _table(cells: pd.DataFrame, rows: list[tuple[str, str, str]], per: str) -> pd.DataFrame:
    """Summary cells as a table: rows (Network, Quantity) for the ``rows`` that have values, one column per ``per``."""
    values_by_row = {}
    for network, block in cells.groupby("network", sort=False):
        values = block.set_index(per)
        for label, column, _ in rows:
            if column not in values or values[column].isna().all():
                continue
            if column == "jobs" and (values[column] == 1).all():
                continue  # one job per cell, the normal case: nothing was combined
            values_by_row[network, label] = values[column].astype(float)
    table = pd.DataFrame(values_by_row).T
    table.index.names = ["Network", "Quantity"]
    table = table[sorted(table.columns)]
    table.columns.name = per
    return table


def report_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{model: table}; a table's rows are (Network, Quantity), its columns N, its values numbers."""
    return {model: _table(cells, ROWS, "N") for model, cells in summarize(df).groupby("model", sort=False)}


def summarize_text(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (network, L) of the neuron searches: the job with the smallest H that reached the target.

    A cell where no job's search reached it (capped) has only ``capped_at``, the
    largest H tried: its other numbers describe no minimum. Fixed-H jobs answer
    no "smallest H" and are left out (the accuracy figure shows them).
    """
    df = df[df["search"] == "neurons"]
    df = df.assign(network=text_labels(df), _order=df["model"].map(_TEXT_ORDER).fillna(len(_TEXT_ORDER)))
    df = df.astype({"min_hidden": float}).sort_values(["_order", "model", "network", "length"], kind="stable")
    cells = []
    for (network, length), jobs in df.groupby(["network", "length"], sort=False):
        reached = jobs.dropna(subset="min_hidden").sort_values(["min_hidden", "params"], kind="stable")
        cell = {"network": network, "model": jobs.iloc[0].model, "L": length, "jobs": len(jobs)}
        if reached.empty:
            cell["capped_at"] = jobs.hidden.max()
        else:
            cell.update({k: reached.iloc[0][k] for k in _TEXT_BEST_JOB})
        cells.append(cell)
    return pd.DataFrame(cells)


def text_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{"text": table} of the text jobs' neuron searches, rows (Network, Quantity), columns L; {} if none."""
    cells = summarize_text(df)
    if cells.empty:
        return {}
    table = _table(cells, TEXT_ROWS, "L")
    table.attrs["title"] = ("Text memory: smallest H reaching the target, "
                            "per architecture (rows) and L characters (columns)")
    return {"text": table}


def _text_rows(table: pd.DataFrame) -> list[tuple[bool, list[str]]]:
    """Each row as text, the network named only on its block's first row (as in the report).

    The flag marks a block's first row, where the renderers draw a rule.
    """
    rows, previous = [], None
    for (network, label), values in table.iterrows():
        cells = ["" if pd.isna(v) else _FORMATS[label].format(v) for v in values]
        rows.append((network != previous, [network if network != previous else "", label, *cells]))
        previous = network
    return rows


def _titles(tables: dict[str, pd.DataFrame]) -> list[str]:
    return [table.attrs.get("title", f"Table {i}: {name} networks")
            for i, (name, table) in enumerate(tables.items(), 1)]


def to_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """GitHub-flavoured Markdown, written by hand: pandas' to_markdown needs tabulate."""
    parts = []
    for title, table in zip(_titles(tables), tables.values()):
        lines = [["Network", "Quantity", *map(str, table.columns)], ["---", "---", *["---:"] * len(table.columns)]]
        lines += [cells for _, cells in _text_rows(table)]
        parts.append(f"### {title}\n\n" + "\n".join("| " + " | ".join(cells) + " |" for cells in lines))
    return "\n\n".join(parts) + "\n"


def to_csv(tables: dict[str, pd.DataFrame]) -> str:
    """All blocks stacked, full precision, one column per N (empty where a network lacks that N)."""
    stacked = pd.concat(tables.values())
    return stacked[sorted(stacked.columns)].reset_index().to_csv(index=False)


_LATEX_ESCAPES = {"α_c(s)": r"$\alpha_c(s)$", "·": r"$\cdot$", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"}
_LATEX_PATTERN = re.compile("|".join(map(re.escape, _LATEX_ESCAPES)))


def _latex(text: str) -> str:
    return _LATEX_PATTERN.sub(lambda m: _LATEX_ESCAPES[m[0]], text)


def to_latex(tables: dict[str, pd.DataFrame]) -> str:
    """One booktabs tabular per table (needs \\usepackage{booktabs})."""
    parts = []
    for title, table in zip(_titles(tables), tables.values()):
        lines = [r"\begin{table}", r"\centering", r"\begin{tabular}{ll" + "r" * len(table.columns) + "}", r"\toprule",
                 " & ".join(["Network", "Quantity", *map(str, table.columns)]) + r" \\"]
        for first, cells in _text_rows(table):
            lines += [r"\midrule"] if first else []
            lines.append(" & ".join(map(_latex, cells)) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_latex(title)}}}", r"\end{table}"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


WRITERS = {"md": to_markdown, "csv": to_csv, "tex": to_latex}


def write_tables(tables: dict[str, pd.DataFrame], out: Path, formats=tuple(WRITERS), stem="tables") -> list[Path]:
    """STEM.md / STEM.csv / STEM.tex in ``out``, for the formats asked for."""
    written = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        path.write_text(WRITERS[fmt](tables), encoding="utf-8")
        written.append(path)
    return written


def print_tables(tables: dict[str, pd.DataFrame], console: Console | None = None) -> None:
    """The tables on the terminal, a rule between networks."""
    console = console or Console()
    for title, table in zip(_titles(tables), tables.values()):
        view = Table(title=title, title_justify="left")
        view.add_column("Network", style="bold")
        view.add_column("Quantity")
        for value in table.columns:
            view.add_column(f"{table.columns.name or 'N'}={value}", justify="right")
        for i, (first, cells) in enumerate(_text_rows(table)):
            if first and i:
                view.add_section()
            view.add_row(*cells)
        console.print(view)
