"""The ``memcap`` command: what a checkout runs as scripts, from an installed wheel too.

    memcap train [HYDRA OVERRIDES ...]      # = python train.py ...   (-m to sweep, --help, --cfg job, ...)
    memcap aggregate SWEEP_DIR ... [--style single] ...   # = memcap-aggregate ...
    memcap status SWEEP_DIR ...             # each job: done, training, interrupted, failed; its last log line
    memcap --version

``memcap train`` composes the same configs (``memcap.paths.conf_dir()``: the
checkout's conf/, or the wheel's copy) and runs the same job as train.py; its
Hydra job is named ``train`` (conf/train.yaml) as train.py's is, so each job directory has the
same files (``train.log``, ``.hydra/``). Output goes under the current
directory (``outputs/``, ``multirun/``), as with train.py.
"""

from __future__ import annotations

import signal
import sys

from memcap import __version__

USAGE = __doc__.split("\n\n")[1]
COMMANDS = ("train", "aggregate", "status")


def train(argv: list[str]) -> int:
    """Run train.py's Hydra app with ``argv`` as its command line, after ``memcap.overrides`` checked it."""
    import os

    import hydra

    from memcap import overrides
    from memcap.configs import register_configs
    from memcap.lifecycle import Terminated
    from memcap.lifecycle import main as run_job
    from memcap.paths import conf_dir

    register_configs()
    if os.environ.get("HYDRA_FULL_ERROR") != "1" and (wrong := overrides.problem(argv)):
        print(f"memcap: error: {wrong}", file=sys.stderr)
        return 1

    @hydra.main(config_path=str(conf_dir()), config_name="train", version_base="1.3")
    def _train(cfg) -> None:
        run_job(cfg)

    sys.argv = [sys.argv[0], *argv]  # Hydra reads sys.argv; conf/train.yaml names the job "train"
    try:
        _train()
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (Terminated) outside a fit: in the LP oracle
        # The job has said what it saved ("interrupted: ... saved as running"); a traceback would add nothing.
        signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
        return 128 + signum  # the shell's convention for a process ended by a signal
    return 0


def aggregate(argv: list[str]) -> int:
    from memcap.aggregate.cli import main

    return main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(f"usage:\n{USAGE}")
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"memcap {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"memcap: unknown command {command!r} (choose from {', '.join(COMMANDS)})\nusage:\n{USAGE}",
              file=sys.stderr)
        return 2
    if command == "status":
        from memcap.status import main as status

        return status(rest)
    return train(rest) if command == "train" else aggregate(rest)


if __name__ == "__main__":
    sys.exit(main())
