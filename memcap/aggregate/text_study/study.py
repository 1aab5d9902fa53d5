"""The study's full tables, one row per job: docs/text/text_study.md (state, length and memorization searches)
and docs/text/text_topology.md (the one-width topology study, its width searches and pruning rounds)."""

from __future__ import annotations

from memcap.aggregate.text_study.collect import MODELS, order, select
from memcap.aggregate.text_study.reading import below_target, fmt, width_below
from memcap.topology import ACTIVATIONS


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
