"""Exceptions that the CLI turns into one-line messages (no traceback)."""

from __future__ import annotations


class NvcError(Exception):
    """A user-facing failure: bad input, an impossible budget, an unwritable output.

    ``str(err)`` is the whole one-line message, for example ``in.mp4: not a video``.
    """


class UsageError(NvcError):
    """The command line itself is wrong (an option out of range, options that exclude each other),
    whatever the files: exit status 2, like the option parser's own errors."""


class CorruptFileError(NvcError):
    """A ``.nrv`` file that is truncated, altered or otherwise unreadable."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: corrupt .nrv file: {what}")
        self.what = what
