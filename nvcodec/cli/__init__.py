"""The command line: ``main`` runs one command and turns every outcome into an exit status and at
most one line on stderr; :mod:`~nvcodec.cli.commands` parses, :mod:`~nvcodec.cli.output` prints.

Exit status: 0 done; 1 bad input or a failed read or write (a missing, unreadable or damaged file,
an output that would replace an input or an existing file, a budget this clip cannot reach, a full
disk, a symbolic link loop); 2 usage error (an option out of range or options that exclude each
other); 3 internal error (a bug: one line, and the traceback with ``NVCODEC_DEBUG=1``); 130
interrupted (Ctrl-C); 143 terminated (SIGTERM). The line never spans two lines (control characters
in names are escaped); with ``--json``, standard output gets ``{"error": ..., "status": ...}`` too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import traceback

import typer

from nvcodec.cli.commands import app
from nvcodec.cli.output import discard_stdout
from nvcodec.errors import NvcError, UsageError

EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 3, 130, 143
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program stands so that every cleanup of Ctrl-C runs."""


_TERMINATED = threading.Event()
_STOPPING = threading.Event()
_LOCK = threading.Lock()

REDELIVER_SECONDS = 5.0
"""After SIGTERM, the signal is raised again this often until the command has stopped: Python runs
a signal's handler between two bytecodes of the main thread, and an exception it raises there is
lost when those bytecodes belong to a finalizer (an object's ``__del__``, a weakref callback), so
one SIGTERM alone could leave an encode running to its end."""


def _terminate(signum: int, frame: object) -> None:
    if _STOPPING.is_set():  # the command is already stopping: nothing more to interrupt
        return
    if not _TERMINATED.is_set():
        _TERMINATED.set()  # typer turns the interrupt into exit status 130: remember it was SIGTERM
        threading.Thread(target=_redeliver, daemon=True).start()
    raise Terminated()


def _redeliver() -> None:
    """Send SIGTERM to this process every :data:`REDELIVER_SECONDS` until the command stops."""
    while not _STOPPING.wait(REDELIVER_SECONDS):
        with _LOCK:
            if not _STOPPING.is_set():
                os.kill(os.getpid(), signal.SIGTERM)


def _stopped(argv: list[str], terminated: bool) -> int:
    status = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    return _error(argv, f"{'terminated' if terminated else 'interrupted'}; no output written", status, prefix="")


def _run(argv: list[str]) -> int:
    """Run one command; map every outcome to an exit status and at most one line on stderr."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="nvcodec", standalone_mode=False)
    except UsageError as exc:
        return _error(argv, str(exc), EXIT_USAGE)
    except NvcError as exc:
        return _error(argv, str(exc), EXIT_INPUT)
    except (KeyboardInterrupt, typer.Abort):
        _stop()
        return _stopped(argv, _TERMINATED.is_set())
    except OSError as exc:  # a read or write that no layer named: the file if the error knows it
        return _error(argv, _os_error(exc), EXIT_INPUT)
    except Exception as exc:  # the option parser's usage errors carry format_message and exit_code
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            return _error(argv, exc.format_message(), int(exc.exit_code))
        return _internal_error(argv, exc)
    if rv == EXIT_INTERRUPTED:  # typer's answer to an interrupt inside a command
        _stop()
        return _stopped(argv, _TERMINATED.is_set())
    return rv if isinstance(rv, int) else 0


def _stop() -> None:
    """Mark the command stopped: no SIGTERM is raised again (:func:`_redeliver`)."""
    with _LOCK:
        _STOPPING.set()


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename is not None else ""
    return f"{where}{exc.strerror or exc}"


def one_line(text: str) -> str:
    """``text`` with control characters (a newline in a file name) escaped as ``\\n``, ``\\x1b``..."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def _error(argv: list[str], message: str, status: int, prefix: str = "error: ") -> int:
    """Print one line on stderr (and the JSON object on stdout with ``--json``); return ``status``."""
    message = one_line(message.strip())
    print(f"nvcodec: {prefix}{message}", file=sys.stderr)
    if "--json" in argv[1:]:
        try:
            print(json.dumps({"error": message, "status": status}), flush=True)
        except OSError:
            discard_stdout()
    return status


def _debug() -> bool:
    """Whether ``NVCODEC_DEBUG`` asks for tracebacks (1, true, yes or on)."""
    return os.environ.get("NVCODEC_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def _internal_error(argv: list[str], exc: Exception) -> int:
    """A bug: one line naming it (the traceback too with ``NVCODEC_DEBUG=1``), exit status 3."""
    if _debug():
        traceback.print_exception(exc)
    where = "" if _debug() else " (NVCODEC_DEBUG=1 shows the traceback)"
    return _error(argv, f"{type(exc).__name__}: {exc}{where}", EXIT_INTERNAL, prefix="internal error: ")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring). SIGTERM is handled
    like Ctrl-C: no partial output is left."""
    args = list(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is not threading.main_thread():
        return _run(args)
    _TERMINATED.clear()
    _STOPPING.clear()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(args)
    finally:
        _stop()
        signal.signal(signal.SIGTERM, previous)


__all__ = ["app", "main"]
