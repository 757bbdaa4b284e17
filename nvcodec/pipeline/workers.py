"""Worker processes of ``--workers K`` that cannot outlive the command.

Each job runs in a fresh Python process (this interpreter, ``-c`` :data:`BOOTSTRAP`), at most K at
a time. A worker:

* starts in a session of its own (``setsid`` in the child before ``exec``), so a Ctrl-C at the
  terminal, which goes to the foreground process group, reaches the parent alone: the parent
  stops every worker, and no worker prints a traceback. The parent never ignores SIGINT, not even
  while it starts a worker;
* dies with its parent, SIGKILL included: Linux sends it SIGKILL when the parent dies
  (``PR_SET_PDEATHSIG``, set as soon as the worker runs; a parent already gone ends it then), and a
  thread that watches the parent's process id ends it elsewhere;
* gets its job (the function and its arguments, pickled) on its standard input and reports its
  outcome on a pipe of its own: done, a user-facing error (re-raised in the parent as the same kind
  of :class:`~nvcodec.errors.NvcError`) or a crash.

When the parent stops for any reason (an error, Ctrl-C, SIGTERM), every running worker is killed
and reaped before the exception goes on, so the command ends within moments and leaves no process.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from nvcodec.errors import NvcError, UsageError

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent dies."""
WATCH_SECONDS = 0.5
"""How often a worker's watcher thread checks that its parent is alive."""
BOOTSTRAP = (
    "import sys; sys.path[:0] = sys.argv[2:]; from nvcodec.pipeline.workers import serve; serve(int(sys.argv[1]))"
)
"""The worker's command (``python -c BOOTSTRAP FD PATH...``): the parent's import path first, then
:func:`serve` reporting on descriptor FD."""
Job = tuple[int, tuple[Any, ...]]
"""A job's number (for messages and progress) and the arguments of the function it runs."""


@dataclass
class _Worker:
    name: str
    number: int
    process: subprocess.Popen[bytes]
    outcome: int
    """The read end of the worker's outcome pipe."""


def run_jobs(
    run: Callable[..., None],
    jobs: Iterable[Job],
    workers: int,
    done: Callable[[int], None],
    name: str = "job",
    threads: int | None = None,
) -> None:
    """Call ``run(*args)`` for each job in a worker process, ``workers`` at a time, taking the next
    job from ``jobs`` only when a worker is free; ``done(number)`` after each finished job. The
    first failure stops everything and is raised here (``name``: what a job is, for messages).
    ``threads``: the OpenMP threads each worker starts with (``OMP_NUM_THREADS``, which torch
    takes as its default), so that K workers do not each start one thread per core."""
    running: list[_Worker] = []
    env = None if threads is None else {**os.environ, "OMP_NUM_THREADS": str(threads)}
    try:
        for number, args in jobs:
            while len(running) >= workers:
                _reap(running, done)
            running.append(_start(f"{name} {number}", number, run, args, env))
        while running:
            _reap(running, done)
    finally:
        for worker in running:
            worker.process.kill()
        for worker in running:
            worker.process.wait()
            os.close(worker.outcome)


def _start(
    name: str, number: int, run: Callable[..., None], args: tuple[Any, ...], env: dict[str, str] | None = None
) -> _Worker:
    """Start a worker in a session of its own (environment ``env``, None: this one's) and hand it
    its job on its standard input."""
    read, write = os.pipe()
    try:
        command = [sys.executable, "-c", BOOTSTRAP, str(write), *(p for p in sys.path if p)]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=(write,), start_new_session=True, env=env)
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    worker = _Worker(name, number, process, read)
    assert process.stdin is not None
    try:
        pickle.dump((os.getpid(), run, args), process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.close()
    except BrokenPipeError:
        pass  # it died at once: _reap reports it
    except BaseException:
        process.kill()
        process.wait()
        os.close(read)
        raise
    return worker


def _reap(running: list[_Worker], done: Callable[[int], None]) -> None:
    """Wait until a worker reports or dies (its outcome pipe readable or closed); take it off
    ``running``; raise its failure."""
    ready = set(wait([w.outcome for w in running]))
    for worker in [w for w in running if w.outcome in ready]:
        data = _read_all(worker.outcome)
        worker.process.wait()
        os.close(worker.outcome)
        running.remove(worker)
        _raise_failure(worker, pickle.loads(data) if data else None)
        done(worker.number)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _raise_failure(worker: _Worker, outcome: tuple[str, str] | None) -> None:
    """Nothing when the job finished; else its error as the parent's exception."""
    if outcome is not None and outcome[0] == "done":
        return
    if outcome is None:
        code = worker.process.returncode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        raise NvcError(f"{worker.name}: its worker process ended without a result ({how}; out of memory?)")
    kind, message = outcome
    if kind == "usage":
        raise UsageError(message)
    if kind == "input":
        raise NvcError(message)
    raise RuntimeError(f"{worker.name}: {message}")


def serve(fd: int) -> None:
    """A worker's body: bind its life to the parent's, run the one job read from standard input,
    write the outcome to descriptor ``fd``."""
    try:
        parent, run, args = pickle.load(sys.stdin.buffer)
    except EOFError:  # the parent stopped before handing over the job
        os._exit(1)
    _die_with(parent)
    try:
        run(*args)
        outcome = ("done", "")
    except UsageError as exc:
        outcome = ("usage", str(exc))
    except NvcError as exc:
        outcome = ("input", str(exc))
    except Exception as exc:  # a bug in the worker: the parent reports it as an internal error
        outcome = ("crash", f"{type(exc).__name__}: {exc}")
    with os.fdopen(fd, "wb") as out:
        out.write(pickle.dumps(outcome))


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
