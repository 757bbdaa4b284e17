"""Training stages run by the wall clock (``--time``): a stage's learning-rate schedule follows the
share of its seconds that has passed, not of a step count fixed in advance, and the stage ends
when its seconds are spent, so a machine that slows down mid-fit costs steps, not time.

A :class:`StageClock` is one schedule (warm-up, then cosine decay, as
:func:`~nvcodec.fit.train.lr_factor`) over ``seconds`` from ``start``; a fit given it runs the
part of the schedule up to ``end`` (a share of it: the warm-up moves from the frame encoder to the
embedding table part of the way through one schedule) and counts the steps it ran.

With a ``tolerance`` the schedule runs by steps instead: the stage plans the steps its seconds
buy at the expected pace, snapped to a grid (:func:`snap`), and keeps that plan while the pace it
measures at :data:`CHECKS` points of the stage stays within the tolerance of the plan; otherwise it
plans again from the measured pace. On a steady machine every run then takes the same steps with
the same learning rates (same seed, same bytes, and budgets that share a network share its
training); a machine that slows down still costs steps, not time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

PLAN_GRID = 8
"""Planned steps snap to ``2 ** (k / PLAN_GRID)`` (9 % apart), so that a pace measured a few
per cent differently plans the same steps."""
CHECKS = 8
"""Points of a planned stage (every eighth of its steps) where the measured pace is compared with
the plan."""


def snap(steps: float) -> int:
    """``steps`` (at least 1) rounded to the nearest point of the :data:`PLAN_GRID` grid (whole
    steps below two octaves of the grid)."""
    if steps <= 2 * PLAN_GRID:
        return max(1, round(steps))
    return round(2.0 ** (round(PLAN_GRID * math.log2(steps)) / PLAN_GRID))


def lr_at(progress: float, warmup: float) -> float:
    """Multiplier of the peak lr at ``progress`` (0..1) through a schedule: 0.1 -> 1 linearly over
    the first ``warmup`` of it, then cosine to 0 (:func:`~nvcodec.fit.train.lr_factor` by share)."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (progress - warmup) / max(1.0 - warmup, 1e-9)))


@dataclass(frozen=True)
class Pace:
    """Expected seconds per step of a planned schedule: ``first`` for its first ``share`` of the
    planned steps (the warm-up's steps through the frame encoder), ``later`` after them."""

    first: float
    later: float
    share: float = 0.0

    def seconds(self, steps: int, planned: int) -> float:
        """Expected seconds of the first ``steps`` of ``planned`` steps."""
        head = min(float(steps), self.share * planned)
        return head * self.first + (steps - head) * self.later

    def mean(self) -> float:
        """Expected seconds per step over the whole schedule."""
        return self.share * self.first + (1.0 - self.share) * self.later


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
        per_epoch: steps of one epoch.
        tolerance: None: the schedule follows the seconds; else it follows :attr:`planned` steps,
            planned again when the measured pace strays from the plan by more than this share.
        planned: the steps the schedule holds (with a tolerance).
        pace: the seconds per step :attr:`planned` expects (default: ``seconds`` spread evenly).
        slack: with a tolerance, the most seconds the plan may run past :attr:`seconds` at the
            measured pace before it is planned again, even within the tolerance (the stages after
            this one lose what it overruns); None: the tolerance alone.
    """

    def __init__(
        self,
        seconds: float,
        min_steps: int,
        epochs: int,
        start: float | None = None,
        per_epoch: int = 1,
        tolerance: float | None = None,
        planned: int | None = None,
        pace: Pace | None = None,
        slack: float | None = None,
    ) -> None:
        self.start = time.perf_counter() if start is None else start
        self.seconds, self.end = max(seconds, 1e-6), 1.0
        self.min_steps, self.epochs, self.steps = max(1, min_steps), max(1, epochs), 0
        self.per_epoch, self.tolerance = max(1, per_epoch), tolerance
        self.planned = planned or snap(self.epochs * self.per_epoch)
        self.pace = pace or Pace(self.seconds / self.planned, self.seconds / self.planned)
        self.slack = slack
        self._first, self._checked, self._from, self._last = 0, 0, 0.0, 0.0

    def progress(self) -> float:
        """The share of the schedule that has passed: of its seconds, or (with a tolerance) of its
        planned steps, the plan checked first when a check point is reached. Never ahead of the
        current fit's fewest steps: when its seconds buy fewer steps than :attr:`min_steps`, the
        schedule stretches over the steps that will run (else they would run at the cosine's
        end, a learning rate of zero)."""
        if self.tolerance is None:
            raw = (time.perf_counter() - self.start) / self.seconds
        else:
            if self.steps and self.steps != self._checked and self.steps % max(1, self.planned // CHECKS) == 0:
                self._checked = self.steps
                self._replan()
            raw = self.steps / self.planned
        done = min(1.0, (self.steps - self._first) / self.min_steps)
        self._last = min(raw, self._from + max(self.end - self._from, 0.0) * done)
        return self._last

    def _replan(self) -> None:
        """When the steps so far took more or less than the tolerance around what :attr:`pace`
        expected, or the plan would end more than :attr:`slack` seconds late at the pace they
        measure, scale the pace by that factor and plan the steps the seconds buy at it."""
        factor = self.elapsed() / max(self.pace.seconds(self.steps, self.planned), 1e-9)
        late = factor * self.pace.seconds(self.planned, self.planned) - self.seconds
        if abs(factor - 1.0) > (self.tolerance or 0.0) or (self.slack is not None and late > self.slack):
            self.pace = Pace(self.pace.first * factor, self.pace.later * factor, self.pace.share)
            self.planned = max(self.steps + 1, snap(self.seconds / max(self.pace.mean(), 1e-9)))
            self.epochs = max(1, round(self.planned / self.per_epoch))

    def until(self, end: float) -> StageClock:
        """This clock, its next fit stopping at share ``end`` of the schedule (and running at least
        :attr:`min_steps` steps from now)."""
        self.end, self._first, self._from = end, self.steps, self._last
        return self

    def expired(self, progress: float) -> bool:
        """Whether the current fit should stop at ``progress`` (its share is spent and it ran its
        fewest steps)."""
        return progress >= self.end and self.steps - self._first >= self.min_steps

    def elapsed(self) -> float:
        """Seconds since the schedule began."""
        return time.perf_counter() - self.start
