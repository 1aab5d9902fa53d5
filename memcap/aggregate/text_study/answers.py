"""The answers: one table per question, over seeds, at the top of docs/text.md and of its topology section.

- ``questions``: all of them in one table, the page's first;
- ``answers_table``: which encoder needs the fewest state numbers (results/text/widths/), and where the ranges
  separate;
- ``bits_table`` and ``where_table``: at those answers, the bits per state number (Fano beside code length) and
  where the information sits;
- ``memorize_answer``: memorization over seeds (results/text/memorize-settled/), stored and memorized bits;
- ``topology_answer``: each activation x density against its encoder's own dense network
  (results/text/topology-widths/).
"""

from __future__ import annotations

import math

from memcap.aggregate.text_study.collect import (
    MEMORIZE_SETTLED,
    MEMORIZE_SETTLED_LONG,
    MODELS,
    TOPOLOGY_WIDTHS,
    per_length_and_encoder,
    settle_factor,
)
from memcap.aggregate.text_study.reading import (
    COLLINS,
    MORRIS,
    answer_network,
    budget,
    deciding_budget,
    failure_capped,
    fewest,
    fewest_encoders,
    width_floor,
)
from memcap.formatting import span
from memcap.text.state.information import codelength_bits
from memcap.topology import ACTIVATIONS

SEEDS = 3  # seeds per encoder and L before the answer table ranks them
OWN_ACTIVATION = "tanh"  # the rnn's and dense encoder's own (conf/model/{rnn,dense}.yaml): their dense reference
ABLATION_MATTERS = 0.05  # held-out accuracy one state number must cost, held at its mean, to count as carrying
NO_TOPOLOGY_ANSWER = (f"# -\n\nNo result under results/text/{TOPOLOGY_WIDTHS}/ yet: the table appears here once the "
                      "study's results are.\n")


def state_numbers(rs) -> list[tuple[int, int]]:
    """Each seed's (floor, answer) in state numbers (H; 2H for the LSTM's h and c): the answer is the smallest
    width's state, one above the search's ceiling where no width reached the target; the floor is where it could
    lie had every network trained to its plateau (``width_floor``)."""
    per_width = 2 if rs[0]["config"]["model"] == "lstm" else 1  # state numbers per unit of width
    return [(per_width * width_floor(r),
             per_width * (r["metrics"]["hidden"] + 1) if r["metrics"]["capped"] else r["metrics"]["state_size"])
            for r in rs]


def every_seed(cells: dict[str, list]) -> bool:
    """Has every encoder its ``SEEDS`` seeds in ``cells`` (encoder -> its seeds' results or numbers)? Only then is
    an encoder named."""
    return len(cells) == len(MODELS) and all(len(v) >= SEEDS for v in cells.values())


def fewest_verdict(numbers: dict[str, list[tuple[int, int]]]) -> str:
    """``fewest`` once every encoder has its seeds; until then, pending."""
    return fewest(numbers) if every_seed(numbers) else "pending (fewer than 3 seeds of every encoder)"


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
            ms = [r["metrics"] for r in rs]
            numbers[model] = state_numbers(rs)
            floors = [floor for floor, _ in numbers[model]]
            found = [m["state_size"] for m in ms if not m["capped"]]
            capped = [m["state_size"] for m in ms if m["capped"]]
            shown = ", ".join(filter(None, [span(found, empty=""), f"> {max(capped)}" if capped else ""]))
            unconverged = any(failure_capped(r) for r in rs)
            floor = f" [≥ {min(floors)}]" if unconverged else ""
            widths = ", ".join(f"> {m['hidden']}" if m["capped"] else str(m["min_hidden"]) for m in ms)
            row.append(f"{shown}{'†' if unconverged else ''}{floor} ({widths}; {len(rs)}/{SEEDS})")
        verdict = fewest_verdict(numbers)
        lines.append(f"| {length} | " + " | ".join(row) + f" | {verdict} |")
    total = sum(r["wall_time"] for rs in cells.values() for r in rs)
    lines += ["", f"{sum(map(len, cells.values()))} finished jobs, {total / 3600:.2f} hours of job wall time in all.",
              *budget_curves(results, "hidden", "the widest width tried below the answer")]
    return "\n".join(lines)


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
        code = [codelength_bits(p["heldout_loss_bits"], length, size) / state for state, p in nets]
        most = [r["metrics"]["max_fano_bits_per_state"] for r in rs]
        lines.append(f"| {length} | {model} | {len(rs)} | {span([s for s, _ in nets])} | {span(fano, '{:.2f}')} | "
                     f"{span(code, '{:.2f}')} | {span(most, '{:.2f}')} |")
    return "\n".join(lines + [""])


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


def seed_name(result) -> str:
    c = result["config"]
    return f"L = {c['length']}, {c['model']}, seed {c['seed']}"


def arm_name(result) -> str:
    c = result["config"]
    w0 = f" (w0 {c['w0']:g})" if c.get("w0") else ""
    return f"L = {c['length']}, {c['model']}, {c['activation']}{w0}, density {c['density']:g}, seed {c['seed']}"


def budget_curves(results, key: str, deciding: str, name=seed_name) -> list[str]:
    """Under an answer table: for each seed marked †, its deciding network's best score at the search's step cap and
    after settling (``deciding_budget``), so that the mark comes with its budget curve; ``name(result)`` says
    which seed (and arm) it is."""
    marked = [r for _, rs in per_length_and_encoder(results) for r in rs if failure_capped(r, key)]
    if not marked:
        return [""]
    target = results[0]["config"]["target"]
    lines = ["", f"Each † with its budget curve: the deciding networks ({deciding}), their best score at the search's "
             f"step cap and after settling, against the target {target:g}:", ""]
    lines += [f"- {name(r)}: {deciding_budget(r, key)}" for r in marked]
    return lines + [""]


def memorize_answer(results) -> str:
    """Memorization over seeds (scripts/text_study.py --parts memorize-settled): per encoder and L, the strings
    stored, how much of any string the state passes (held-out accuracy), and the bits per parameter counted two
    ways, lo–hi over seeds."""
    cells = per_length_and_encoder(results)
    if not cells:
        return ""
    factors = sorted({settle_factor(r) for r in results})
    settled_longer = [(cell, [r["config"]["seed"] for r in rs if settle_factor(r) > factors[0]]) for cell, rs in cells]
    longer = [f"{model} at L = {length} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
              for (length, model), seeds in settled_longer if seeds]
    replaced = "" if not longer else (
        f" The jobs of {'; '.join(longer)} are those of results/text/{MEMORIZE_SETTLED_LONG}/ (`--parts "
        f"{MEMORIZE_SETTLED_LONG}`: the same search settled {factors[-1] // max(factors[0], 1)}x longer), in place "
        "of the shorter ones, whose counts stopped at the cap.")
    lines = ["## Memorization over seeds", "",
             f"From results/text/{MEMORIZE_SETTLED}/ (`python scripts/text_study.py --parts {MEMORIZE_SETTLED} --seeds "
             "0,1,2`): the most random printable strings a width-8 encoder and its per-position decoder reconstruct "
             "(stored strings' char accuracy >= 0.99), the count's deciding failure settled "
             f"({budget(results)}); lo–hi over seeds.{replaced} Stored bits = strings x L x log2|A|. Where the held-out "
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
    return "\n".join(lines + budget_curves(results, "count", "the smallest count tried above the answer"))


def topology_verdicts(results, references=()) -> tuple[dict[tuple, list[dict]], dict[tuple, str]]:
    """The topology study's arms, (encoder, L, activation, w0, density) -> its seeds, in table order, with the
    encoder's own dense network (``references``: the fewest-state-numbers study's jobs) among them; and each arm's
    verdict against that network: "more" or "less" only where every seed's bits per nonzero encoder parameter lie
    on one side of every reference seed's ("reference" for the reference, "–" without one, "pending" until both
    have their seeds)."""
    cells: dict[tuple, list[dict]] = {}
    for r in results:
        c = r["config"]
        cells.setdefault((c["model"], c["length"], c["activation"], c["w0"], c["density"]), []).append(r)
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

    cells = {key: sorted(cells[key], key=lambda r: r["config"]["seed"]) for key in sorted(cells, key=order)}
    verdicts = {}
    for key, rs in cells.items():
        reference = cells.get((*key[:2], OWN_ACTIVATION, None, 1.0), [])
        if key[2:] == (OWN_ACTIVATION, None, 1.0):
            verdicts[key] = "reference"
        elif not reference:
            verdicts[key] = "–"
        elif min(len(rs), len(reference)) < SEEDS:
            verdicts[key] = "pending"
        else:
            lo, hi = min(bits(r)[0] for r in rs), max(bits(r)[1] for r in rs)
            ref_lo, ref_hi = min(bits(r)[0] for r in reference), max(bits(r)[1] for r in reference)
            verdicts[key] = "more" if lo > ref_hi else "less" if hi < ref_lo else "not separated"
    return cells, verdicts


def topology_answer(results, references=()) -> str:
    """Does any topology carry more per nonzero weight than its encoder's own dense network
    (scripts/text_study.py --parts topology-widths)? Per encoder, L and arm (activation x density) over seeds:
    the state numbers and nonzero encoder parameters at the smallest width reaching the target, and Fano's bits
    per nonzero encoder parameter there, against the encoder's default activation at density 1, whose jobs are
    the fewest-state-numbers study's (``references``: results/text/widths/)."""
    cells, verdicts = topology_verdicts(results, references)
    if not cells:
        return ""
    lines = ["# Topology on text: bits per nonzero encoder parameter at the smallest state", "",
             "Written by `python scripts/text_figures.py` from results/text/topology-widths/ (`python scripts/"
             "text_study.py --parts topology-widths --models rnn,dense --seeds 0,1,2`): each arm's smallest width "
             f"reaching held-out char accuracy 0.99 searched as the fewest-state-numbers study searches it "
             f"({budget(results)}), one job per seed. Fano's bits through the state at that width per nonzero encoder "
             "parameter, against the encoder's own dense network (its default activation, density 1: the fewest-state-"
             "numbers study's jobs, results/text/widths/): \"more\" or "
             "\"less\" only where every seed lies on one side of every reference seed (\"pending\" until the arm and the "
             f"reference have {SEEDS} seeds each). † marks a seed whose deciding "
             "failure stopped at the step cap (its width is an upper bound, its bits a lower bound, so it can only "
             "be found \"more\"); > W: no width up to W reached the target.", "",
             "| encoder | L | activation | density | seeds | state numbers | nonzero enc. params | "
             "bits / nonzero enc. param | vs own dense |", "|---|---|---|---|---|---|---|---|---|"]
    for key, rs in cells.items():
        model, length, activation, w0, density = key
        ms = [r["metrics"] for r in rs]
        reached = [m for m in ms if not m["capped"]]
        mark = "†" if any(failure_capped(r) for r in rs) else ""
        states = ", ".join(filter(None, [span([m["state_size"] for m in reached], empty=""),
                                         *(f"> {m['hidden']}" for m in ms if m["capped"])]))
        params = span([m["encoder_nonzero_params"] for m in reached], "{:,}")
        values = [m["bits_per_nonzero_encoder_param"] for m in reached]
        shown = (f"{sum(values) / len(values):.4f} ({span(values, '{:.4f}')}){mark}" if values else "–")
        name = activation + (f" (w0 {w0:g})" if w0 else "")
        shown += f" ({len(reached)} reached)" if values and len(reached) < len(rs) else ""
        lines.append(f"| {model} | {length} | {name} | {density:g} | {len(rs)} | {states}{mark} | {params} | {shown} | "
                     f"{verdicts[key]} |")
    total = sum(r["wall_time"] for rs in cells.values() for r in rs)
    lines += ["", f"{sum(map(len, cells.values()))} finished jobs, {total / 3600:.2f} hours of job wall time in all.",
              *budget_curves(results, "hidden", "the widest width tried below the answer", arm_name)]
    return "\n".join(lines)


def answers(results, memorized=()) -> str:
    """The block at the top of docs/text.md (text_answers.md): the fewest state numbers, their bits, where the
    information sits, and memorization over seeds."""
    return "\n".join(filter(None, [answers_table(results), bits_table(results), where_table(results),
                                    memorize_answer(memorized)]))


def most_encoders(values: dict[str, tuple[float, float]]) -> list[str]:
    """From each encoder's (lowest, highest) value over seeds (highest: inf for a lower bound): the encoder whose
    lowest lies above every other's highest (one name), or those whose ranges reach the highest lowest value."""
    top = max(values, key=lambda model: values[model])
    tied = [model for model in values if model != top and values[model][1] >= values[top][0]]
    return sorted([top, *tied], key=MODELS.index)


def topology_summary(results, references=()) -> list[str]:
    """The topology answer in a few lines: the arms of each verdict, named ("more", "less", "not separated"), and
    those still pending counted with their seeds."""
    cells, verdicts = topology_verdicts(results, references)
    arms: dict[str, list[tuple]] = {}
    for key, verdict in verdicts.items():
        if verdict != "reference":
            arms.setdefault(verdict, []).append(key)
    shape = [f"{verdict}: " + ", ".join(f"{key[0]} L = {key[1]} {key[2]} d{key[4]:g}" for key in keys)
             for verdict, keys in sorted(arms.items()) if verdict != "pending"]
    if "pending" in arms:  # counted, not listed: no verdict yet
        waiting = arms["pending"]
        shape.append(f"pending: {len(waiting)} arm{'s' if len(waiting) > 1 else ''} of " + ", ".join(sorted({f"{k[0]} L = {k[1]}" for k in waiting}))
                     + f" ({span([len(cells[k]) for k in waiting])} of {SEEDS} seeds)")
    return shape or [f"no result under results/text/{TOPOLOGY_WIDTHS}/ yet"]


def questions(widths, memorized=(), topology=()) -> str:
    """The answers at the top of docs/text.md in one table: each question, its measure, the answer per L over
    seeds (an encoder named only where the seeds separate it, by the rules of the tables below) and where the
    table behind it is."""
    def by_length(results):
        cells: dict[int, dict[str, list[dict]]] = {}
        for (length, model), rs in per_length_and_encoder(results):
            cells.setdefault(length, {})[model] = rs
        return cells

    def pending(length: int, cells: dict[str, list[dict]]) -> str:
        return f"L = {length}: pending ({sum(map(len, cells.values()))} of {SEEDS * len(MODELS)} jobs)"

    def named(names: list[str], shown: dict[str, str]) -> str:
        if len(names) == 1:
            return f"**{names[0]}** ({shown[names[0]]})"
        return "not separated: " + ", ".join(f"{name} ({shown[name]})" for name in names)

    state = []
    for length, cells in by_length(widths).items():
        if not every_seed(cells):
            state.append(pending(length, cells))
            continue
        numbers = {model: state_numbers(rs) for model, rs in cells.items()}
        shown = {model: span([a for _, a in pairs]) for model, pairs in numbers.items()}
        state.append(f"L = {length}: {named(fewest_encoders(numbers), shown)}")
    bits, where = [], []
    for length, cells in by_length([r for r in widths if not r["metrics"]["capped"]]).items():
        rs = [r for seeds in cells.values() for r in seeds]
        fano = [answer_network(r)["fano_bits_per_state"] for r in rs]
        code = [codelength_bits(answer_network(r)["heldout_loss_bits"], length, r["config"]["alphabet_size"])
                / r["metrics"]["state_size"] for r in rs]
        bits.append(f"L = {length}: {span(fano, '{:.2f}')} (code length {span(code, '{:.2f}')})")
        ms = [r["metrics"] for r in rs if r["metrics"].get("ablation")]
        every = sum(min(m["ablation"]) > ABLATION_MATTERS for m in ms)
        where.append(f"L = {length}: every state number carries in {every} of {len(ms)} networks; participation "
                     f"ratio {span([m['participation_ratio'] / m['state_size'] for m in ms], '{:.2f}')} of the state")
    stored = []
    for length, cells in by_length(memorized).items():
        values, shown = {}, {}
        for model, rs in cells.items():
            per_param = [(r["metrics"]["memorized_bits"] or 0.0) / r["metrics"]["params"] for r in rs]
            marks = ("+" if any(r["metrics"]["capped"] for r in rs) else "") + \
                ("†" if any(failure_capped(r, "count") for r in rs) else "")
            values[model] = (min(per_param), math.inf if marks else max(per_param))  # a bound: no upper end
            shown[model] = span(per_param, "{:.2f}") + marks
        if not every_seed(cells):
            stored.append(pending(length, cells))
            continue
        stored.append(f"L = {length}: {named(most_encoders(values), shown)}")
    shape = topology_summary(topology, widths)

    rows = [("Which encoder needs the fewest state numbers?", "the smallest state (H; 2H for the LSTM) whose "
             "decoder reads held-out random strings at char accuracy 0.99", state,
             "[fewest state numbers](#which-encoder-needs-the-fewest-state-numbers)"),
            ("How many bits does a state number carry?", "Fano's lower bound per state number at each answer "
             "(code-length estimate beside it), lo–hi over encoders and seeds", bits,
             "[bits per state number](#bits-per-state-number-at-the-answer)"),
            ("Where does the information sit?", "how many networks lose more than 0.05 of the held-out accuracy "
             "when any one state number is held at its mean; participation ratio over the state size", where,
             "[where](#where-the-information-sits-at-the-answer)"),
            ("Which encoder memorizes the most per parameter?", "memorized bits per parameter at width 8 (stored "
             "strings' code length less what any string gets), lo–hi over seeds; † and + lower bounds", stored,
             "[memorization](#memorization-over-seeds)"),
            ("Does any topology carry more per nonzero weight?", "Fano bits per nonzero encoder parameter at each "
             "arm's smallest state against the encoder's own dense network (seeds finished)", shape,
             "[topology on text](#topology-on-text)")]
    lines = ["# The answers", "",
             "Written by `python scripts/text_figures.py` from the committed results; each row's table below says "
             "how it is measured and what each mark means.", "",
             "| question | measure | answer | table |", "|---|---|---|---|"]
    lines += [f"| {question} | {measure} | {'<br>'.join(answer) or 'no result yet'} | {table} |"
              for question, measure, answer, table in rows]
    return "\n".join(lines + [""])
