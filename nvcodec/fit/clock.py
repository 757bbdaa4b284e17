"""Training stages run by the wall clock (``--time``): a stage's learning-rate schedule follows the
share of its seconds that has passed, not of a step count fixed in advance, and the stage ends
when its seconds are spent, so a machine that slows down mid-fit costs steps, not time.

A :class:`StageClock` is one schedule (warm-up, then cosine decay, as
:func:`~nvcodec.fit.train.lr_factor`) over ``seconds`` from ``start``; a fit given it runs the
part of the schedule up to ``end`` (a share of it: the warm-up moves from the frame encoder to the
embedding table part of the way through one schedule) and counts the steps it ran.
"""

from __future__ import annotations

import math
import time


def lr_at(progress: float, warmup: float) -> float:
    """Multiplier of the peak lr at ``progress`` (0..1) through a schedule: 0.1 -> 1 linearly over
    the first ``warmup`` of it, then cosine to 0 (:func:`~nvcodec.fit.train.lr_factor` by share)."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (progress - warmup) / max(1.0 - warmup, 1e-9)))


class StageClock:
    """One learning-rate schedule over ``seconds`` of wall time from ``start`` (``time.perf_counter``).

    Attributes:
        start: when the schedule began.
        seconds: its length.
        end: the share of the schedule after which the current fit stops (1: all of it).
        min_steps: the fewest steps the current fit runs, whatever the clock says (one epoch: a
            stage that cannot train every frame once is not worth its export).
        epochs: the epochs the schedule was planned to hold (for the progress display).
        steps: steps run so far under this clock (all its fits).
    """

    def __init__(self, seconds: float, min_steps: int, epochs: int, start: float | None = None) -> None:
        self.start = time.perf_counter() if start is None else start
        self.seconds, self.end = max(seconds, 1e-6), 1.0
        self.min_steps, self.epochs, self.steps = max(1, min_steps), max(1, epochs), 0
        self._first = 0

    def progress(self) -> float:
        """The share of the schedule's seconds that has passed."""
        return (time.perf_counter() - self.start) / self.seconds

    def until(self, end: float) -> StageClock:
        """This clock, its next fit stopping at share ``end`` of the schedule (and running at least
        :attr:`min_steps` steps from now)."""
        self.end, self._first = end, self.steps
        return self

    def expired(self, progress: float) -> bool:
        """Whether the current fit should stop at ``progress`` (its share is spent and it ran its
        fewest steps)."""
        return progress >= self.end and self.steps - self._first >= self.min_steps

    def elapsed(self) -> float:
        """Seconds since the schedule began."""
        return time.perf_counter() - self.start
