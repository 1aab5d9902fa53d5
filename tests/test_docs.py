"""The commands the docs show are the commands that work: each composes and passes validation.

Every `python train.py ...` / `memcap train ...` line in README.md, conf/README.md
and docs/*.md is parsed as Hydra parses it, its sweeps expanded into their jobs,
and each job's config composed and checked by its task's ``validate`` (nothing
is trained: the jobs behind them are the tests elsewhere). A doc command that
breaks (a renamed key, a removed option) fails here.
"""

from __future__ import annotations

import itertools
import re
import shlex

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from memcap import configs, tasks
from tests.helpers import ROOT

DOCS = [ROOT / "README.md", ROOT / "conf" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"^\s+(?:python train\.py|memcap train)(?P<args>(?:\s.*)?)$")


def doc_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            match = COMMAND.match(line)
            if match:
                args = match["args"].split(" #")[0].strip()  # drop the trailing comment
                found.append((f"{doc.relative_to(ROOT)}:{number}", args))
    return found


def jobs(args: str) -> list[list[str]]:
    """The jobs a command line runs: its sweeps expanded (Hydra's own parser), Hydra's settings left out."""
    words = [w for w in shlex.split(args) if w not in ("-m", "--multirun") and not w.startswith("--")]
    words = [w for w in words if w not in ("job", "hydra")]  # the argument of --cfg
    parsed = OverridesParser.create().parse_overrides(words)
    choices = []
    for override in parsed:
        if override.get_key_element().startswith("hydra"):
            continue
        if override.is_sweep_override():
            values = list(override.sweep_string_iterator())
            prefix = override.get_key_element()
            choices.append([f"{prefix}={value}" for value in values])
        else:
            choices.append([override.input_line])
    return [list(combination) for combination in itertools.product(*choices)]


COMMANDS = doc_commands()


def test_the_docs_show_commands():
    assert len(COMMANDS) >= 15  # README, conf/README and docs/ together


@pytest.mark.parametrize("where,args", COMMANDS, ids=[where for where, _ in COMMANDS])
def test_a_doc_command_composes_and_validates(where, args):
    for overrides in jobs(args):
        cfg = configs.compose("logger=none", *overrides)
        tasks.module(cfg.data.name, "config").validate(cfg)


def test_no_file_keeps_a_merge_conflict():
    """A merge left unresolved in a doc or a source file (it happened: conf/README.md showed both sides)."""
    files = [*DOCS, *ROOT.glob("memcap/**/*.py"), *ROOT.glob("conf/**/*.yaml"), *ROOT.glob("scripts/*.py"),
             *ROOT.glob("tests/*.py")]
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    assert [str(f.relative_to(ROOT)) for f in files if marker.search(f.read_text())] == []


def test_the_full_size_table_is_the_committed_results():
    """docs/results.md's full-size table is results/full_size/beside_report.md, and that file is what
    memcap-aggregate --beside-report writes now from the committed results/report_table1 and
    results/design_card: a job committed without rerunning the command, or a change of the aggregation,
    fails here instead of leaving the published table stale."""
    from memcap.aggregate import load_dirs
    from memcap.aggregate.published import beside_report, to_markdown

    committed = (ROOT / "results" / "full_size" / "beside_report.md").read_text()
    df, _ = load_dirs([ROOT / "results" / "report_table1", ROOT / "results" / "design_card"])
    assert to_markdown(beside_report(df)) == committed
    docs = (ROOT / "docs" / "results.md").read_text()
    shown = docs.split("<!-- full-size table: results/full_size/beside_report.md -->\n")[1]
    assert shown.split("<!-- end of full-size table -->")[0] == committed


def test_the_exact_table_is_the_committed_results():
    """docs/results.md's table of training against the exact answer is what memcap-aggregate --beside-report
    writes now (against_solver.md) from the committed results/table1_exact, table1_exact_ignore and report_table1."""
    from memcap.aggregate import load_dirs
    from memcap.aggregate.exact import against_solver
    from memcap.aggregate.published import to_markdown

    committed = (ROOT / "results" / "table1_exact" / "aggregate" / "against_solver.md").read_text()
    df, _ = load_dirs([ROOT / "results" / dir_ for dir_ in ("table1_exact", "table1_exact_ignore", "report_table1")])
    assert to_markdown(against_solver(df)) == committed
    docs = (ROOT / "docs" / "results.md").read_text()
    shown = docs.split("<!-- exact table: results/table1_exact/aggregate/against_solver.md -->\n")[1]
    assert shown.split("<!-- end of exact table -->")[0] == committed


def test_the_separability_tables_are_the_committed_results():
    """docs/text/text_tables.md is what memcap-aggregate writes now from the committed results/text/neurons, and
    docs/text.md quotes its smallest widths: a rerun not committed, or a change of the aggregation, fails here."""
    from memcap.aggregate import load_dirs, text_tables
    from memcap.aggregate.tables import WRITERS

    df, skipped = load_dirs([ROOT / "results" / "text" / "neurons"])
    assert not skipped and len(df) == 18
    committed = (ROOT / "docs" / "text" / "text_tables.md").read_text()
    assert WRITERS["md"](text_tables(df)) == committed
    doc = (ROOT / "docs" / "text.md").read_text()
    for model, rows in df.groupby("model"):
        widths = r" \([^)]*\) \| ".join(str(h) for h in rows.sort_values("length").min_hidden)
        assert re.search(rf"^\| {model} \| {widths} \(", doc, re.M), model


def test_the_topology_answer_is_the_committed_results():
    """docs/topology.md's answer tables are what memcap-aggregate writes (topology_capacity.md) from the committed
    results/topology_capacity/simple (N=50), simple_n100 and recurrent_activations."""
    from memcap.aggregate import load_dirs
    from memcap.aggregate.published import to_markdown
    from memcap.aggregate.topology import capacity_comparison

    docs = (ROOT / "docs" / "topology.md").read_text()
    for runs, aggregate, label in (("simple", "aggregate", ""), ("simple_n100", "aggregate_n100", " N=100"),
                                   ("recurrent_activations", "aggregate_recurrent_activations", " recurrent activations")):
        committed = (ROOT / "results" / "topology_capacity" / aggregate / "topology_capacity.md").read_text()
        df, skipped = load_dirs([ROOT / "results" / "topology_capacity" / runs])
        assert not skipped and to_markdown(capacity_comparison(df)) == committed
        marker = f"<!-- topology capacity table{label}: results/topology_capacity/{aggregate}/topology_capacity.md -->\n"
        assert docs.split(marker)[1].split(f"<!-- end of topology capacity table{label} -->")[0] == committed


def test_the_text_pages_are_the_committed_results(tmp_path):
    """docs/text.md's blocks (the answers at the top, the study's tables, the topology tables and answer) and the
    tables in docs/text/ are what scripts/text_figures.py writes now from the committed results/text/."""
    import shutil

    from memcap.aggregate.text_study.pages import write

    page = tmp_path / "text.md"
    shutil.copy(ROOT / "docs" / "text.md", page)
    written = write(ROOT / "results" / "text", tmp_path / "text", page)
    assert sum(line.startswith(str(page)) for line in written) == 5  # every block found its markers
    assert page.read_text() == (ROOT / "docs" / "text.md").read_text()
    for table in sorted((tmp_path / "text").glob("*.md")):
        assert table.read_text() == (ROOT / "docs" / "text" / table.name).read_text(), table.name


def _section(doc: str, heading: str) -> str:
    """The text of docs/cli.md under ``heading``, up to the next heading of its level."""
    start = doc.index(f"\n## {heading}\n")
    end = doc.find("\n## ", start + 1)
    return doc[start:end if end > 0 else None]


@pytest.mark.parametrize("command, main", [("memcap aggregate", "memcap.aggregate.cli"), ("memcap status", "memcap.status")])
def test_the_cli_reference_lists_exactly_the_options_of_each_commands_help(command, main, capsys):
    """docs/cli.md's section for a command names every option its ``--help`` shows, and no other: a new or
    renamed flag fails here until the reference says it."""
    import importlib

    with pytest.raises(SystemExit):
        importlib.import_module(main).main(["--help"])
    shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", capsys.readouterr().out)) - {"--help"}
    documented = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", _section((ROOT / "docs" / "cli.md").read_text(), command)))
    assert shown == documented - {"--help"}


def test_the_recipe_table_is_the_committed_results():
    """docs/recipe.md's recipes against the exact answer are what memcap-aggregate --beside-report writes now
    (against_solver.md) from the committed results/recipe_vs_exact."""
    from memcap.aggregate import load_dirs
    from memcap.aggregate.exact import against_solver
    from memcap.aggregate.published import to_markdown

    committed = (ROOT / "results" / "recipe_vs_exact" / "aggregate" / "against_solver.md").read_text()
    df, _ = load_dirs([ROOT / "results" / "recipe_vs_exact"])
    assert to_markdown(against_solver(df)) == committed
    docs = (ROOT / "docs" / "recipe.md").read_text()
    shown = docs.split("<!-- recipe table: results/recipe_vs_exact/aggregate/against_solver.md -->\n")[1]
    assert shown.split("<!-- end of recipe table -->")[0] == committed
