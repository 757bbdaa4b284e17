"""Progress reporting for long stages: a silent default and a rich bar with ETA on stderr."""

from __future__ import annotations

from typing import Any

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
