"""Figures and tables of the text study (docs/text.md), from the committed results (results/text/) into docs/text/.

    python scripts/text_figures.py                     # results/text -> docs/text/{state_*,memorize_*}.png, text_study.md,
                                                       # and the tables into docs/text.md between its markers
    python scripts/text_figures.py --results DIR --out DIR

results/text/topology/ (scripts/text_study.py --parts topology: one width, every
activation x density) is tabulated apart, into text_topology.md and docs/text.md
between its own markers: its cells are not the state study's answers. results/text/widths/ (the fewest state
numbers) and results/text/topology-widths/ (each topology against its encoder's own dense network) are the
answers at the top of docs/text.md and of its topology section.

Reads every result.json under --results with memcap.results.read_result (checked
against memcap/text/schema.py); only finished jobs (status ok) are drawn, and
text_study.md lists what was found and what was not.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402
import matplotlib.ticker  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from memcap.results import read_result  # noqa: E402
from memcap.search import settled  # noqa: E402
from memcap.topology import ACTIVATIONS  # noqa: E402

MODELS = ("rnn", "lstm", "gru", "transformer", "dense", "hybrid")
BEGIN, END = "<!-- text_study:begin (scripts/text_figures.py writes this) -->", "<!-- text_study:end -->"
TOPOLOGY_BEGIN = "<!-- text_topology:begin (scripts/text_figures.py writes this) -->"
TOPOLOGY_END = "<!-- text_topology:end -->"
TOPOLOGY = "topology"  # the results/text/ part of the topology study
WIDTHS = "widths"  # ... and of the fewest-state-numbers study, tabulated at the top of docs/text.md
MEMORIZE_SETTLED = "memorize-settled"  # ... and of memorization over seeds, its deciding failures settled
TOPOLOGY_WIDTHS = "topology-widths"  # ... and of the topology answer, every arm searched as the widths study does
TOPOLOGY_ANSWER_BEGIN = "<!-- text_topology_answer:begin (scripts/text_figures.py writes this) -->"
TOPOLOGY_ANSWER_END = "<!-- text_topology_answer:end -->"
NO_TOPOLOGY_ANSWER = f"# -\n\nNo result under results/text/{TOPOLOGY_WIDTHS}/ yet: the table appears here once the study's results are.\n"
OWN_ACTIVATION = "tanh"  # the rnn's and dense encoder's own (conf/model/{rnn,dense}.yaml): their dense reference
ANSWERS_BEGIN = "<!-- text_answers:begin (scripts/text_figures.py writes this) -->"
ANSWERS_END = "<!-- text_answers:end -->"
SEEDS = 3  # seeds per encoder and L before the answer table ranks them
COLLINS, MORRIS = 5.0, 3.6  # bits per parameter: Collins et al. 2017 (RNNs), Morris et al. 2025 (GPT-style)


def load(root: Path) -> tuple[list[dict], list[str]]:
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


def order(results):
    return sorted(results, key=lambda r: (MODELS.index(r["config"]["model"]) if r["config"]["model"] in MODELS else 9,
                                          r["config"]["length"], r["config"]["encoding"]))


def select(results, search, vary=None, encoding="onehot", frozen=None):
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


def curve(result, key="hidden"):
    """Best held-out char accuracy (over the lr grid and seeds) per searched value."""
    best = {}
    for p in result["points"]:
        best[p[key]] = max(best.get(p[key], 0.0), p["heldout_char"])
    return sorted(best.items())


def panels(n, width=4.0, height=3.2):
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, list(axes[0])


def fig_state_accuracy(results, out: Path, encoding="onehot"):
    rs = select(results, "state", "width", encoding)
    lengths = sorted({r["config"]["length"] for r in rs})
    if not lengths:
        return None
    fig, axes = panels(len(lengths))
    for ax, length in zip(axes, lengths):
        for r in rs:
            if r["config"]["length"] != length:
                continue
            i = MODELS.index(r["config"]["model"])
            xs, ys = zip(*curve(r))
            ax.plot(xs, ys, marker=".", color=f"C{i}", label=r["config"]["model"])
            m = r["metrics"]
            if m["min_hidden"] is not None:
                ax.plot([m["min_hidden"]], [m["heldout_char"]], marker="*", ms=12, color=f"C{i}", ls="none")
        ax.axhline(r["config"]["target"], color="k", ls="--", lw=0.8)
        ax.axhline(1 / r["config"]["alphabet_size"], color="grey", ls=":", lw=0.8)
        ax.set(xscale="log", title=f"L = {length} ({encoding})", xlabel="encoder width H",
               ylabel="held-out char accuracy\n(best over lr grid)", ylim=(0, 1.02))
        ticks = [2 ** k for k in range(9)]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    path = out / f"state_accuracy{'' if encoding == 'onehot' else '_' + encoding}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fig_state_bits(results, out: Path):
    rs = select(results, "state", "width")
    if not rs:
        return None
    fig, axes = panels(2)
    for model in MODELS:
        mine = [r for r in rs if r["config"]["model"] == model]
        if not mine:
            continue
        i = MODELS.index(model)
        ls = [r["config"]["length"] for r in mine]
        at_min = [r["metrics"]["fano_bits_per_state"] if r["metrics"]["min_hidden"] else math.nan for r in mine]
        best = [r["metrics"]["max_fano_bits_per_state"] for r in mine]
        axes[0].plot(ls, at_min, marker="o", color=f"C{i}", label=model)
        axes[1].plot(ls, best, marker="o", color=f"C{i}", label=model)
    axes[0].set(title="at the smallest width reaching the target", xlabel="L (characters)",
                ylabel="Fano bits per state number")
    axes[1].set(title="largest over every width trained", xlabel="L (characters)", ylabel="Fano bits per state number")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    path = out / "state_bits_per_number.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fig_memorize(results, out: Path):
    rs = select(results, "memorize")
    if not rs:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r in rs:
        m, c = r["metrics"], r["config"]
        if m["max_count"] is None:
            continue
        i = MODELS.index(c["model"])
        frozen = bool(c.get("freeze_encoder"))
        ax.plot([m["params"]], [m["bits_per_param"]], marker={4: "o", 8: "s", 16: "^"}.get(c["length"], "D"),
                ls="none", ms=7, color=f"C{i}", mfc="none" if frozen else f"C{i}")
    ax.axhline(COLLINS, color="k", ls="--", lw=0.8)
    ax.text(ax.get_xlim()[0], COLLINS, " Collins et al. 2017: ~5 bits/param (RNNs)", va="bottom", fontsize=8)
    ax.axhline(MORRIS, color="k", ls=":", lw=0.8)
    ax.text(ax.get_xlim()[0], MORRIS, " Morris et al. 2025: ~3.6 bits/param (transformers)", va="bottom", fontsize=8)
    for i, model in enumerate(MODELS):
        ax.plot([], [], color=f"C{i}", marker="o", ls="none", label=model)
    ax.plot([], [], color="k", marker="o", mfc="none", ls="none", label="encoder frozen at init")
    for length, marker in ((4, "o"), (8, "s"), (16, "^")):
        ax.plot([], [], color="grey", marker=marker, ls="none", label=f"L = {length}")
    ax.set(xscale="log", xlabel="parameters (encoder + decoder)", ylabel="bits per parameter\n(count x L x log2|A| / params)",
           ylim=(0, max(COLLINS * 1.2, ax.get_ylim()[1])), title="Memorization of random strings (width 8)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2, loc="upper right")
    fig.tight_layout()
    path = out / "memorize_bits_per_param.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def width_below(result) -> tuple[int, float] | None:
    """The width that decided a width search from below (the widest tried under the answer) and its best held-out
    char accuracy: how close the answer came to one grid step smaller. ``metrics.decisive`` where the result has it;
    results from before it: the same rule from the points. None: capped, or nothing tried below."""
    m = result["metrics"]
    if m["capped"] or m["min_hidden"] is None:
        return None
    if m.get("decisive") is not None:
        return m["decisive"], m["decisive_score"]
    tried = [p for p in result["points"] if p["hidden"] < m["min_hidden"]]
    if not tried:
        return None
    width = max(p["hidden"] for p in tried)
    return width, max(p["heldout_char"] for p in tried if p["hidden"] == width)


def below_target(result) -> dict | None:
    """The best network of the widest width whose best network fell short of the target."""
    target, best = result["config"]["target"], {}
    for p in result["points"]:
        if p["hidden"] not in best or p["heldout_char"] > best[p["hidden"]]["heldout_char"]:
            best[p["hidden"]] = p
    short = [p for w, p in sorted(best.items()) if p["heldout_char"] < target and p.get("position_char")]
    return short[-1] if short else None


def where_lines(top, bottom, result, color: str, label: str, short_label=None, ablation_label: str | None = None):
    """One result's lines in a where figure: its forgetting curve at the answer's width (solid) and, dashed, at
    the widest width short of the target (which characters a too-small state keeps) on ``top``; the accuracy
    lost per state number held at its mean, sorted, on ``bottom``. ``short_label(point)``: the dashed line's."""
    m, positions = result["metrics"], range(1, result["config"]["length"] + 1)
    top.plot(positions, m["position_char"], marker=".", color=color, label=label)
    short = below_target(result)
    if short is not None:
        top.plot(positions, short["position_char"], marker=".", color=color, ls="--", lw=0.8,
                 label=short_label(short) if short_label else None)
    drops = sorted(m["ablation"], reverse=True)
    bottom.plot(range(1, len(drops) + 1), drops, marker=".", color=color, label=ablation_label)


def where_figure(rs, path: Path, lines, titles, panel_width: float) -> Path | None:
    """The where figure of results ``rs`` (those with a forgetting curve), one column per L: ``lines(r)`` gives
    a result's (colour, label, short_label, ablation_label) for ``where_lines``, ``titles(top, bottom, L)`` labels a
    column's two panels. None where no result has a forgetting curve."""
    rs = [r for r in rs if r["metrics"].get("position_char")]
    lengths = sorted({r["config"]["length"] for r in rs})
    if not lengths:
        return None
    fig, axes = plt.subplots(2, len(lengths), figsize=(panel_width * len(lengths), 6.2), squeeze=False)
    for col, length in enumerate(lengths):
        top, bottom = axes[0][col], axes[1][col]
        for r in (r for r in rs if r["config"]["length"] == length):
            where_lines(top, bottom, r, *lines(r))
        titles(top, bottom, length)
        top.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.legend(fontsize="xx-small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fig_where(results, out: Path):
    """Forgetting curves and ablation per state number at each architecture's smallest width, one panel per L."""
    def lines(r):
        m = r["metrics"]
        return (f"C{MODELS.index(r['config']['model'])}",
                f"{r['config']['model']} (H={m['hidden']}, PR {m['participation_ratio']:.1f}/{m['state_size']})",
                None, r["config"]["model"])

    def titles(top, bottom, length):
        top.set(title=f"L = {length}: forgetting curve\nsolid: at the target; dashed: widest short",
                xlabel="position (1 = first read)", ylabel="held-out char accuracy")
        bottom.set(title="ablation per state number (sorted)", xlabel="state number (rank)",
                   ylabel="accuracy lost when held at its mean", xscale="log")

    return where_figure(select(results, "state", "width"), out / "state_where.png", lines, titles, 4.0)


def fig_where_encoder(results, model: str, out: Path):
    """Where one encoder keeps the characters, over seeds (results/text/widths): per L, the forgetting curve
    (held-out char accuracy per position) at the smallest width reaching the target (solid) and at the widest
    width short of it (dashed), one line per seed; below, the accuracy lost when each state number is held at
    its mean, sorted, with the participation ratio per seed in the legend. None where the encoder has no result."""
    def lines(r):
        seed, m = r["config"]["seed"], r["metrics"]
        return (f"C{seed}", f"seed {seed}: H={m['hidden']}",
                lambda short: f"seed {seed}: H={short['hidden']} (short)",
                f"seed {seed}: PR {m['participation_ratio']:.1f} of {m['state_size']}")

    def titles(top, bottom, length):
        top.set(title=f"{model}, L = {length}", xlabel="position (1 = first read)", ylabel="held-out char accuracy")
        bottom.set(xlabel="state number (rank)", ylabel="accuracy lost when held at its mean", xscale="log")

    rs = sorted((r for r in results if r["config"]["model"] == model), key=lambda r: r["config"]["seed"])
    return where_figure(rs, out / f"where_{model}.png", lines, titles, 3.6)


def fmt(v, spec="{:.3f}"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return spec.format(v)


def memorize_table(results, encoding: str) -> list[str]:
    """The memorization table's lines for one input encoding, trained and frozen encoders together ([] if none)."""
    trained = select(results, "memorize", encoding=encoding, frozen=False)
    frozen = select(results, "memorize", encoding=encoding, frozen=True)
    if not (trained or frozen):
        return []
    title = "" if encoding == "onehot" else f", {encoding} input"
    lines = [f"## Memorization{title}: the most stored random strings reconstructed (char >= target), width 8", "",
             "| model | L | encoder | count | params (trainable) | decoder share | bits | bits / param | "
             "bits / encoder param | bits / trainable param | code-length bits | generalization bits | held-out char | "
             "converged | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in order(trained + frozen):
        c, m = r["config"], r["metrics"]
        lines.append(f"| {c['model']} | {c['length']} | {'frozen' if m['frozen'] else 'trained'} | "
                     f"{fmt(m['max_count'], '{}')}{'+' if m['capped'] else ''} | {m['params']:,} "
                     f"({m['trainable_params']:,}) | {1 - m['encoder_params'] / m['params']:.2f} | "
                     f"{fmt(m['bits'], '{:.0f}')} | {fmt(m['bits_per_param'])} | "
                     f"{fmt(m['bits'] / m['encoder_params'] if m['bits'] is not None else None)} | "
                     f"{fmt(m['bits_per_trainable_param'])} | {fmt(m['codelength_bits'], '{:.0f}')} | "
                     f"{fmt(m['generalization_bits'], '{:.0f}')} | {fmt(m['heldout_char'])} | "
                     f"{'yes' if m['converged'] else 'no'} | {r['wall_time']:.0f} |")
    return lines + [""]


def tables(results, skipped) -> str:
    lines = ["# Text study: tables", "",
             "Written by `python scripts/text_figures.py` from results/text/ (docs/text.md explains every column).", ""]
    for encoding in ("onehot", "scalar"):
        rs = select(results, "state", "width", encoding)
        if not rs:
            continue
        lines += [f"## State capacity, {encoding}: the smallest width whose held-out char accuracy reaches the target",
                  "", "| model | L | min width | width below: held-out char | state | params (enc.) | lr | "
                  "held-out char / exact | Fano bits | bits / state number | max bits / number | PR | converged | wall s |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rs:
            c, m = r["config"], r["metrics"]
            width = fmt(m["min_hidden"], "{}") if not m["capped"] else f"> {m['hidden']}"
            below = width_below(r)
            below = "–" if below is None else f"{below[0]}: {below[1]:.3f}"
            lines.append(f"| {c['model']} | {c['length']} | {width} | {below} | {m['state_size']} | {m['params']:,} "
                         f"({m['encoder_params']:,}) | {m['lr']} | {fmt(m['heldout_char'])} / {fmt(m['heldout_exact'])} | "
                         f"{fmt(m['fano_bits'], '{:.1f}')} | {fmt(m['fano_bits_per_state'], '{:.2f}')} | "
                         f"{fmt(m['max_fano_bits_per_state'], '{:.2f}')} | {fmt(m['participation_ratio'], '{:.1f}')} | "
                         f"{'yes' if m['converged'] else 'no'} | {r['wall_time']:.0f} |")
        lines.append("")
    rs = select(results, "state", "length")
    if rs:
        lines += ["## State capacity: the largest L a fixed width carries", "",
                  "| model | width | max L | held-out char | Fano bits | bits / state number | converged |",
                  "|---|---|---|---|---|---|---|"]
        for r in rs:
            c, m = r["config"], r["metrics"]
            lines.append(f"| {c['model']} | {m['hidden']} | {fmt(m['max_length'], '{}')} | {fmt(m['heldout_char'])} | "
                         f"{fmt(m['fano_bits'], '{:.1f}')} | {fmt(m['fano_bits_per_state'], '{:.2f}')} | "
                         f"{'yes' if m['converged'] else 'no'} |")
        lines.append("")
    for encoding in ("onehot", "scalar"):
        lines += memorize_table(results, encoding)
    total = sum(r["wall_time"] for r in results)
    per_state = [p["fano_bits_per_state"] for r in results for p in r["points"] if p.get("fano_bits_per_state") is not None]
    if per_state:
        lines += [f"Largest Fano bits per state number over all {len(per_state)} state networks trained: "
                  f"{max(per_state):.2f} (a float32 holds 32).", ""]
    parts = {}
    for r in results:
        part = r["path"].split("/")[0]
        parts[part] = parts.get(part, 0.0) + r["wall_time"]
    lines += [f"{len(results)} finished jobs, {total / 60:.1f} minutes of job wall time in all ("
              + ", ".join(f"{k}: {v / 60:.1f}" for k, v in sorted(parts.items())) + ").", ""]
    if skipped:
        lines += ["Not finished (not drawn):", ""] + [f"- {s}" for s in skipped] + [""]
    return "\n".join(lines)


def curve_cell(network: dict | None) -> str:
    """A network's forgetting curve (held-out char accuracy per position) as a table cell."""
    return " ".join(f"{v:.2f}" for v in network["position_char"]) if network and network.get("position_char") else "–"


def topology_row(r, width: str) -> str:
    """A topology job's cells after its width: accuracy (a * where unconverged), bits, forgetting curve."""
    c, m = r["config"], r["metrics"]
    star = "" if m["converged"] else "*"
    forgetting = curve_cell(m)
    activation = (c.get("activation") or "own") + (f", w0 {c['w0']:g}" if c.get("w0") is not None else "")
    return (f"| {c['model']} | {c['length']} | {activation} | {c['density']} | {width} | "
            f"{m['nonzero_params']:,} ({m['encoder_nonzero_params']:,}) | {m['lr']} | "
            f"{fmt(m['heldout_char'])}{star} / {fmt(m['heldout_exact'])} | {fmt(m['fano_bits'], '{:.1f}')} | "
            f"{fmt(m['fano_bits_per_state'], '{:.2f}')} | {fmt(m['bits_per_nonzero_param'], '{:.5f}')} | "
            f"{fmt(m['bits_per_nonzero_encoder_param'], '{:.4f}')} | {forgetting} | "
            f"{fmt(m['participation_ratio'], '{:.1f}')} | {'yes' if m['converged'] else 'no'} | {r['wall_time']:.0f} |")


def per_seed(result) -> list[float]:
    """Each seed's best held-out char accuracy (over the lr grid) at the answer's width: how far the row's network,
    the best of them, stands from the other seeds."""
    best: dict[int, float] = {}
    for p in result["points"]:
        if p["hidden"] == result["metrics"]["hidden"]:
            best[p["seed_run"]] = max(best.get(p["seed_run"], 0.0), p["heldout_char"])
    return [best[k] for k in sorted(best)]


def topology_table(results, skipped) -> str:
    """The topology study (results/text/topology/): every activation x density at the state study's width, and
    each with its own width search: held-out accuracy, Fano bits per state number and per nonzero parameter, and
    the forgetting curve (held-out char accuracy per position, first read first)."""
    def key(r):
        c = r["config"]
        return (MODELS.index(c["model"]), c["length"],
                ACTIVATIONS.index(c["activation"]) if c.get("activation") in ACTIVATIONS else -1, -(c.get("w0") or 0),
                -c["density"])

    pruned = sorted((r for r in results if r["config"].get("prune") not in (None, "none")),
                    key=lambda r: (*key(r), r["config"]["prune"]))
    kept = [r for r in results if r not in pruned]
    fixed = sorted((r for r in kept if r["config"]["min_hidden"] == r["config"]["max_hidden"]), key=key)
    searched = sorted((r for r in kept if r["config"]["min_hidden"] != r["config"]["max_hidden"]), key=key)
    if not results and not skipped:
        return ""
    head = ("nonzero params (enc.) | lr | held-out char / exact | Fano bits | bits / state number | "
            "bits / nonzero param | bits / nonzero enc. param | forgetting curve (position 1..L) | PR | converged | wall s |")
    rule = "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    lines = ["# Topology on text: activation x density on the state-capacity measure", "",
             "Written by `python scripts/text_figures.py` from results/text/topology/ (docs/text.md explains every "
             "column). A * on the held-out accuracy marks an unconverged cell (a deciding network stopped at the step "
             "cap; converged: no).", ""]
    if fixed:
        lines += ["## At one width (the state study's smallest for tanh, density 1, unless said): does the target hold?",
                  "", f"| model | L | activation | density | width: target | {head} held-out char per seed |",
                  rule + "---|"]
        for r in fixed:
            m = r["metrics"]
            width = f"{m['hidden']}: {'reached' if m['min_hidden'] else 'short'}"
            lines.append(f"{topology_row(r, width)} {' '.join(f'{v:.3f}' for v in per_seed(r))} |")
        lines.append("")
    if searched:
        lines += ["## The smallest width reaching the target, per activation x density", "",
                  f"| model | L | activation | density | min width (width below: held-out char) | {head} "
                  "forgetting curve, widest width short of the target |", rule + "---|"]
        for r in searched:
            m = r["metrics"]
            below = width_below(r)
            width = (f"> {m['hidden']}" if m["capped"] else
                     f"{m['min_hidden']} ({'–' if below is None else f'{below[0]}: {below[1]:.3f}'})")
            lines.append(f"{topology_row(r, width)} {curve_cell(below_target(r))} |")
        lines.append("")
    if pruned:
        lines += ["## Pruning rounds (prune=lottery | random, memcap.text.state.prune): each round's best network", "",
                  "Round 0 is the dense network; each later round removes half the encoder's remaining weights "
                  "(lottery: the smallest trained, across all its matrices; random: the control) and retrains from "
                  "the initialization. The fixed random masks of the same density (model.density) are in the first "
                  "table.", "",
                  "| model | L | width | method | round | encoder density | nonzero enc. params | lr | "
                  "held-out char / exact | Fano bits | bits / nonzero enc. param | converged | meets target |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in pruned:
            c = r["config"]
            for k in r["metrics"]["rounds"]:
                lines.append(f"| {c['model']} | {c['length']} | {c['hidden']} | {c['prune']} | {k['round']} | "
                             f"{k['density']:.3f} | {k['encoder_nonzero_params']:,} | {k['lr']} | "
                             f"{k['heldout_char']:.3f}{'' if k['converged'] else '*'} / {k['heldout_exact']:.3f} | "
                             f"{k['fano_bits']:.1f} | {k['bits_per_nonzero_encoder_param']:.4f} | "
                             f"{'yes' if k['converged'] else 'no'} | {'yes' if k['met_target'] else 'no'} |")
        lines.append("")
    total = sum(r["wall_time"] for r in results)
    lines += [f"{len(results)} finished jobs, {total / 60:.1f} minutes of job wall time in all.", ""]
    if skipped:
        lines += ["Not finished (not tabulated):", ""] + [f"- {s}" for s in skipped] + [""]
    return "\n".join(lines)


def span(values, spec="{}") -> str:
    """``lo–hi`` of the values as ``spec`` writes them (one, where both ends read the same)."""
    lo, hi = spec.format(min(values)), spec.format(max(values))
    return lo if lo == hi else f"{lo}–{hi}"


def failure_capped(result, key: str = "hidden") -> bool:
    """Did a network of the value that decided the answer (``key``: the widest width tried below it, or the
    smallest count above it) stop at the step cap, after any settling? Then the answer is only a bound (a width
    from above, a count from below). (A passing network at the cap passed all the same: more steps cannot undo
    that.)"""
    m = result["metrics"]
    if m["capped"]:
        return False
    return any(p[key] == m["decisive"] and p["stop"] == "cap" for p in settled(result["points"], key))


def width_floor(result) -> int:
    """The smallest width the answer could be, had every network trained to its plateau: one above the widest width
    tried below the answer whose every network (settled, where it was) stopped before the step cap and still fell
    short (a converged failure), else the search's first width. An answer whose deciding failure converged is
    its own floor."""
    m = result["metrics"]
    if not m["capped"] and not failure_capped(result):
        return m["min_hidden"]
    at = m["hidden"] + (1 if m["capped"] else 0)
    stops: dict[int, list[str]] = {}
    for p in settled(result["points"], "hidden"):
        stops.setdefault(p["hidden"], []).append(p["stop"])
    failed = [w for w, reasons in stops.items() if w < at and "cap" not in reasons]
    return max(failed) + 1 if failed else result["config"]["min_hidden"]


def fewest(cells: dict[str, list[tuple[int, int]]]) -> str:
    """The verdict of one L from each encoder's (floor, answer) in state numbers over seeds: the encoder whose
    largest answer is below every other encoder's smallest floor, or the encoders whose ranges [floor, answer]
    reach below the lowest answer (no ranking among them). A capped seed's answer lies above its search's
    ceiling; an unconverged seed's floor is below its answer (``width_floor``)."""
    if not cells:
        return "–"
    low = min(cells, key=lambda model: (max(a for _, a in cells[model]), min(a for _, a in cells[model])))
    top = max(a for _, a in cells[low])
    tied = [model for model in cells if model != low and min(f for f, _ in cells[model]) <= top]
    if not tied:
        return f"**{low}**"
    return "not separated: " + ", ".join(sorted([low, *tied], key=MODELS.index))


def budget(results) -> str:
    """The step budget the results were trained under, in words (from their configs)."""
    caps = sorted({r["config"]["max_steps"] for r in results})
    factors = sorted({r["config"].get("settle_factor") or 0 for r in results})
    words = f"at most {' or '.join(map(str, caps))} steps per network"
    if factors != [0]:
        words += (" and " + " or ".join(f"{f}x that" for f in factors if f) +
                  " for a deciding failure at that cap (`search.settle_factor`)")
    return words


def answers_table(results) -> str:
    """The fewest state numbers (scripts/text_study.py --parts widths): per encoder and L, the state numbers at
    the smallest width reaching the target over seeds, and which encoder needs the fewest where the ranges
    separate."""
    cells: dict[tuple[str, int], list[dict]] = {}
    for r in results:
        cells.setdefault((r["config"]["model"], r["config"]["length"]), []).append(r)
    if not cells:
        return ""
    lengths = sorted({length for _, length in cells})
    models = [m for m in MODELS if any((m, length) in cells for length in lengths)]
    lines = ["# The fewest state numbers", "",
             "Written by `python scripts/text_figures.py` from results/text/widths/ (`python scripts/text_study.py "
             "--parts widths --seeds 0,1,2`): random printable strings, one-hot input, held-out char accuracy >= "
             f"0.99, every width bisected (`search.refine=true`), {budget(results)}, one job per seed. "
             "A cell is the state numbers the decoder reads (H; 2H for the LSTM's h and c) at the smallest width "
             "reaching the target, over seeds (lo–hi), then the widths per seed and the seeds finished; > W: no "
             "width up to W reached it. † marks a seed whose deciding failure (a network of the width tried just "
             "below the answer) stopped at the step cap, settled or not: its answer is an upper bound, and [≥ f] "
             "is the floor of all seeds: "
             "one above the widest width below the answer whose every network stopped before the cap and fell "
             f"short. The verdict names an encoder only where every encoder has {SEEDS} seeds and that encoder's "
             "largest answer lies below every other's smallest floor.", "",
             "| L | " + " | ".join(models) + " | fewest |", "|---|" + "---|" * (len(models) + 1)]
    for length in lengths:
        row, numbers = [], {}
        for model in models:
            rs = sorted(cells.get((model, length), []), key=lambda r: r["config"]["seed"])
            if not rs:
                row.append("–")
                continue
            per_width = 2 if model == "lstm" else 1  # state numbers per unit of width
            ms = [r["metrics"] for r in rs]
            answers = [per_width * (m["hidden"] + 1) if m["capped"] else m["state_size"] for m in ms]
            floors = [per_width * width_floor(r) for r in rs]
            numbers[model] = list(zip(floors, answers))
            found = [m["state_size"] for m in ms if not m["capped"]]
            capped = [m["state_size"] for m in ms if m["capped"]]
            shown = ", ".join(filter(None, [span(found) if found else "", f"> {max(capped)}" if capped else ""]))
            unconverged = any(failure_capped(r) for r in rs)
            floor = f" [≥ {min(floors)}]" if unconverged else ""
            widths = ", ".join(f"> {m['hidden']}" if m["capped"] else str(m["min_hidden"]) for m in ms)
            row.append(f"{shown}{'†' if unconverged else ''}{floor} ({widths}; {len(rs)}/{SEEDS})")
        complete = len(numbers) == len(MODELS) and all(len(v) >= SEEDS for v in numbers.values())
        verdict = fewest(numbers) if complete else "pending (fewer than 3 seeds of every encoder)"
        lines.append(f"| {length} | " + " | ".join(row) + f" | {verdict} |")
    total = sum(r["wall_time"] for rs in cells.values() for r in rs)
    lines += ["", f"{sum(map(len, cells.values()))} finished jobs, {total / 3600:.2f} hours of job wall time in all.",
              ""]
    return "\n".join(lines)


def answer_network(result) -> dict:
    """The network that answered: the best of the smallest width reaching the target (after any settling)."""
    m = result["metrics"]
    at = [p for p in settled(result["points"], "hidden") if p["hidden"] == m["hidden"]]
    return max(at, key=lambda p: p["heldout_char"])


def codelength_bits(point: dict, length: int, size: int) -> float:
    """The code-length estimate of the information the state passes: what the decoder's held-out cross-entropy
    saves over the uniform code, L (log2|A| - CE) bits, at least 0 (Barber and Agakov's variational lower bound
    on the mutual information, as a held-out estimate)."""
    return length * max(0.0, math.log2(size) - point["heldout_loss_bits"])


def per_length_and_encoder(results) -> list[tuple[tuple[int, str], list[dict]]]:
    """The results grouped by (L, encoder), L first and the encoders in MODELS' order, each group by seed."""
    cells: dict[tuple[int, str], list[dict]] = {}
    for r in results:
        cells.setdefault((r["config"]["length"], r["config"]["model"]), []).append(r)
    return [(key, sorted(cells[key], key=lambda r: r["config"]["seed"]))
            for key in sorted(cells, key=lambda c: (c[0], MODELS.index(c[1])))]


def bits_table(results) -> str:
    """Bits per state number at each answer, Fano's bound and the code-length estimate side by side, over seeds."""
    cells = per_length_and_encoder([r for r in results if not r["metrics"]["capped"]])
    if not cells:
        return ""
    lines = ["## Bits per state number at the answer", "",
             "The network that answered (the best of the smallest width reaching the target) in each finished seed: "
             "Fano's lower bound on the bits its state passes, from the held-out character accuracy, and the "
             "code-length estimate, L (log2|A| - held-out cross-entropy in bits per character), each divided by the "
             "state numbers the decoder reads; lo–hi over seeds. Last column: the most Fano bits per state number "
             "of any network the search trained (narrower networks pass fewer bits but more per number). A float32 "
             "holds 32.", "",
             "| L | encoder | seeds | state numbers | Fano bits / state number | code-length bits / state number | "
             "most Fano bits / state number, any width |", "|---|---|---|---|---|---|---|"]
    for (length, model), rs in cells:
        size = rs[0]["config"]["alphabet_size"]
        nets = [(r["metrics"]["state_size"], answer_network(r)) for r in rs]
        fano = [p["fano_bits_per_state"] for _, p in nets]
        code = [codelength_bits(p, length, size) / state for state, p in nets]
        most = [r["metrics"]["max_fano_bits_per_state"] for r in rs]
        lines.append(f"| {length} | {model} | {len(rs)} | {span([s for s, _ in nets])} | {span(fano, '{:.2f}')} | "
                     f"{span(code, '{:.2f}')} | {span(most, '{:.2f}')} |")
    return "\n".join(lines + [""])


ABLATION_MATTERS = 0.05  # held-out accuracy one state number must cost, held at its mean, to count as carrying


def where_table(results) -> str:
    """Where the information sits at each answer, over seeds: how evenly the state is used and what one number
    held at its mean costs (the numbers behind docs/text/where_<model>.png)."""
    cells = per_length_and_encoder([r for r in results if not r["metrics"]["capped"] and r["metrics"].get("ablation")])
    if not cells:
        return ""
    lines = ["## Where the information sits at the answer", "",
             "The same networks: the participation ratio of the state over held-out strings (how many directions "
             "its variance spreads over; at most the state numbers), the held-out accuracy lost when one state "
             f"number is held at its mean (the largest over the numbers, and how many cost more than "
             f"{ABLATION_MATTERS}), and the worst position's held-out accuracy (the forgetting curve's low point); "
             "lo–hi over seeds.", "",
             "| L | encoder | seeds | state numbers | participation ratio | ratio / state numbers | largest loss, one "
             f"number | numbers costing > {ABLATION_MATTERS} | worst position |", "|---|---|---|---|---|---|---|---|---|"]
    for (length, model), rs in cells:
        ms = [r["metrics"] for r in rs]
        lines.append(
            f"| {length} | {model} | {len(ms)} | {span([m['state_size'] for m in ms])} | "
            f"{span([m['participation_ratio'] for m in ms], '{:.1f}')} | "
            f"{span([m['participation_ratio'] / m['state_size'] for m in ms], '{:.2f}')} | "
            f"{span([max(m['ablation']) for m in ms], '{:.2f}')} | "
            f"{span([sum(a > ABLATION_MATTERS for a in m['ablation']) for m in ms])} | "
            f"{span([min(m['position_char']) for m in ms], '{:.3f}')} |")
    return "\n".join(lines + [""])


def topology_answer(results, references=()) -> str:
    """Does any topology carry more per nonzero weight than its encoder's own dense network
    (scripts/text_study.py --parts topology-widths)? Per encoder, L and arm (activation x density) over seeds:
    the state numbers and nonzero encoder parameters at the smallest width reaching the target, and Fano's bits
    per nonzero encoder parameter there, against the encoder's default activation at density 1, whose jobs are
    the fewest-state-numbers study's (``references``: results/text/widths/)."""
    cells: dict[tuple, list[dict]] = {}
    for r in results:
        c = r["config"]
        cells.setdefault((c["model"], c["length"], c["activation"], c["w0"], c["density"]), []).append(r)
    if not cells:
        return ""
    studied = {key[:2] for key in cells}
    for r in references:
        c = r["config"]
        if (c["model"], c["length"]) in studied and (c["activation"], c["density"]) == (OWN_ACTIVATION, 1.0):
            cells.setdefault((c["model"], c["length"], OWN_ACTIVATION, None, 1.0), []).append(r)

    def bits(r) -> tuple[float, float]:
        """A seed's bits per nonzero encoder parameter as an interval: an unconverged answer's width is an upper
        bound, so its bits are a lower bound (upper end unknown); a seed with no width reaching the target: 0 up
        to unknown."""
        m = r["metrics"]
        if m["capped"]:
            return 0.0, math.inf
        value = m["bits_per_nonzero_encoder_param"]
        return value, math.inf if failure_capped(r) else value

    def order(key):
        model, length, activation, w0, density = key
        return (MODELS.index(model), length, ACTIVATIONS.index(activation), -(w0 or 0), -density)

    lines = ["# Topology on text: bits per nonzero encoder parameter at the smallest state", "",
             "Written by `python scripts/text_figures.py` from results/text/topology-widths/ (`python scripts/"
             "text_study.py --parts topology-widths --models rnn,dense --seeds 0,1,2`): each arm's smallest width "
             f"reaching held-out char accuracy 0.99 searched as the fewest-state-numbers study searches it "
             f"({budget(results)}), one job per seed. Fano's bits through the state at that width per nonzero encoder "
             "parameter, against the encoder's own dense network (its default activation, density 1: the fewest-state-"
             "numbers study's jobs, results/text/widths/): \"more\" or "
             "\"less\" only where every seed lies on one side of every reference seed. † marks a seed whose deciding "
             "failure stopped at the step cap (its width is an upper bound, its bits a lower bound, so it can only "
             "be found \"more\"); > W: no width up to W reached the target.", "",
             "| encoder | L | activation | density | seeds | state numbers | nonzero enc. params | "
             "bits / nonzero enc. param | vs own dense |", "|---|---|---|---|---|---|---|---|---|"]
    own_dense = (OWN_ACTIVATION, None, 1.0)
    for key in sorted(cells, key=order):
        model, length, activation, w0, density = key
        rs = sorted(cells[key], key=lambda r: r["config"]["seed"])
        reference = cells.get((model, length, *own_dense), [])
        ms = [r["metrics"] for r in rs]
        reached = [m for m in ms if not m["capped"]]
        mark = "†" if any(failure_capped(r) for r in rs) else ""
        states = ", ".join(filter(None, [span([m["state_size"] for m in reached]) if reached else "",
                                         *(f"> {m['hidden']}" for m in ms if m["capped"])]))
        params = span([m["encoder_nonzero_params"] for m in reached], "{:,}") if reached else "–"
        values = [m["bits_per_nonzero_encoder_param"] for m in reached]
        shown = (f"{sum(values) / len(values):.4f} ({span(values, '{:.4f}')}){mark}" if values else "–")
        if key[2:] == own_dense:
            verdict = "reference"
        elif not reference:
            verdict = "–"
        else:
            lo, hi = min(bits(r)[0] for r in rs), max(bits(r)[1] for r in rs)
            ref_lo, ref_hi = min(bits(r)[0] for r in reference), max(bits(r)[1] for r in reference)
            verdict = "more" if lo > ref_hi else "less" if hi < ref_lo else "not separated"
        name = activation + (f" (w0 {w0:g})" if w0 else "")
        shown += f" ({len(reached)} reached)" if values and len(reached) < len(rs) else ""
        lines.append(f"| {model} | {length} | {name} | {density:g} | {len(rs)} | {states}{mark} | {params} | {shown} | "
                     f"{verdict} |")
    total = sum(r["wall_time"] for rs in cells.values() for r in rs)
    lines += ["", f"{sum(map(len, cells.values()))} finished jobs, {total / 3600:.2f} hours of job wall time in all.",
              ""]
    return "\n".join(lines)


def memorize_answer(results) -> str:
    """Memorization over seeds (scripts/text_study.py --parts memorize-settled): per encoder and L, the strings
    stored, how much of any string the state passes (held-out accuracy), and the bits per parameter counted two
    ways, lo–hi over seeds."""
    cells = per_length_and_encoder(results)
    if not cells:
        return ""
    lines = ["## Memorization over seeds", "",
             f"From results/text/{MEMORIZE_SETTLED}/ (`python scripts/text_study.py --parts {MEMORIZE_SETTLED} --seeds "
             "0,1,2`): the most random printable strings a width-8 encoder and its per-position decoder reconstruct "
             "(stored strings' char accuracy >= 0.99), the count's deciding failure settled "
             f"({budget(results)}); lo–hi over seeds. Stored bits = strings x L x log2|A|. Where the held-out "
             "accuracy is high, the state passes *any* string and the count measures that, not memory: the "
             "memorized bits (the stored strings' code length less what the held-out strings' cross-entropy "
             "gives any string) count only what was stored beyond it. † marks a seed whose deciding failure (the "
             "smallest count tried above its answer) still stopped at the cap: its count is a lower bound; + a "
             f"count at the search's ceiling. Anchors: Collins et al. 2017 about {COLLINS:g} bits per parameter "
             f"(RNNs), Morris et al. 2025 {MORRIS:g} (GPT-style); a float32 holds 32.", "",
             "| L | encoder | seeds | strings stored | held-out char | stored bits / param | memorized bits / param | "
             "memorized bits / encoder param | decoder share |", "|---|---|---|---|---|---|---|---|---|"]
    for (length, model), rs in cells:
        ms = [r["metrics"] for r in rs]
        mark = "†" if any(failure_capped(r, "count") for r in rs) else ""
        ceiling = "+" if any(m["capped"] for m in ms) else ""
        memorized = [m["memorized_bits"] or 0.0 for m in ms]
        lines.append(f"| {length} | {model} | {len(rs)} | {span([m['max_count'] or 0 for m in ms])}{ceiling}{mark} | "
                     f"{span([m['heldout_char'] for m in ms], '{:.2f}')} | "
                     f"{span([m['bits_per_param'] for m in ms], '{:.3f}')} | "
                     f"{span([b / m['params'] for b, m in zip(memorized, ms)], '{:.3f}')} | "
                     f"{span([b / m['encoder_params'] for b, m in zip(memorized, ms)], '{:.2f}')} | "
                     f"{span([1 - m['encoder_params'] / m['params'] for m in ms], '{:.2f}')} |")
    return "\n".join(lines + [""])


def answers(results, memorized=()) -> str:
    """The block at the top of docs/text.md (text_answers.md): the fewest state numbers, their bits, where the
    information sits, and memorization over seeds."""
    return "\n".join(filter(None, [answers_table(results), bits_table(results), where_table(results),
                                    memorize_answer(memorized)]))


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default=str(REPO / "results" / "text"))
    parser.add_argument("--out", default=str(REPO / "docs" / "text"))
    parser.add_argument("--doc", default=str(REPO / "docs" / "text.md"), help="the tables replace what lies between "
                        "its markers (none: left alone)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    found, skipped = load(Path(args.results))
    topology = [r for r in found if r["path"].split("/")[0] == TOPOLOGY]
    widths = [r for r in found if r["path"].split("/")[0] == WIDTHS]
    topology_widths = [r for r in found if r["path"].split("/")[0] == TOPOLOGY_WIDTHS]
    memorized = [r for r in found if r["path"].split("/")[0] == MEMORIZE_SETTLED]
    apart = (TOPOLOGY, WIDTHS, TOPOLOGY_WIDTHS, MEMORIZE_SETTLED)  # the answers' parts, tabulated on their own
    results = [r for r in found if r["path"].split("/")[0] not in apart]
    written = [fig_state_accuracy(results, out), fig_state_accuracy(results, out, "scalar"), fig_state_bits(results, out),
               fig_memorize(results, out), fig_where(results, out)]
    study = tables(results, [s for s in skipped if s.split("/")[0] not in apart])
    (out / "text_study.md").write_text(study)
    written.append(out / "text_study.md")
    topology_md = topology_table(topology, [s for s in skipped if s.split("/")[0] == TOPOLOGY])
    if topology_md:
        (out / "text_topology.md").write_text(topology_md)
        written.append(out / "text_topology.md")
    written += [fig_where_encoder(widths, model, out) for model in MODELS]
    answers_md = answers(widths, memorized)
    if answers_md:
        (out / "text_answers.md").write_text(answers_md)
        written.append(out / "text_answers.md")
    for path in [p for p in written if p]:
        print(path)
    doc = Path(args.doc)
    if write_between(doc, BEGIN, END, study):
        print(f"{doc} (the study's tables between its markers)")
    if answers_md and write_between(doc, ANSWERS_BEGIN, ANSWERS_END, answers_md):
        print(f"{doc} (the answer table between its markers)")
    if topology_md and write_between(doc, TOPOLOGY_BEGIN, TOPOLOGY_END, topology_md):
        print(f"{doc} (the topology table between its markers)")
    topology_answer_md = topology_answer(topology_widths, widths)
    if topology_answer_md:
        (out / "text_topology_answer.md").write_text(topology_answer_md)
        print(out / "text_topology_answer.md")
    if write_between(doc, TOPOLOGY_ANSWER_BEGIN, TOPOLOGY_ANSWER_END, topology_answer_md or NO_TOPOLOGY_ANSWER):
        print(f"{doc} (the topology answer between its markers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
