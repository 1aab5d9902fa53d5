"""Install torch into this Python, the CPU build where there is no GPU: `make setup` runs it.

    python scripts/install_torch.py [--index URL] [--dry-run] [REQUIREMENT [PIP_ARGS ...]]

REQUIREMENT defaults to torch==2.13.0; PIP_ARGS go to pip as they are (as the
Makefile passes ``TORCH="torch==2.13.0 --index-url URL"``). Which build:

1. ``--index URL`` (``make setup TORCH_INDEX=URL``), or an index in PIP_ARGS: that
   index, e.g. https://download.pytorch.org/whl/cu128 for a CUDA 12.8 build.
2. A GPU (``nvidia-smi -L`` lists one), or not Linux: pip's default. On Linux
   PyPI's torch is the CUDA build; on macOS and Windows it is the CPU build.
3. Linux without a GPU: the CPU build. pip is first asked which torch it would
   install (``pip install --dry-run --report``, metadata only); when that is
   already a CPU build (version ``+cpu``: a local wheel or mirror configured in
   pip.conf, as on machines without internet access), pip installs it as it is;
   otherwise (PyPI's multi-GB CUDA build) the CPU index
   https://download.pytorch.org/whl/cpu is asked for explicitly.

``--dry-run`` prints the pip command and why, and installs nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys

DEFAULT = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_INDEX_ARGS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--no-index")


def has_gpu() -> bool:
    """Does nvidia-smi list a GPU? (ROCm users bring their build with --index.)"""
    if not shutil.which("nvidia-smi"):
        return False
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def resolved_version(requirement: str, pip_args: list[str]) -> str | None:
    """The torch version pip would install for ``requirement`` with the local pip config, or None if it cannot say."""
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--ignore-installed",
               "--report", "-", requirement, *pip_args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        report = json.loads(done.stdout) if done.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None
    versions = [item["metadata"]["version"] for item in report.get("install", [])
                if item.get("metadata", {}).get("name", "").lower() == "torch"]
    return versions[0] if versions else None


def choose(requirement: str, pip_args: list[str], index: str | None, gpu: bool, system: str,
           resolve=resolved_version) -> tuple[list[str], str]:
    """(the arguments after ``pip install``, why); ``resolve`` is called only on Linux without a GPU."""
    install = [requirement, *pip_args]
    if index:
        return [*install, "--index-url", index], f"the index asked for ({index})"
    if any(arg.split("=")[0] in _INDEX_ARGS for arg in pip_args):
        return install, "the index given in the pip arguments"
    if gpu:
        return install, "a GPU is present: pip's default build (on Linux from PyPI: CUDA)"
    if system != "Linux":
        return install, f"{system}: pip's default build is the CPU build"
    version = resolve(requirement, pip_args)
    if version and "+cpu" in version:
        return install, f"no GPU; pip's configuration already provides the CPU build ({version})"
    return [*install, "--index-url", CPU_INDEX], f"no GPU: the CPU build from {CPU_INDEX}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="the index to install torch from (make setup TORCH_INDEX=URL)")
    parser.add_argument("--dry-run", action="store_true", help="print the pip command, install nothing")
    parser.add_argument("torch", nargs=argparse.REMAINDER, help=f"requirement and pip arguments (default {DEFAULT})")
    args = parser.parse_args(argv)
    words = [w for w in args.torch if w != "--"] or [DEFAULT]
    install, why = choose(words[0], words[1:], args.index or None, has_gpu(), platform.system())
    command = [sys.executable, "-m", "pip", "install", "-q", *install]
    print(f"torch: {why}\n  {' '.join(command[1:])}", flush=True)
    return 0 if args.dry_run else subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
