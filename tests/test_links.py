"""Every link and image in the manual resolves, inside the repository.

README.md, docs/**/*.md, conf/README.md, benchmarks/README.md and results/*/README.md:
each relative link target (``[text](path)``, ``![alt](path)``, ``[label]: path``,
``<img src="path">``) must name a file or directory of the checkout, and none may
point outside it (``../shared/...``, an absolute path, ``file:``): what a clone does
not hold is cited, not linked. A ``#anchor`` on a Markdown target must name one of
that file's headings (GitHub's slugs). Web links (``http(s):``, ``mailto:``) are not
fetched. Code (fenced blocks, indented blocks, `inline spans`) is not read as links.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT


def manual() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "conf" / "README.md", ROOT / "benchmarks" / "README.md",
             *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "results").glob("*/README.md"))]
    return [f for f in files if f.exists()]


INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
IMG = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.I)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
WEB = ("http://", "https://", "mailto:")


def prose(text: str) -> str:
    """The text less its code blocks (fenced, or indented by four after a blank line), blanked line for line,
    so a link's target is read only where Markdown reads one."""
    out, fenced, code, blank = [], False, False, True
    for line in text.splitlines():
        if re.match(r"^ {0,3}(```|~~~)", line):
            fenced = not fenced
            out.append("")
            continue
        indented = line.startswith(("    ", "\t"))
        code = indented and (code or blank)
        blank = line.strip() == ""
        out.append("" if fenced or code else line)
    return "\n".join(out)


def targets(text: str) -> list[str]:
    # a code span that holds "](" is code, not a link; one inside a link's text ([`x`](y)) holds none
    text = CODE_SPAN.sub(lambda m: " " if "](" in m.group(0) else m.group(0), prose(text))
    found = INLINE.findall(text) + REFERENCE.findall(text) + IMG.findall(text)
    return [t for t in found if t]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    heading = heading.strip().lower().replace("`", "")
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose(doc.read_text()).splitlines():
        match = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match[1])
            n = seen.get(base, 0)
            seen[base] = n + 1
            result.add(base if n == 0 else f"{base}-{n}")
    result |= set(re.findall(r"<a\s+(?:name|id)=[\"']([^\"']+)[\"']", doc.read_text()))
    return result


def problems(doc: Path) -> list[str]:
    found = []
    for target in targets(doc.read_text()):
        if target.startswith(WEB):
            continue
        path, _, anchor = target.partition("#")
        if path.startswith(("/", "file:", "~")) or re.match(r"^[A-Za-z]:[\\/]", path):
            found.append(f"{target}: an absolute path, outside the repository")
            continue
        resolved = (doc.parent / path).resolve() if path else doc
        if ROOT not in resolved.parents and resolved != ROOT:
            found.append(f"{target}: outside the repository")
            continue
        if not resolved.exists():
            found.append(f"{target}: no such file")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            found.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    return found


DOCS = manual()


def test_the_manual_is_found():
    names = {str(f.relative_to(ROOT)) for f in DOCS}
    assert {"README.md", "conf/README.md", "docs/results.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=[str(f.relative_to(ROOT)) for f in DOCS])
def test_every_link_resolves_inside_the_repository(doc):
    assert problems(doc) == []


def test_a_broken_link_is_caught(tmp_path, monkeypatch):
    """The checks can fail: a missing file, a path out of the checkout, an absolute path, a bad anchor."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# A heading\n")
    doc = tmp_path / "docs" / "page.md"
    doc.write_text(
        "# Page\n\n"
        "[fine](there.md) [fine too](there.md#a-heading) ![self](#page) [web](https://example.org/x)\n"
        "[gone](missing.md) ![gone](img/missing.png) [out](../../shared/seeds/report.txt)\n"
        "[abs](/work/shared/seeds/report.txt) [anchor](there.md#no-such-heading)\n\n"
        "    [in code](not/checked.md)\n\n"
        "`[in a span](not/checked/either.md)`\n"
    )
    assert problems(doc) == [
        "missing.md: no such file",
        "img/missing.png: no such file",
        "../../shared/seeds/report.txt: outside the repository",
        "/work/shared/seeds/report.txt: an absolute path, outside the repository",
        "there.md#no-such-heading: no heading #no-such-heading in docs/there.md",
    ]
