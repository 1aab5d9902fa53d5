"""The text study (docs/text.md), one job after another, each through the job lifecycle.

    OMP_NUM_THREADS=1 python scripts/text_study.py                 # every part, results under results/text/
    python scripts/text_study.py --parts state --lengths 2,4        # a part of it
    python scripts/text_study.py --parts widths --seeds 0,1,2       # every width bisected, 3 seeds, L = 2 .. 16
    python scripts/text_study.py --parts memorize-settled --seeds 0,1,2   # memorization, settled, 3 seeds
    python scripts/text_study.py --parts memorize-settled-long --models dense --seeds 0,1,2   # ... settled 4x longer
    python scripts/text_study.py --preset gpu                       # wider lr grid, more seeds, longer fits
    python scripts/text_study.py --parts topology --models rnn,dense --lengths 4   # activation x density, one width
    python scripts/text_study.py --parts topology-search --models rnn,dense     # ... each with its own width search
    python scripts/text_study.py --parts topology-widths --models rnn,dense --seeds 0,1,2   # ... as --parts widths does
    python scripts/text_study.py --parts topology --models rnn --w0 30,3,1      # sine cells at other SIREN frequencies
    python scripts/text_study.py --parts topology --models dense --width 32 --runs 3 --activations tanh,sine
    python scripts/text_study.py --parts prune --models rnn,lstm        # lottery and random rounds at the same width
    python scripts/text_study.py --jobs 2                          # two jobs at a time, one torch thread each

Each job is memcap.lifecycle.run_job on the config train.py would compose, written to
results/text/<part>/<model>-L<L>[-s<seed>]/result.json (-s<seed> for seeds other than 0; topology:
<model>-L<L>-H<width>-<activation>-d<density>; topology-search: the same with
"search" for the width, in results/text/topology/ too; topology-widths: <model>-L<L>-<activation>-d<density>
in results/text/topology-widths/, but for tanh at density 1, which is the widths part's job; prune:
<model>-L<L>-H<width>-<method>, also there); a finished job is
skipped on a rerun (same identity), a killed one resumes its recorded rounds.
python scripts/text_figures.py then draws docs/text/ from what is committed.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from memcap.config import ConfigError  # noqa: E402
from memcap.configs import compose  # noqa: E402
from memcap.cpu import job_threads  # noqa: E402
from memcap.lifecycle import run_job  # noqa: E402
from memcap.results import read_result  # noqa: E402
from memcap.text.config import TAKES_ACTIVATION, TextModelConfig  # noqa: E402

MODELS = ("rnn", "lstm", "gru", "transformer", "dense", "hybrid")
COMMON = ("data=text", "text.source=random", "text.alphabet=printable", "logger=none", "runs=1", "seed=0")
# The fixed sets must stay within 2 % of the |A|^L strings: at L = 2 (9025 strings) 128 held-out + 48 validation.
SETS = {2: ("text.heldout=128", "text.validation=48")}
PRESETS = {
    "cpu": {"state": ("search=state", "search.max_hidden=128", "search.max_steps=3000"),
            "memorize": ("search=memorize", "model.hidden=8", "search.max_steps=2000", "search.resolution=0.125",
                         "search.patience=4")},
    "gpu": {"state": ("search=state", "search.max_hidden=256", "search.max_steps=8000", "search.lrs=[0.001,0.003,0.01]",
                      "runs=3", "trainer.accelerator=gpu"),
            "memorize": ("search=memorize", "model.hidden=8", "search.max_steps=10000", "search.lrs=[0.003,0.01,0.03]",
                         "runs=3", "trainer.accelerator=gpu")},
}
# --parts prune: every round run (prune.target=null), so lottery and random are compared at densities 1 .. 1/64,
# the dense round being the topology study's density-1 cell of the same width.
PRUNE_ROUNDS = ("prune.rate=0.5", "prune.rounds=6", "prune.target=null")
WIDTHS_SEARCH = ("search.refine=true", "search.max_steps=6000", "search.settle_factor=4", "search.max_hidden=256")
PARTS = {  # part -> (preset key, default lengths, extra overrides)
    "state": ("state", (2, 4, 8), ()),
    # the fewest state numbers: the grid's answer refined to every width below it, a deciding failure at the
    # 6000-step cap trained again to 24000 (docs/text.md)
    "widths": ("state", (2, 4, 8, 16), WIDTHS_SEARCH),
    "memorize": ("memorize", (4, 8, 16), ()),
    "frozen": ("memorize", (4, 8, 16), ("search.freeze_encoder=true",)),
    # memorization that is the network's: the count's deciding failure at the 2000-step cap trained again to 8000
    # (search.settle_factor), one job per seed (--seeds), tabulated over seeds at the top of docs/text.md
    "memorize-settled": ("memorize", (4, 8, 16), ("search.settle_factor=4",)),
    # the same jobs settled 4x longer (to 32000 steps), for the encoders whose counts still stopped at 8000: a
    # job here replaces the same encoder, L and seed of memorize-settled in docs/text.md's tables
    "memorize-settled-long": ("memorize", (4, 8, 16), ("search.settle_factor=16",)),
    "scalar": ("state", (2, 4), ("text.encoding=scalar",)),
    "memorize-scalar": ("memorize", (4, 8, 16), ("text.encoding=scalar",)),


    "topology": ("state", (4,), ()),  # one width per model, every activation x density (docs/text.md)
    "topology-search": ("state", (4,), ()),  # every activation x density, each searching its smallest width
    # the topology answer: every activation x density searched as the widths part searches (refined, settled), one
    # job per seed, each arm against its encoder's own dense network (docs/text.md)
    "topology-widths": ("state", (4,), WIDTHS_SEARCH),
    "prune": ("state", (4,), PRUNE_ROUNDS),  # at the state study's width, each --prunes method (memcap.text.state.prune)
}
# --parts topology: each encoder at the width the state study found smallest at that L (its committed result),
# with every activation it takes (memcap.text.config.TAKES_ACTIVATION; the others keep their own) and density.
TOPOLOGY_ACTIVATIONS = ("tanh", "relu", "sigmoid", "sine")
TOPOLOGY_DENSITIES = (1.0, 0.5, 0.25)
OWN_ACTIVATION = "tanh"  # the rnn's and dense encoder's own (conf/model/{rnn,dense}.yaml)
SIREN_W0 = TextModelConfig.w0  # --w0: the sine cells' frequencies (the default's cells carry no w0 in their name)


def study_width(out: Path, model: str, length: int) -> int:
    """The smallest width the committed state study found for ``model`` at ``length`` (results/text/state/)."""
    path = out / "state" / f"{model}-L{length}" / "result.json"
    result = read_result(path)
    if isinstance(result, str) or result["status"] != "ok" or result["metrics"]["min_hidden"] is None:
        raise SystemExit(f"text_study: --parts topology needs the state study's width for {model} at L={length}: "
                         f"{path} has none ({result if isinstance(result, str) else result['status']})")
    return result["metrics"]["min_hidden"]


def last_wins(overrides) -> tuple[str, ...]:
    """The overrides with one value per key, the last given (Hydra refuses a key set twice)."""
    merged = {override.split("=", 1)[0]: override for override in overrides}
    return tuple(merged.values())


def jobs(parts, lengths, models, preset, out: Path, w0s=(SIREN_W0,), width=None, runs=1,
         activations=TOPOLOGY_ACTIVATIONS, densities=TOPOLOGY_DENSITIES, prunes=("lottery", "random"), seeds=(0,)):
    """(part, job name, overrides) of every job asked for; ``seeds`` other than 0 name their jobs -s<seed>."""
    for part in parts:
        key, default_lengths, extra = PARTS[part]
        for length, model, seed in itertools.product(lengths or default_lengths, models, seeds):
            overrides = last_wins((*COMMON, f"model={model}", f"text.length={length}", *SETS.get(length, ()),
                                   *PRESETS[preset][key], *extra, f"seed={seed}"))
            suffix = f"-s{seed}" if seed else ""
            if part == "prune":
                at = width or study_width(out, model, length)
                for method in prunes:
                    yield "topology", f"{model}-L{length}-H{at}-{method}{suffix}", last_wins(
                        (*overrides, f"model.hidden={at}", f"prune={method}",
                         *((f"runs={runs}",) if runs != 1 else ())))
                continue
            if not part.startswith("topology"):
                yield part, f"{model}-L{length}{suffix}", overrides
                continue
            fixed, folder = part == "topology", "topology-widths" if part == "topology-widths" else "topology"
            at = (width or study_width(out, model, length)) if fixed else None
            for activation in activations if model in TAKES_ACTIVATION else (None,):
                for w0 in w0s if activation == "sine" else (SIREN_W0,):
                    for density in densities:
                        if folder == "topology-widths" and (activation, density) == (OWN_ACTIVATION, 1.0):
                            yield "widths", f"{model}-L{length}{suffix}", overrides  # the reference: that study's job
                            continue
                        arm = (*((f"search.min_hidden={at}", f"search.max_hidden={at}") if fixed else ()),
                               f"model.density={density}",
                               *((f"model.activation={activation}",) if activation else ()),
                               *((f"model.w0={w0}",) if w0 != SIREN_W0 else ()),
                               *((f"runs={runs}",) if runs != 1 else ()))
                        width_part = f"H{at}-" if fixed else "search-" if folder == "topology" else ""
                        name = (f"{model}-L{length}-{width_part}{activation or 'own'}"
                                f"{f'-w0_{w0:g}' if w0 != SIREN_W0 else ''}-d{density}"
                                f"{f'-runs{runs}' if runs != 1 else ''}{suffix}")
                        yield folder, name, last_wins((*overrides, *arm))


def run_one(overrides, where: Path, out: Path, in_worker: bool = False) -> Path:
    """One study job through the lifecycle; a refused config is reported, not raised (the other jobs go on).

    ``in_worker`` (--jobs): the process is this job's alone, and its log lines start with the job's
    part/name, so that two jobs' interleaved lines say whose they are."""
    if in_worker:
        quiet_logging(f"[{where.parent.name}/{where.name}] ")
    try:
        run_job(compose(*overrides), where, out)
    except ConfigError as error:
        print(f"memcap: error: {error} ({where})", flush=True)
    return where


def quiet_logging(prefix: str = "") -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {prefix}%(message)s", datefmt="%H:%M:%S",
                        force=bool(prefix))
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="state,memorize,frozen", help=f"comma list of {', '.join(PARTS)}")
    parser.add_argument("--lengths", default="", help="comma list of L (default: each part's)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--preset", default="cpu", choices=tuple(PRESETS))
    parser.add_argument("--out", default=str(REPO / "results" / "text"))
    parser.add_argument("--w0", default=str(SIREN_W0), help="topology parts: comma list of the sine cells' w0")
    parser.add_argument("--width", type=int, help="--parts topology: this width instead of the state study's")
    parser.add_argument("--runs", type=int, default=1, help="topology parts: seeds per lr")
    parser.add_argument("--activations", default=",".join(TOPOLOGY_ACTIVATIONS), help="topology parts: comma list")
    parser.add_argument("--densities", default=",".join(map(str, TOPOLOGY_DENSITIES)), help="topology parts: comma list")
    parser.add_argument("--prunes", default="lottery,random", help="--parts prune: comma list of prune methods")
    parser.add_argument("--seeds", default="0", help="comma list of seeds, one job each (-s<seed> but for 0)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="jobs at a time, each in its own process with its share of the cores as torch threads "
                             "(trainer.threads, not part of a job's identity: the results are the same)")
    parser.add_argument("--dry-run", action="store_true", help="list the jobs and their overrides")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    quiet_logging()
    lengths = [int(x) for x in args.lengths.split(",") if x]
    out = Path(args.out)
    start = time.perf_counter()
    todo = []
    for part, name, overrides in jobs(args.parts.split(","), lengths, args.models.split(","), args.preset, out,
                                      [float(w) for w in args.w0.split(",")], args.width, args.runs,
                                      args.activations.split(","), [float(d) for d in args.densities.split(",")],
                                      args.prunes.split(","), [int(x) for x in args.seeds.split(",")]):
        where = out / (part if args.preset == "cpu" else f"{part}-{args.preset}") / name
        if args.dry_run:
            print(where, " ".join(overrides))
        else:
            todo.append((overrides, where))
    if args.jobs == 1:
        for overrides, where in todo:
            run_one(overrides, where, out)
            print(f"[study {time.perf_counter() - start:.0f}s] {where}", flush=True)
        return 0
    threads = f"trainer.threads={job_threads(None, {'n_jobs': args.jobs})}"  # each worker's share, as under joblib
    # fork: the workers inherit this module (a script, not importable by name) and its logging set-up
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        running = [pool.submit(run_one, last_wins((*overrides, threads)), where, out, True) for overrides, where in todo]
        for done in as_completed(running):
            print(f"[study {time.perf_counter() - start:.0f}s] {done.result()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
