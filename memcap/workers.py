"""Independent pieces of one job in worker processes, their log lines in the job's log.

The LP oracle's datasets are independent and each takes minutes to hours of
one core (N=500: 30-40 minutes), so a job on a machine with free cores solves
several at once (``search.oracle_workers``). Processes, not threads: much of
that work is Python (the greedy's bookkeeping, the exact-arithmetic circuit
checks), which holds the GIL.

What a user relies on, kept here once:

- the workers' log lines reach the job's handlers (terminal and train.log),
  each tagged with its piece, through a queue (the logging cookbook's
  QueueHandler/QueueListener);
- the workers are spawned, not forked: a forked child of a process that has
  started torch's OpenMP threads can hang in its first parallel region;
- Ctrl-C or SIGTERM reaches the job's process, which stops every worker
  (``Pool.terminate``) before the interrupt goes on up; the workers ignore
  SIGINT themselves, so a terminal's Ctrl-C prints no traceback per worker.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_tag = ""  # in a worker: the piece it is working on, prefixed to its log lines


class _Tagged(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _tag:
            record.msg = f"[{_tag}] {record.getMessage()}"
            record.args = None
        return True


class _Relay(logging.Handler):
    """In the job's process: hands a worker's record to the logger it was made by, so the job's own
    handlers (Hydra's console and train.log) format and write it."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


def _start_worker(queue, level: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the job's process stops the workers
    import torch

    torch.set_num_threads(1)  # each worker is one core's worth of work
    handler = logging.handlers.QueueHandler(queue)
    handler.addFilter(_Tagged())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _run_tagged(task: tuple[Callable, str, Any]) -> Any:
    global _tag
    fn, _tag, item = task
    return fn(item)


def map_in_processes(fn: Callable[[Any], Any], items: Iterable[tuple[str, Any]], workers: int) -> Iterator[Any]:
    """``fn(item)`` for each (tag, item), in up to ``workers`` spawned processes, yielded as each finishes.

    ``fn`` must be importable (a module-level function) and ``item`` picklable.
    An exception in ``fn`` ends the map with that exception; an interrupt
    stops every worker first.
    """
    tasks = [(fn, tag, item) for tag, item in items]
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    listener = logging.handlers.QueueListener(queue, _Relay())
    listener.start()
    try:
        with context.Pool(min(workers, len(tasks)), _start_worker,
                          (queue, logging.getLogger("memcap").getEffectiveLevel())) as pool:
            yield from pool.imap_unordered(_run_tagged, tasks)  # leaving the block terminates the workers
    finally:
        listener.stop()
