"""The GPU check: whether memcap runs right, and how fast, on this machine's CUDA GPU, as one command.

Usage: python scripts/gpu_check.py [--out benchmarks/gpu] [--skip-sweep]   (or: make gpu-check)

In order, each written to <out> as soon as it is done (a check cut short keeps what came before it):

1. device.json: the GPU, its memory and compute capability, the driver (nvidia-smi), torch and its CUDA and
   cuDNN versions.
2. tests.txt: the test suite's GPU tests (``pytest -m gpu``: an ensemble on CUDA memorizes what it does on the
   CPU at TF32 off; a mid-round checkpoint saved on the GPU resumes into the same end).
3. throughput/results.md: ``scripts/bench.py --device cuda --quick`` part 1 (the engine against a per-model
   loop and torch.matmul's peak on the GPU, fp32), its output in throughput.txt.
4. design_card.md: the design card's sweep (``model=recurrent steps=2,3 N=50,100,150,200``) at
   ``search.batch=4`` on the GPU, its wall time and its answers, aggregated; the jobs live in
   multirun/gpu_check/, so a rerun resumes them through the framework's own resume.

Where no CUDA GPU is visible it says so in one line and exits with 2, before any work.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["-m", "model=recurrent", "steps=2,3", "N=50,100,150,200", "search.batch=4", "trainer.accelerator=gpu",
         "logger=csv", f"hydra.sweep.dir={ROOT / 'multirun' / 'gpu_check'}"]


def run(command: list[str], log: Path) -> tuple[int, float]:
    """Run ``command`` from the repository's root, its output to ``log`` and the terminal; (exit code, seconds)."""
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            out.write(line)
            print(line, end="", flush=True)
    return process.wait(), time.perf_counter() - start


def device_report() -> dict:
    import torch

    properties = torch.cuda.get_device_properties(0)
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                         capture_output=True, text=True)
    return {"device": properties.name, "memory_gib": round(properties.total_memory / 2**30, 1),
            "compute_capability": f"{properties.major}.{properties.minor}", "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
            "nvidia_smi": smi.stdout.strip() if smi.returncode == 0 else None,
            "date": time.strftime("%Y-%m-%d")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "gpu"))
    parser.add_argument("--skip-sweep", action="store_true", help="leave out part 4, the design card's sweep")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(f"gpu_check: no CUDA GPU is visible here (torch {torch.__version__}, built for CUDA "
              f"{torch.version.cuda or 'none'}); run it on a machine with one", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = device_report()
    (out / "device.json").write_text(json.dumps(device, indent=2) + "\n")
    print(json.dumps(device), flush=True)
    codes = {"tests": run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "tests/test_gpu.py"], out / "tests.txt")[0]}
    codes["throughput"] = run([sys.executable, "scripts/bench.py", "--device", "cuda", "--quick", "--out",
                               str(out / "throughput")], out / "throughput.txt")[0]
    if not args.skip_sweep:
        code, seconds = run([sys.executable, "train.py", *SWEEP], out / "design_card.txt")
        codes["sweep"] = code
        aggregated = out / "design_card"
        run([sys.executable, "scripts/aggregate.py", str(ROOT / "multirun" / "gpu_check"), "--out", str(aggregated)],
            out / "aggregate.txt")
        table = aggregated / "tables.md"
        (out / "design_card.md").write_text(
            f"`python train.py {' '.join(SWEEP[:-1])}` on {device['device']}, torch {device['torch']}, "
            f"{device['date']}: {seconds:.0f} s of wall time, exit code {code}.\n\n"
            + (table.read_text() if table.exists() else "(no aggregated table: see aggregate.txt)\n"))
    print(json.dumps(codes))
    return max(codes.values()) and 1


if __name__ == "__main__":
    sys.exit(main())
