"""Pieces of one job in worker processes (memcap.workers): results as they finish, the workers' log lines in
the job's log with their piece named, and no worker left behind when the job is interrupted."""

import logging
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from memcap.workers import map_in_processes


def test_every_piece_comes_back_once():
    assert sorted(map_in_processes(abs, [(f"n{i}", -i) for i in range(5)], workers=2)) == [0, 1, 2, 3, 4]
    assert list(map_in_processes(abs, [], workers=2)) == []


def test_a_workers_log_lines_reach_the_jobs_handlers_tagged_with_its_piece(caplog):
    say = logging.getLogger("memcap").warning  # a logger pickles by name: the worker logs through its own
    with caplog.at_level("INFO", logger="memcap"):
        list(map_in_processes(say, [("dataset 1", "first"), ("dataset 2", "second")], workers=2))
    assert sorted(r.getMessage() for r in caplog.records) == ["[dataset 1] first", "[dataset 2] second"]
    assert all(r.name == "memcap" and r.levelname == "WARNING" for r in caplog.records)


def test_an_error_in_a_piece_ends_the_map_with_it():
    with pytest.raises(TypeError):
        list(map_in_processes(abs, [("ok", -1), ("bad", "text")], workers=2))
    assert multiprocessing.active_children() == []


class Stopped(Exception):
    pass


HOUR = 3600


def begin_and_sleep(marks: str) -> None:
    """A piece that says it has begun (its worker's pid in a file), sleeps an hour, and says if it ever ends."""
    mark = Path(marks) / f"{os.getpid()}.pid"
    mark.with_suffix(".tmp").write_text("begun")
    os.replace(mark.with_suffix(".tmp"), mark)
    time.sleep(HOUR)
    mark.write_text("ended")


def test_an_interrupt_stops_every_worker(tmp_path):
    """A signal while the workers are busy (here SIGALRM standing in for SIGTERM or Ctrl-C, as the job turns
    them into an exception) reaches the job's process; no worker outlives it. The signal is sent once both
    workers have begun their hour-long pieces."""
    def stop(*_):
        raise Stopped

    def interrupt_once_both_began() -> None:
        deadline = time.monotonic() + 300  # a safety net: the workers never began (asserted below)
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGALRM)

    previous = signal.signal(signal.SIGALRM, stop)
    start = time.monotonic()
    interrupter = threading.Thread(target=interrupt_once_both_began, daemon=True)
    try:
        interrupter.start()
        with pytest.raises(Stopped):
            list(map_in_processes(begin_and_sleep, [("a", str(tmp_path)), ("b", str(tmp_path))], workers=2))
    finally:
        interrupter.join()
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < HOUR  # the map ended before its pieces could have: it stopped them
    marks = {int(p.stem): p.read_text() for p in tmp_path.glob("*.pid")}
    assert list(marks.values()) == ["begun", "begun"]  # both were at work, neither ended
    assert multiprocessing.active_children() == []
    for pid in marks:  # the workers are gone (stopped and reaped), not merely no longer this process's children
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
