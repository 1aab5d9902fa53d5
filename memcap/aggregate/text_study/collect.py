"""The text study's finished results: read from results/text/, told apart by the study's part, grouped."""

from __future__ import annotations

from pathlib import Path

from memcap.results import read_result

MODELS = ("rnn", "lstm", "gru", "transformer", "dense", "hybrid")
# The study's parts (folders under results/text/) tabulated on their own, not in the study's tables:
TOPOLOGY = "topology"  # the one-width topology study (docs/text/text_topology.md)
WIDTHS = "widths"  # the fewest state numbers, at the top of docs/text.md
MEMORIZE_SETTLED = "memorize-settled"  # memorization over seeds, its deciding failures settled
MEMORIZE_SETTLED_LONG = "memorize-settled-long"  # the same jobs settled longer, for counts still at the cap
TOPOLOGY_WIDTHS = "topology-widths"  # the topology answer, every arm searched as the widths study does
ANSWER_PARTS = (TOPOLOGY, WIDTHS, TOPOLOGY_WIDTHS, MEMORIZE_SETTLED, MEMORIZE_SETTLED_LONG)


def load(root: Path) -> tuple[list[dict], list[str]]:
    """The finished state and memorization jobs under ``root`` (each with its ``path`` below it), and one line for
    every result.json not finished or not readable."""
    found, skipped = [], []
    for path in sorted(root.rglob("result.json")):
        result = read_result(path)
        if isinstance(result, str) or result.get("status") != "ok":
            skipped.append(f"{path.relative_to(root)}: {result if isinstance(result, str) else result['status']}")
            continue
        if result["config"].get("search") in ("state", "memorize"):
            result["path"] = str(path.relative_to(root))
            found.append(result)
    return found, skipped


def part(result) -> str:
    """The study's part a result belongs to: its first folder under results/text/."""
    return result["path"].split("/")[0]


def order(results):
    """Encoders in MODELS' order, then L, then the input encoding."""
    return sorted(results, key=lambda r: (MODELS.index(r["config"]["model"]) if r["config"]["model"] in MODELS else 9,
                                          r["config"]["length"], r["config"]["encoding"]))


def select(results, search, vary=None, encoding="onehot", frozen=None):
    """The results of one search (and what it varies, the input encoding, the encoder frozen or not), ordered."""
    out = []
    for r in results:
        c = r["config"]
        if c["search"] != search or c["encoding"] != encoding:
            continue
        if vary is not None and c.get("vary") != vary:
            continue
        if frozen is not None and bool(c.get("freeze_encoder")) != frozen:
            continue
        out.append(r)
    return order(out)


def per_length_and_encoder(results) -> list[tuple[tuple[int, str], list[dict]]]:
    """The results grouped by (L, encoder), L first and the encoders in MODELS' order, each group by seed."""
    cells: dict[tuple[int, str], list[dict]] = {}
    for r in results:
        cells.setdefault((r["config"]["length"], r["config"]["model"]), []).append(r)
    return [(key, sorted(cells[key], key=lambda r: r["config"]["seed"]))
            for key in sorted(cells, key=lambda c: (c[0], MODELS.index(c[1])))]


def settle_factor(result) -> int:
    """How many times the search's step cap a deciding failure was trained to (``search.settle_factor``; 0: off)."""
    return result["config"].get("settle_factor") or 0


def longest_settled(results) -> list[dict]:
    """One job per encoder, L and seed: the one whose deciding failures were settled longest
    (``search.settle_factor``). A longer settling runs the same search on the same strings and only trains the
    counts that stopped at the cap further, so its answer supersedes the shorter one's."""
    best: dict[tuple, dict] = {}
    for r in results:
        c = r["config"]
        key = (c["model"], c["length"], c["seed"])
        if key not in best or settle_factor(r) > settle_factor(best[key]):
            best[key] = r
    return list(best.values())
