"""Pieces of one job in worker processes (memcap.workers): results as they finish, the workers' log lines in
the job's log with their piece named, and no worker left behind when the job is interrupted."""

import logging
import multiprocessing
import signal
import time

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


def test_an_interrupt_stops_every_worker():
    """A signal while the workers are busy (here SIGALRM standing in for SIGTERM or Ctrl-C, as the job turns
    them into an exception) reaches the job's process; no worker outlives it."""
    def stop(*_):
        raise Stopped

    previous = signal.signal(signal.SIGALRM, stop)
    start = time.monotonic()
    try:
        signal.alarm(5)  # the spawned workers have started their hour-long pieces by then
        with pytest.raises(Stopped):
            list(map_in_processes(time.sleep, [("a", 3600), ("b", 3600)], workers=2))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 60
    assert multiprocessing.active_children() == []
