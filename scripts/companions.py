"""When does a member's training stop matching, to the bit, its training alone? (docs/architecture.md, Determinism)

Usage: python scripts/companions.py [--threads 1,2] [--out benchmarks/companions]

For each shape (N, DS) and network, member 1 of a 3-member ensemble and the same
member alone take the same full-batch Adam steps (bce, lr 0.05, no stopping
rule); the table gives the first step after which their weights differ in any
bit, or "none" within the steps run, with each member's rows unpadded (DS
rows) and padded to the engine's alignment
(memcap.patterns.layout.aligned_rows: rows x N a multiple of ALIGN = 64, which
keeps every member's elements off the elementwise kernels' scalar remainder path).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import memcap.patterns.layout as layout  # noqa: E402
from memcap.configs import compose  # noqa: E402
from memcap.patterns import engine  # noqa: E402

SHAPES = [(30, 90, 400), (32, 96, 400), (50, 690, 400), (100, 290, 400), (200, 2800, 30)]  # N, DS, steps run
NETWORKS = {"simple": ["loss=bce"], "recurrent 2 steps": ["model=recurrent", "loss=bce", "steps=2"]}


def first_difference(N: int, DS: int, overrides: list[str], steps: int) -> str:
    cfg = compose(f"N={N}", "lr=0.05", "logger=none", *overrides)
    crowd = engine.build_module(cfg.copy(), [(DS, 0), (DS, 1), (DS, 2)], max_steps=steps)
    alone = engine.build_module(cfg.copy(), [(DS, 1)], max_steps=steps)
    optimizers = [m.configure_optimizers() for m in (crowd, alone)]  # the module's own Adam (constant schedule)
    for step in range(steps):
        for module, optimizer in zip((crowd, alone), optimizers):
            optimizer.zero_grad()
            module._losses(module.model(module.X), module.Y, module.weight).sum().backward()
            optimizer.step()
        if not all(torch.equal(c[1], a[0]) for c, a in zip(crowd.model.parameters(), alone.model.parameters())):
            return str(step + 1)
    return f"none in {steps}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "companions"))
    args = parser.parse_args(argv)
    lines = [f"`python scripts/companions.py --threads {args.threads}`, {time.strftime('%Y-%m-%d')}, torch "
             f"{torch.__version__}: the first step after which member 1 of 3 differs from itself trained alone.", "",
             "| torch threads | network | N | DS | DS x N mod 64 | padded rows | first differing step, unpadded | "
             "padded |", "|---|---|---|---|---|---|---|---|"]
    aligned = layout.ALIGN
    for threads in map(int, args.threads.split(",")):
        torch.set_num_threads(threads)
        for N, DS, steps in SHAPES:
            for name, overrides in NETWORKS.items():
                found = {}
                for align in (1, aligned):  # ALIGN = 1: no padding
                    layout.ALIGN = align
                    found[align] = first_difference(N, DS, overrides, steps)
                layout.ALIGN = aligned
                lines.append(f"| {threads} | {name} | {N} | {DS} | {N * DS % 64} | {layout.aligned_rows(DS, N)} | "
                             f"{found[1]} | {found[aligned]} |")
                print(lines[-1], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "companions.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
