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
"Table i: NAME networks" unless its ``attrs["title"]`` says otherwise (LaTeX
numbers its tables itself: there the caption is the title without "Table i:").

A cell whose number is only a bound carries a mark (``attrs["marks"]``,
{(network, quantity, column): mark}), shown in every format and explained
under the table (``NOTES``): "≥" before a capped cell's capacity numbers (the
search reached its ceiling still passing), "†" after an unconverged cell's
maximum (its best run stopped at the step cap), "‡" after a mean that counts
runs stopped before their plateau (by the search's fail-fast rules or the step cap). The CSV, for machines, keeps
its numbers numeric and adds a 0/1 row per mark instead (``FLAG_ROWS``).

The aggregation imports neither torch nor Hydra (tests/aggregate/test_aggregate.py checks).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from memcap.search import before_plateau, converged
from memcap.theory import gardner_bound

_IDENTITY = ("model", "loss", "steps")  # what a network is named by
_PER_CELL = ("N", "seed")  # the columns, and what a cell combines
_MODEL_ORDER = {"simple": 0, "recurrent": 1}  # the report's order; others after

# (row label, summary column, format); rows without a value in a block are left out.
ROWS = [
    ("Maximum number of memorized patterns", "memorized_max", "{:.0f}"),
    ("Most patterns stored at any DS tried", "max_stored", "{:.0f}"),
    ("Accuracy [%]", "accuracy_pct", "{:.2f}"),
    ("Mean of memorized patterns", "memorized_mean", "{:.2f}"),
    ("Standard deviation of memorized patterns", "memorized_std", "{:.2f}"),
    ("DS searched (capacity DS)", "capacity_ds", "{:.0f}"),
    ("Perfect-recall DS", "perfect_ds", "{:.0f}"),
    ("Trainable parameters", "params", "{:.0f}"),
    ("Bits per parameter", "bits_per_param", "{:.3f}"),
    ("Gardner bound α_c(s)·N", "gardner_bound", "{:.1f}"),
    ("Memorized / bound", "bound_ratio", "{:.3f}"),
    # The oracle's interval on the same datasets, each end averaged over the runs' datasets (one decimal:
    # a mean): the lower end is achieved by weights the LPs found, the upper end is proven.
    ("Oracle lower bound (achieved)", "oracle_memorized", "{:.1f}"),
    ("Oracle upper bound (proven)", "oracle_upper", "{:.1f}"),
    ("Ratio to the lower bound", "oracle_ratio", "{:.3f}"),
    ("Ratio to the proven upper bound", "oracle_ratio_upper", "{:.3f}"),
    ("Wall time [s] (the cell's jobs, every attempt)", "wall_time", "{:.0f}"),
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
# memcap.text.config.ARCHITECTURES, the order docs/text.md lists them in; repeated here so that the
# aggregation does not import memcap.config (Hydra, torch). tests/aggregate/test_aggregate.py checks they agree.
TEXT_ARCHITECTURES = ("rnn", "lstm", "gru", "transformer", "dense", "hybrid")
_TEXT_ORDER = {name: i for i, name in enumerate(TEXT_ARCHITECTURES)}
_TEXT_BEST_JOB = ("min_hidden", "state_size", "params", "encoder_params", "train_char", "train_exact",
                  "heldout_char", "bits", "bits_per_neuron", "bits_per_param")
# Taken from a cell's best job; the oracle columns only when a result reports them.
_BEST_JOB = ("memorized_max", "max_stored", "capacity_ds", "perfect_ds", "params", "bits_per_param",
             "oracle_memorized", "oracle_ratio", "oracle_upper", "oracle_ratio_upper")

# Marks on cells whose number is a bound: the summary flag, the summary columns it marks, prefix or suffix.
CAPPED, UNCONVERGED, BEFORE_PLATEAU = "≥", "†", "‡"
_MARKED = {"capped": (CAPPED, ("memorized_max", "capacity_ds", "bits_per_param", "bound_ratio"), "prefix"),
           "unconverged": (UNCONVERGED, ("memorized_max",), "suffix"),
           "before_plateau": (BEFORE_PLATEAU, ("memorized_mean",), "suffix")}
NOTES = {
    CAPPED: "capped: the search reached its ceiling (search.max_ds or C(N, k)) still passing, "
            "so the capacity is at least this",
    UNCONVERGED: "unconverged: a run at the capacity DS or at the DS tried next above it stopped at the step cap "
                 "(trainer.max_steps) before memorizing all or reaching its patience, so the capacity is a lower bound",
    BEFORE_PLATEAU: "before its plateau: a run at the capacity DS stopped by the search's fail-fast rules "
                    "(\"short\": it could not pass the round's threshold; \"nothing\") or at the step cap, or "
                    "(decided by LPs) a run that cannot store its dataset whole counts what the LPs' weights "
                    "recall, so the mean is a lower bound",
}
# The CSV's rows for the marks (1 where a cell is marked, 0 elsewhere), in blocks that have one.
FLAG_ROWS = {CAPPED: "Capped: capacity is a lower bound", UNCONVERGED: "Unconverged: capacity is a lower bound",
             BEFORE_PLATEAU: "Before plateau: mean is a lower bound"}


def _with_varying_keys(df: pd.DataFrame, labels: pd.Series, named: tuple[str, ...]) -> pd.Series:
    """``labels`` plus " · key=value" for every config key not in ``named`` that varies within a label."""
    others = [k for k in df.attrs["config_keys"] if k not in named]
    for _, jobs in df.groupby(labels.copy(), sort=False):
        for key in others:
            if jobs[key].map(str).nunique() > 1:
                labels[jobs.index] += f" · {key}=" + jobs[key].map(str)
    return labels


def network_labels(df: pd.DataFrame) -> pd.Series:
    """Each job's network label: model · loss [· k steps] [· decided by LPs] [· key=value for keys varying
    within it]."""
    steps = df["steps"].map(lambda n: f" · {n} steps" if n > 1 else "")
    by = (df["decide"] == "solver").map({True: " · decided by LPs", False: ""}) if "decide" in df else ""
    return _with_varying_keys(df, df["model"] + " · " + df["loss"] + steps + by, _IDENTITY + _PER_CELL + ("decide",))


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
        cell = {"network": network, "model": best.model, "loss": best.loss, "steps": best.steps, "s": best.s, "N": N,
                "jobs": len(jobs),
                "accuracy_pct": 100 * best.accuracy,
                "wall_time": jobs["wall_time"].sum(min_count=1) if "wall_time" in jobs else np.nan,
                "memorized_mean": runs.mean() if runs.size else np.nan,
                "memorized_std": runs.std() if runs.size else np.nan,  # population std, as the report
                **{k: best[k] for k in _BEST_JOB if k in best}}
        # Gardner's bound caps error-free recall; bce_ignore's criterion counts a pattern with up to #bti
        # wrong bits of each kind (the report's "bits to ignore"), which the bound does not cap. NaN where
        # it does not apply: the columns exist even when no cell has a bound (a recurrent-only sweep).
        cell["gardner_bound"] = cell["bound_ratio"] = np.nan
        if best.model == "simple" and best.get("loss") != "bce_ignore":
            cell["gardner_bound"] = gardner_bound(N, best.s)
            cell["bound_ratio"] = best.memorized_max / cell["gardner_bound"]
        capped = best.get("capped")  # absent in older results; null or NaN where another job lacks it
        cell["capped"] = isinstance(capped, (bool, np.bool_)) and bool(capped)
        cell["unconverged"] = _unconverged(best)
        cell["before_plateau"] = any(_before_plateau(job) for _, job in jobs.iterrows())  # the mean pools every job's runs
        cells.append(cell)
    return pd.DataFrame(cells)


def _unconverged(job: pd.Series) -> bool:
    """Is the job's answer the step cap's? Recomputed from its points by ``memcap.search.converged``,
    so that results written under an older, stricter rule are judged by the current one; without points, its
    ``converged`` metric."""
    if isinstance(job.get("points"), list) and not pd.isna(job.get("capacity_ds")):
        perfect = None if pd.isna(job.get("perfect_ds")) else int(job["perfect_ds"])
        return not converged(job["points"], int(job["capacity_ds"]), perfect)
    if isinstance(job.get("converged"), (bool, np.bool_)):
        return not job["converged"]
    return False


def _before_plateau(job: pd.Series) -> bool:
    """Is the job's mean a lower bound: does it count a run at its capacity DS that stopped before its plateau
    (``memcap.search.before_plateau``), or, decided by LPs, a run below DS (its count what LP weights recall)?"""
    if not isinstance(job.get("points"), list) or pd.isna(job.get("capacity_ds")):
        return False
    if job.get("decided_by") == "solver":
        return min(job["memorized_runs"]) < job["capacity_ds"]
    return before_plateau(job["points"], int(job["capacity_ds"]))


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
    marks = {}
    for flag, (mark, columns, _) in _MARKED.items():
        if flag not in cells:
            continue
        labels = [label for label, column, _ in rows if column in columns]
        for network, value in cells.loc[cells[flag].fillna(False).astype(bool), ["network", per]].itertuples(index=False):
            marks.update({(network, label, value): mark for label in labels if (network, label) in table.index})
    table.attrs["marks"] = marks
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


def _mark(text: str, mark: str | None) -> str:
    if not mark or not text:
        return text
    placement = next(where for m, _, where in _MARKED.values() if m == mark)
    return mark + text if placement == "prefix" else text + mark


def _text_rows(table: pd.DataFrame) -> list[tuple[bool, list[str]]]:
    """Each row as text, the network named only on its block's first row (as in the report), marks on their cells.

    The flag marks a block's first row, where the renderers draw a rule.
    """
    marks = table.attrs.get("marks", {})
    rows, previous = [], None
    for (network, label), values in table.iterrows():
        cells = [_mark("" if pd.isna(v) else _FORMATS[label].format(v), marks.get((network, label, column)))
                 for column, v in values.items()]
        rows.append((network != previous, [network if network != previous else "", label, *cells]))
        previous = network
    return rows


def _captions(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Each table's caption, unnumbered: its ``attrs["title"]`` or "NAME networks"."""
    return [table.attrs.get("title", f"{name} networks") for name, table in tables.items()]


def _titles(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Each table's title where the format does not number tables itself: "Table i: NAME networks"."""
    return [table.attrs.get("title", f"Table {i}: {caption}")
            for i, (caption, table) in enumerate(zip(_captions(tables), tables.values()), 1)]


def _notes(table: pd.DataFrame) -> list[str]:
    """The explanation of each mark the table uses, in NOTES' order: "≥ capped: ..."."""
    used = set(table.attrs.get("marks", {}).values())
    return [f"{mark} {text}" for mark, text in NOTES.items() if mark in used]


def _header(table: pd.DataFrame, value) -> str:
    return f"{table.columns.name or 'N'}={value}"


def to_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """GitHub-flavoured Markdown, written by hand: pandas' to_markdown needs tabulate; the marks' notes below."""
    parts = []
    for title, table in zip(_titles(tables), tables.values()):
        lines = [["Network", "Quantity", *map(str, table.columns)], ["---", "---", *["---:"] * len(table.columns)]]
        lines += [cells for _, cells in _text_rows(table)]
        part = f"### {title}\n\n" + "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
        notes = _notes(table)
        parts.append(part + ("\n\n" + "\\\n".join(notes) if notes else ""))
    return "\n\n".join(parts) + "\n"


def _csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table for the CSV: integers (rows formatted without decimals) as integers, a 0/1 row per mark used."""
    frame = table.astype(object)
    for (network, label), values in table.iterrows():
        if _FORMATS[label] == "{:.0f}":
            frame.loc[(network, label)] = [None if pd.isna(v) else int(round(v)) for v in values]
    marks = table.attrs.get("marks", {})
    rows = []
    for network in dict.fromkeys(table.index.get_level_values("Network")):
        rows += [frame.loc[[network]]]
        for mark, label in FLAG_ROWS.items():
            marked = {column for (n, _, column), m in marks.items() if n == network and m == mark}
            if marked:
                flags = pd.DataFrame([[int(column in marked) for column in table.columns]], columns=table.columns,
                                     index=pd.MultiIndex.from_tuples([(network, label)], names=table.index.names))
                rows.append(flags.astype(object))
    return pd.concat(rows)


def to_csv(tables: dict[str, pd.DataFrame]) -> str:
    """All blocks stacked, full precision, integers as integers, one column per N (empty where a network lacks that N).

    A block with marked cells gets a 0/1 row per mark (``FLAG_ROWS``) instead of marks in its numbers.
    """
    stacked = pd.concat([_csv_frame(table) for table in tables.values()])
    return stacked[sorted(stacked.columns)].reset_index().to_csv(index=False)


_LATEX_ESCAPES = {"α_c(s)·N": r"$\alpha_c(s) \cdot N$", "α_c(s)": r"$\alpha_c(s)$", "·": r"$\cdot$", "≥": r"$\geq$", "†": r"$^\dagger$", "‡": r"$^\ddagger$",
                  "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"}
_LATEX_PATTERN = re.compile("|".join(map(re.escape, _LATEX_ESCAPES)))


def _latex(text: str) -> str:
    return _LATEX_PATTERN.sub(lambda m: _LATEX_ESCAPES[m[0]], text)


def _label(name: str) -> str:
    return "tab:" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _latex_header(table: pd.DataFrame, value) -> str:
    """A column header: "$N = 10$" for a one-letter name (N, L), "density = 0.5" otherwise."""
    name = table.columns.name or "N"
    return f"${name} = {value}$" if len(name) == 1 else f"{_latex(name)} = {value}"


def to_latex(tables: dict[str, pd.DataFrame]) -> str:
    """One booktabs table per table, through pandas' Styler (needs \\usepackage{booktabs}).

    Columns headed "$N = 10$", a rule between networks, the caption once (LaTeX
    numbers it) with the marks' notes, and a label "tab:NAME" to \\ref.
    """
    parts = []
    for caption, (name, table) in zip(_captions(tables), tables.items()):
        rows = _text_rows(table)
        body = pd.DataFrame([[_latex(cell) for cell in cells] for _, cells in rows],
                            columns=["Network", "Quantity", *(_latex_header(table, c) for c in table.columns)])
        text = " ".join([_latex(caption) + ".", *(_latex(note) + "." for note in _notes(table))])
        latex = body.style.hide(axis="index").to_latex(
            column_format="ll" + "r" * len(table.columns), hrules=True, caption=text, label=_label(name),
            position_float="centering", environment="table")
        lines = latex.splitlines()
        start = lines.index(r"\midrule") + 1  # the header's rule; one line per row after it
        for i in reversed([i for i, (first, _) in enumerate(rows) if first and i]):
            lines.insert(start + i, r"\midrule")
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
        view = Table(title=title, title_justify="left", caption="\n".join(_notes(table)) or None,
                     caption_justify="left")
        view.add_column("Network", style="bold")
        view.add_column("Quantity")
        for value in table.columns:
            view.add_column(_header(table, value), justify="right")
        for i, (first, cells) in enumerate(_text_rows(table)):
            if first and i:
                view.add_section()
            view.add_row(*cells)
        console.print(view)
