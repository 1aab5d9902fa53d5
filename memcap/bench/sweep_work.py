"""Part 10 (``--sweep-work DIR [DIR ...]``): what runs of one sweep cost, side by side.

For instance the design card's sweep before and after a change of recipe or search: its committed results
and a rerun. Per job (network, time steps, N) and in all: the members trained, their optimizer steps, the
matmul FLOPs spent on their patterns (each point's steps x its DS x the FLOPs of one pattern's step, counted
by ``torch.utils.flop_counter.FlopCounterMode`` on one member of that network), the job time summed over
attempts, the answer and whether it converged. Read from each DIR's */result.json; nothing is trained.
Writes <out>/sweep/sweep.{json,md}.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

from memcap.bench.common import publish, short_commit, table_head
from memcap.bench.engine import step_flops
from memcap.configs import compose
from memcap.patterns.engine import build_module
from memcap.patterns.layout import aligned_rows
from memcap.results import read_result


def pattern_step_flops(model: str, N: int, steps: int) -> float:
    """The matmul FLOPs of one optimizer step of one member, per pattern it trains (full batch; counted at
    DS=1000, or all the distinct patterns of N where they are fewer)."""
    cfg = compose("logger=none", f"model={model}", f"N={N}", *([f"steps={steps}"] if model == "recurrent" else []))
    DS = min(1000, math.comb(N, round(N * cfg.s)))
    return step_flops(build_module(cfg, [(DS, 0)], max_steps=1)) / aligned_rows(DS, N)


def sweep_work_benchmark(sources: list[Path], out: Path) -> None:
    """Part 10: runs of one sweep side by side, from their result.json files (nothing trained)."""
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    out.mkdir(parents=True, exist_ok=True)
    rows, flops = [], {}
    for source in sources:
        for path in sorted(source.glob("*/result.json")):
            result = read_result(path)
            c, m, points = result["config"], result["metrics"], result["points"]
            shape = (c["model"], c["N"], c["steps"])
            if shape not in flops:
                flops[shape] = pattern_step_flops(*shape)
            rows.append({"source": str(source), "model": c["model"], "steps": c["steps"], "N": c["N"],
                         "status": result["status"], "capacity_ds": m.get("capacity_ds"),
                         "memorized_max": m.get("memorized_max"), "converged": m.get("converged"),
                         "members": len(points), "member_steps": sum(p["steps"] for p in points),
                         "pflop": sum(p["steps"] * p["DS"] for p in points) * flops[shape] / 1e15,
                         "job_s": round(result.get("wall_time") or 0.0, 1), "attempts": result.get("attempts") or 1,
                         "code": short_commit(result["versions"].get("git_commit", "unknown"))})
    lines = ["`python scripts/bench.py --sweep-work " + " ".join(map(str, sources)) + "`: each job's work, read "
             "from its result.json (PFLOP: the matmul FLOPs spent on its members' patterns; job s: its time summed "
             "over attempts, on the machine its source's README names).", "",
             *table_head("source", "network", "steps", "N", "status", "capacity DS (max)", "converged", "members",
                         "member-steps", "PFLOP", "job s (attempts)", "code")]
    lines += [f"| {r['source']} | {r['model']} | {r['steps']} | {r['N']} | {r['status']} | {r['capacity_ds']} "
              f"({r['memorized_max']}) | {'yes' if r['converged'] else 'no'} | {r['members']} | {r['member_steps']} | "
              f"{r['pflop']:.3f} | {r['job_s']:.0f} ({r['attempts']}) | {r['code']} |" for r in rows]
    lines += ["", *table_head("source", "jobs", "member-steps", "PFLOP", "job hours")]
    for source in map(str, sources):
        mine = [r for r in rows if r["source"] == source]
        lines.append(f"| {source} | {len(mine)} | {sum(r['member_steps'] for r in mine)} | "
                     f"{sum(r['pflop'] for r in mine):.3f} | {sum(r['job_s'] for r in mine) / 3600:.2f} |")
    publish(out / "sweep", {"rows": rows, "pattern_step_flops": {f"{k[0]} N={k[1]} steps={k[2]}": v
                                                                  for k, v in flops.items()}}, lines)
