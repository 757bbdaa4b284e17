"""Worker processes of ``--workers K`` that cannot outlive the command.

Each job runs in a fresh ``spawn`` process, at most K at a time. A worker:

* ignores Ctrl-C (SIGINT is ignored when it is started, which survives ``exec``): a Ctrl-C to the
  terminal's process group is the parent's to handle, so no worker prints a traceback;
* dies with its parent, SIGKILL included: Linux sends it SIGKILL when the parent dies
  (``PR_SET_PDEATHSIG``), and a thread that watches the parent's process id ends it elsewhere;
* reports its outcome on a pipe: done, a user-facing error (re-raised in the parent as the same
  kind of :class:`~nvcodec.errors.NvcError`) or a crash.

When the parent stops for any reason (an error, Ctrl-C, SIGTERM), every running worker is killed
and reaped before the exception goes on, so the command ends within moments and leaves no process.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from nvcodec.errors import NvcError, UsageError

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent dies."""
WATCH_SECONDS = 0.5
"""How often a worker's watcher thread checks that its parent is alive."""
Job = tuple[int, tuple[Any, ...]]
"""A job's number (for messages and progress) and the arguments of the function it runs."""


@dataclass
class _Worker:
    name: str
    number: int
    process: BaseProcess
    conn: Connection


def run_jobs(
    run: Callable[..., None], jobs: Iterable[Job], workers: int, done: Callable[[int], None], name: str = "job"
) -> None:
    """Call ``run(*args)`` for each job in a worker process, ``workers`` at a time, taking the next
    job from ``jobs`` only when a worker is free; ``done(number)`` after each finished job. The
    first failure stops everything and is raised here (``name``: what a job is, for messages)."""
    context = multiprocessing.get_context("spawn")
    running: list[_Worker] = []
    try:
        for number, args in jobs:
            while len(running) >= workers:
                _reap(running, done)
            running.append(_start(context, f"{name} {number}", number, run, args))
        while running:
            _reap(running, done)
    finally:
        for worker in running:
            worker.process.kill()
        for worker in running:
            worker.process.join()
            worker.conn.close()


def _start(context: Any, name: str, number: int, run: Callable[..., None], args: tuple[Any, ...]) -> _Worker:
    """Start a worker with SIGINT ignored, then hand it its job over the pipe (after the start, so
    a Ctrl-C while a large job is being sent reaches the parent)."""
    mine, theirs = context.Pipe()
    process = context.Process(target=_child, args=(os.getpid(), theirs), daemon=True)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        process.start()
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    theirs.close()
    worker = _Worker(name, number, process, mine)
    try:
        mine.send((run, args))
    except BrokenPipeError:
        pass  # it died at once: _reap reports it
    return worker


def _reap(running: list[_Worker], done: Callable[[int], None]) -> None:
    """Wait until a worker reports or dies; take it off ``running``; raise its failure."""
    ready = set(wait([w.conn for w in running] + [w.process.sentinel for w in running]))
    for worker in [w for w in running if w.conn in ready or w.process.sentinel in ready]:
        try:
            outcome = worker.conn.recv() if worker.conn.poll() else None
        except (EOFError, OSError):
            outcome = None
        worker.process.join()
        worker.conn.close()
        running.remove(worker)
        _raise_failure(worker, outcome)
        done(worker.number)


def _raise_failure(worker: _Worker, outcome: tuple[str, str] | None) -> None:
    """Nothing when the job finished; else its error as the parent's exception."""
    if outcome is not None and outcome[0] == "done":
        return
    if outcome is None:
        code = worker.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        raise NvcError(f"{worker.name}: its worker process ended without a result ({how}; out of memory?)")
    kind, message = outcome
    if kind == "usage":
        raise UsageError(message)
    if kind == "input":
        raise NvcError(message)
    raise RuntimeError(f"{worker.name}: {message}")


def _child(parent: int, conn: Connection) -> None:
    """A worker's body: bind its life to the parent's, run its one job, report the outcome."""
    _die_with(parent)
    run, args = conn.recv()
    try:
        run(*args)
    except UsageError as exc:
        conn.send(("usage", str(exc)))
    except NvcError as exc:
        conn.send(("input", str(exc)))
    except Exception as exc:  # a bug in the worker: the parent reports it as an internal error
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    else:
        conn.send(("done", ""))
    conn.close()


def _die_with(parent: int) -> None:
    """End this process when ``parent`` ends: a parent-death signal where the kernel has one, and
    a watcher thread everywhere; a parent already gone ends it now."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the watcher alone
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
