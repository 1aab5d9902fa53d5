"""What goes where: the study's figures and tables into docs/text/, and its blocks into docs/text.md between
their markers (a block is replaced whole; the prose around it is the page's own).

results/text/topology/ (one width, every activation x density) is tabulated apart from the state study: its
cells are not the study's answers. results/text/widths/, memorize-settled/ (a job of memorize-settled-long
in place of the same encoder, L and seed: settled longer) and topology-widths/ are the answers at the top of
docs/text.md and of its topology section.
"""

from __future__ import annotations

from pathlib import Path

from memcap.aggregate.text_study.answers import NO_TOPOLOGY_ANSWER, answers, questions, topology_answer
from memcap.aggregate.text_study.collect import (
    ANSWER_PARTS,
    MEMORIZE_SETTLED,
    MEMORIZE_SETTLED_LONG,
    MODELS,
    TOPOLOGY,
    TOPOLOGY_WIDTHS,
    WIDTHS,
    load,
    longest_settled,
    part,
)
from memcap.aggregate.text_study.figures import (
    fig_memorize,
    fig_memorize_settled,
    fig_state_accuracy,
    fig_state_bits,
    fig_where,
    fig_where_encoder,
)
from memcap.aggregate.text_study.study import tables, topology_table

BEGIN, END = "<!-- text_study:begin (scripts/text_figures.py writes this) -->", "<!-- text_study:end -->"
TOPOLOGY_BEGIN = "<!-- text_topology:begin (scripts/text_figures.py writes this) -->"
TOPOLOGY_END = "<!-- text_topology:end -->"
QUESTIONS_BEGIN = "<!-- text_questions:begin (scripts/text_figures.py writes this) -->"
QUESTIONS_END = "<!-- text_questions:end -->"
ANSWERS_BEGIN = "<!-- text_answers:begin (scripts/text_figures.py writes this) -->"
ANSWERS_END = "<!-- text_answers:end -->"
TOPOLOGY_ANSWER_BEGIN = "<!-- text_topology_answer:begin (scripts/text_figures.py writes this) -->"
TOPOLOGY_ANSWER_END = "<!-- text_topology_answer:end -->"


def write_between(doc: Path, begin: str, end: str, markdown: str) -> bool:
    """Replace what lies between ``begin`` and ``end`` in ``doc`` with ``markdown`` (its title dropped, its sections
    one level down); False where the doc has no such markers."""
    if not doc.exists() or begin not in doc.read_text():
        return False
    head, rest = doc.read_text().split(begin, 1)
    _, tail = rest.split(end, 1)
    body = "\n".join(("#" + line if line.startswith("## ") else line) for line in markdown.splitlines()[2:])
    doc.write_text(f"{head}{begin}\n{body.strip()}\n{end}{tail}")
    return True


def write(results: Path, out: Path, doc: Path) -> list[str]:
    """Every figure and table of the study from the finished jobs under ``results`` into ``out``, and the blocks
    into ``doc`` where it has their markers; what was written, one line each."""
    out.mkdir(parents=True, exist_ok=True)
    found, skipped = load(results)
    parts = {name: [r for r in found if part(r) == name] for name in ANSWER_PARTS}
    study_results = [r for r in found if part(r) not in ANSWER_PARTS]
    written = [fig_state_accuracy(study_results, out), fig_state_accuracy(study_results, out, "scalar"),
               fig_state_bits(study_results, out), fig_memorize(study_results, out), fig_where(study_results, out)]
    study = tables(study_results, [s for s in skipped if s.split("/")[0] not in ANSWER_PARTS])
    (out / "text_study.md").write_text(study)
    written.append(out / "text_study.md")
    topology_md = topology_table(parts[TOPOLOGY], [s for s in skipped if s.split("/")[0] == TOPOLOGY])
    if topology_md:
        (out / "text_topology.md").write_text(topology_md)
        written.append(out / "text_topology.md")
    written += [fig_where_encoder(parts[WIDTHS], model, out) for model in MODELS]
    memorized = longest_settled(parts[MEMORIZE_SETTLED] + parts[MEMORIZE_SETTLED_LONG])
    written.append(fig_memorize_settled(memorized, out))
    # the page's alone (no file in docs/text/): its links are to the page's own sections
    questions_md = questions(parts[WIDTHS], memorized, parts[TOPOLOGY_WIDTHS])
    answers_md = answers(parts[WIDTHS], memorized)
    if answers_md:
        (out / "text_answers.md").write_text(answers_md)
        written.append(out / "text_answers.md")
    topology_answer_md = topology_answer(parts[TOPOLOGY_WIDTHS], parts[WIDTHS])
    if topology_answer_md:
        (out / "text_topology_answer.md").write_text(topology_answer_md)
        written.append(out / "text_topology_answer.md")
    lines = [str(p) for p in written if p]
    blocks = [(QUESTIONS_BEGIN, QUESTIONS_END, questions_md, "the answers in one table"),
              (BEGIN, END, study, "the study's tables"), (ANSWERS_BEGIN, ANSWERS_END, answers_md, "the answer table"),
              (TOPOLOGY_BEGIN, TOPOLOGY_END, topology_md, "the topology table"),
              (TOPOLOGY_ANSWER_BEGIN, TOPOLOGY_ANSWER_END, topology_answer_md or NO_TOPOLOGY_ANSWER, "the topology answer")]
    for begin, end, markdown, what in blocks:
        if markdown and write_between(doc, begin, end, markdown):
            lines.append(f"{doc} ({what} between its markers)")
    return lines
