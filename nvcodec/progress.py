"""Progress reporting for long stages: a silent default, a rich bar with ETA on stderr, and a
JSON-lines log of every epoch (``encode --log``) beside either."""

from __future__ import annotations

import json
import time
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Reporter:
    """Receives stage starts, advances and notes. The base class ignores them."""

    def start(self, name: str, total: int) -> int:
        """A stage of ``total`` steps begins; returns a handle for :meth:`advance`."""
        return 0

    def advance(self, steps: int = 1, task: int | None = None, **fields: Any) -> None:
        """``steps`` more steps of ``task`` (default: the latest stage) are done; ``fields`` (loss,
        psnr, ...) describe the latest state."""

    def note(self, text: str) -> None:
        """A one-line remark for the user (not a result)."""

    def close(self) -> None:
        """The work is over."""


class RichReporter(Reporter):
    """A rich progress bar on stderr: stage, bar, count, loss/PSNR, elapsed time and ETA."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.task: Any = None
        self.live = False

    def start(self, name: str, total: int) -> int:
        """Open a new bar for the stage (the display starts with the first bar, so a command that
        fails before any work prints nothing but its error line)."""
        if not self.live:
            self.progress.start()
            self.live = True
        self.task = self.progress.add_task(name, total=max(total, 1), info="")
        return int(self.task)

    def advance(self, steps: int = 1, task: int | None = None, **fields: Any) -> None:
        """Move the bar and show the latest figures."""
        info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
        self.progress.update(TaskID(self.task if task is None else task), advance=steps, info=info)

    def note(self, text: str) -> None:
        """Print a remark above the bars."""
        self.progress.console.print(text)

    def close(self) -> None:
        """Stop redrawing."""
        if self.live:
            self.progress.stop()
            self.live = False


class LogReporter(Reporter):
    """Everything ``inner`` receives, and one JSON line per advance written to ``stream``:
    ``{"stage", "seconds", ...}`` with the advance's own fields (a fit's ``epoch``, ``loss``,
    ``psnr`` on its training frames, ``lr``; the rate–distortion stages also ``bpp``, its rate
    estimate, and ``lam``, and their ``psnr`` is the epoch's last batch's), ``seconds`` counted
    from the log's start; notes as ``{"note"}``."""

    def __init__(self, inner: Reporter, stream: IO[str]) -> None:
        self.inner, self.stream, self.started = inner, stream, time.perf_counter()
        self.stages: dict[int, str] = {}
        self.current = ""

    def _write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()

    def start(self, name: str, total: int) -> int:
        """Forward the stage and remember its name."""
        handle = self.inner.start(name, total)
        self.stages[handle], self.current = name, name
        return handle

    def advance(self, steps: int = 1, task: int | None = None, **fields: Any) -> None:
        """Forward, and log the fields under the stage's name."""
        self.inner.advance(steps, task, **fields)
        stage = self.current if task is None else self.stages.get(task, self.current)
        self._write({"stage": stage, "seconds": round(time.perf_counter() - self.started, 3), **fields})

    def note(self, text: str) -> None:
        """Forward, and log the note."""
        self.inner.note(text)
        self._write({"note": text})

    def close(self) -> None:
        """Forward; the caller closes the stream."""
        self.inner.close()
