"""The command line: ``main`` runs one command and turns every outcome into an exit status and at
most one line on stderr; :mod:`~nvcodec.cli.commands` parses, :mod:`~nvcodec.cli.output` prints.

Exit status: 0 done; 1 bad input (a missing, unreadable or damaged file, an output that would
replace an input or an existing file, a budget this clip cannot reach); 2 usage error (an option
out of range or options that exclude each other); 3 internal error (a bug: one line, and the
traceback with ``NVCODEC_DEBUG=1``); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback

import typer

from nvcodec.cli.commands import app
from nvcodec.errors import NvcError, UsageError

EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 3, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program stands so that every cleanup of Ctrl-C runs."""


_TERMINATED = threading.Event()


def _terminate(signum: int, frame: object) -> None:
    _TERMINATED.set()  # typer turns the interrupt into exit status 130: remember it was SIGTERM
    raise Terminated()


def _stopped(terminated: bool) -> int:
    print(f"nvcodec: {'terminated' if terminated else 'interrupted'}; no output written", file=sys.stderr)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def _run(argv: list[str] | None) -> int:
    """Run one command; map every outcome to an exit status and at most one line on stderr."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="nvcodec", standalone_mode=False)
    except UsageError as exc:
        print(f"nvcodec: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NvcError as exc:
        print(f"nvcodec: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (KeyboardInterrupt, typer.Abort):
        return _stopped(_TERMINATED.is_set())
    except Exception as exc:  # the option parser's usage errors carry format_message and exit_code
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            print(f"nvcodec: error: {exc.format_message()}", file=sys.stderr)
            return int(exc.exit_code)
        return _internal_error(exc)
    if rv == EXIT_INTERRUPTED:  # typer's answer to an interrupt inside a command
        return _stopped(_TERMINATED.is_set())
    return rv if isinstance(rv, int) else 0


def _internal_error(exc: Exception) -> int:
    """A bug: one line naming it (the traceback too with ``NVCODEC_DEBUG=1``), exit status 3."""
    debug = bool(os.environ.get("NVCODEC_DEBUG"))
    if debug:
        traceback.print_exception(exc)
    where = "" if debug else " (NVCODEC_DEBUG=1 shows the traceback)"
    print(f"nvcodec: internal error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring). SIGTERM is handled
    like Ctrl-C: no partial output is left."""
    if threading.current_thread() is not threading.main_thread():
        return _run(argv)
    _TERMINATED.clear()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["app", "main"]
