"""The text study's figures (docs/text/*.png): held-out accuracy against width, Fano bits per state number,
memorization against parameters, and where the information sits (forgetting curves and ablations)."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter

from memcap.aggregate.text_study.collect import MODELS, per_length_and_encoder, select
from memcap.aggregate.text_study.reading import COLLINS, FLOAT32_BITS, MORRIS, below_target


def curve(result, key="hidden"):
    """Best held-out char accuracy (over the lr grid and seeds) per searched value."""
    best = {}
    for p in result["points"]:
        best[p[key]] = max(best.get(p[key], 0.0), p["heldout_char"])
    return sorted(best.items())


def panels(n, width=4.0, height=3.2):
    fig = Figure(figsize=(width * n, height))
    axes = fig.subplots(1, n, squeeze=False)
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
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    path = out / f"state_accuracy{'' if encoding == 'onehot' else '_' + encoding}.png"
    fig.savefig(path, dpi=110)
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
    return path


def fig_memorize(results, out: Path):
    rs = select(results, "memorize")
    if not rs:
        return None
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
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
    return path


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
    fig = Figure(figsize=(panel_width * len(lengths), 6.2))
    axes = fig.subplots(2, len(lengths), squeeze=False)
    for col, length in enumerate(lengths):
        top, bottom = axes[0][col], axes[1][col]
        for r in (r for r in rs if r["config"]["length"] == length):
            where_lines(top, bottom, r, *lines(r))
        titles(top, bottom, length)
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.legend(fontsize="xx-small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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


def fig_memorize_settled(results, out: Path):
    """Memorization over seeds (results/text/memorize-settled/), against L: bits per parameter stored (hollow) and
    memorized (filled), and memorized bits per encoder parameter, each encoder's seeds as a range (lo-hi) around
    their median, with Collins' and Morris' figures and a float32's 32 bits as reference lines. None without
    results."""
    cells = per_length_and_encoder(results)
    if not cells:
        return None
    fig = Figure(figsize=(10.0, 4.2))
    whole, encoder = fig.subplots(1, 2)
    offsets = {model: (i - (len(MODELS) - 1) / 2) * 0.04 for i, model in enumerate(MODELS)}  # side by side per L

    def ranged(ax, x, values, color, filled):
        lo, mid, hi = min(values), sorted(values)[len(values) // 2], max(values)
        ax.errorbar([x], [mid], yerr=[[mid - lo], [hi - mid]], marker="o", ms=6, color=color, capsize=2,
                    mfc=color if filled else "none", ls="none")

    for (length, model), rs in cells:
        color, x = f"C{MODELS.index(model)}", length * 2 ** offsets[model]
        ms = [r["metrics"] for r in rs]
        memorized = [m["memorized_bits"] or 0.0 for m in ms]
        ranged(whole, x, [m["bits_per_param"] for m in ms], color, False)
        ranged(whole, x, [b / m["params"] for b, m in zip(memorized, ms)], color, True)
        ranged(encoder, x, [b / m["encoder_params"] for b, m in zip(memorized, ms)], color, True)
    for ax in (whole, encoder):
        ax.axhline(COLLINS, color="k", ls="--", lw=0.8, label=f"Collins et al. 2017: ~{COLLINS:g} (RNNs)")
        ax.axhline(MORRIS, color="k", ls=":", lw=0.8, label=f"Morris et al. 2025: ~{MORRIS:g} (GPT-style)")
        ax.axhline(FLOAT32_BITS, color="grey", ls="-.", lw=0.8, label=f"a float32: {FLOAT32_BITS}")
        lengths = sorted({length for (length, _), _ in cells})
        ax.set(xscale="log", yscale="log", xlabel="L (characters)", xlim=(min(lengths) / 1.5, max(lengths) * 1.5))
        ax.set_xticks(lengths, [str(length) for length in lengths])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
    whole.set(ylabel="bits per parameter (encoder + decoder)",
              title="stored (hollow) and memorized (filled), width 8")
    encoder.set(ylabel="memorized bits per encoder parameter", title="the encoder's share")
    for model in MODELS:
        if any(m == model for (_, m), _ in cells):
            whole.plot([], [], color=f"C{MODELS.index(model)}", marker="o", ls="none", label=model)
    whole.legend(fontsize="x-small", ncol=2, loc="upper right")
    fig.tight_layout()
    path = out / "memorize_settled.png"
    fig.savefig(path, dpi=110)
    return path
