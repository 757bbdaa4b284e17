"""Inputs that can be read only once (a pipe, ``/dev/stdin``, a named fifo, a socket) copied once
to a temporary file, so that every pass an encode makes (counting frames, reading segments,
fingerprinting for ``--resume``) reads the same bytes."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from nvcodec.errors import NvcError

CHUNK = 1 << 20


STDIN = "-"
"""The input name that means standard input."""


def readable_once(path: Path) -> bool:
    """Whether ``path`` is ``-`` (standard input) or names something that is not a regular file,
    a folder or missing: its bytes are gone once read."""
    if str(path) == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextlib.contextmanager
def spooled(path: Path | None) -> Iterator[Path | None]:
    """``path`` itself, or, for an input :func:`readable_once`, a temporary copy of all its bytes
    (in the system's temporary folder, removed afterwards); an error raised inside names ``path``,
    not the copy. A signal while waiting for the writer of a fifo ends the wait (Ctrl-C, SIGTERM)."""
    if path is None or not readable_once(path):
        yield path
        return
    fd, name = tempfile.mkstemp(prefix=f"nvcodec{os.getpid()}.", suffix=f".input{path.suffix}")
    copy = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy(path, out, copy)
        yield copy
    except NvcError as exc:
        exc.args = (str(exc).replace(str(copy), str(path)),)
        raise
    finally:
        copy.unlink(missing_ok=True)


def _copy(path: Path, out: BinaryIO, copy: Path) -> None:
    """Every byte of ``path`` into ``out`` (the file ``copy``), each failure named."""
    try:  # a fifo blocks here until it has a writer
        src = os.fdopen(os.dup(0), "rb") if str(path) == STDIN else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise NvcError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with src:
        while True:
            try:
                chunk = src.read(CHUNK)
            except OSError as exc:
                raise NvcError(f"{path}: cannot read: {exc.strerror or exc}") from None
            if not chunk:
                return
            try:
                out.write(chunk)
            except OSError as exc:
                raise NvcError(f"{copy}: cannot keep a copy of the input {path}: {exc.strerror or exc}") from None
