"""Encodes planned in wall-clock time (``--time``): the encoder times a few of its own optimizer
steps, renders and one export on copies of what it is about to fit, then picks the epoch count
whose fit and post-fit work fill the time.

The plan, for a rate–distortion encode of ``n`` frames in batches of ``b``: ``E`` epochs cost
``ceil(n / b) x (enc(E) x t_fit + (warm(E) - enc(E)) x t_table + (rd(E) + exact(E)) x t_rd)``
seconds, the stages' epochs as :meth:`nvcodec.pipeline.options.Training.stage_epochs` splits them (the warm-up
trains for distortion alone, its first ``enc(E)`` epochs through the frame encoder and the rest with
the embedding table; the ``rd`` and ``exact`` stages carry the quantizers and the rate term).
The work after the fit costs ``POST_PASSES x n x t_frame + LANDING_EXPORTS x t_export``: the float
model's and the decoder's renders with their PSNR and MS-SSIM, and the exports of the step-scale
search. The epochs fill
:data:`TIME_SHARE` of the time left; the rest absorbs the estimate's error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from nvcodec.errors import UsageError

PROBE_WARM, PROBE_STEPS = 2, 12
"""Untimed steps (first-call allocations), then timed steps, per probed stage."""
TIME_SHARE = 0.9
"""Share of the time left that the planned work fills."""
POST_PASSES = 2
"""Renders (with PSNR and MS-SSIM) of every frame after the fit: the float model's, the decoder's."""
LANDING_EXPORTS = 4
"""Exports the step-scale search is planned for (it needs one when the fit lands in the window)."""
MAX_SECONDS = 7 * 24 * 3600.0
MAX_EPOCHS = 100_000
_NUMBER = r"(\d+(?:\.\d*)?)"
_DURATION = re.compile(rf"{_NUMBER}|(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?")


def parse_duration(text: str) -> float:
    """Seconds of a duration such as ``90``, ``90s``, ``10m``, ``1.5h`` or ``1h30m`` (a bare
    number is seconds); :class:`UsageError` for anything else or outside (0, one week]."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        raise UsageError(f"--time {text}: use a duration such as 90s, 10m, 1.5h or 1h30m")
    bare, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = bare + 3600.0 * hours + 60.0 * minutes + seconds
    if not 0 < total <= MAX_SECONDS:
        raise UsageError(f"--time {text}: must be more than 0 and at most a week")
    return total


def time_steps(run: Callable[[int], None]) -> float:
    """Seconds per step of ``run(k)`` (which performs ``k`` steps), after :data:`PROBE_WARM`
    untimed ones."""
    run(PROBE_WARM)
    started = time.perf_counter()
    run(PROBE_STEPS)
    return (time.perf_counter() - started) / PROBE_STEPS


def timed(work: Callable[[], object]) -> float:
    """Seconds ``work()`` takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Costs:
    """What the probe measured, in seconds.

    Attributes:
        fit_step: one distortion-only optimizer step through the frame encoder.
        table_step: one distortion-only step with the embedding table (the encoder set aside).
        rd_step: one rate–distortion step (quantizers attached, rate term priced).
        frame: rendering one frame and measuring it (PSNR, MS-SSIM).
        export: quantizing, entropy-coding and packing one candidate file.
    """

    fit_step: float
    table_step: float
    rd_step: float
    frame: float
    export: float


@dataclass(frozen=True)
class TimePlan:
    """Epochs chosen for a time budget and the seconds they were planned to take."""

    epochs: int
    planned_seconds: float


def plan_epochs(fit_seconds: Callable[[int], float], post_seconds: float, seconds_left: float) -> TimePlan:
    """The most epochs (at least 1) whose fit (``fit_seconds(epochs)``, non-decreasing) and
    post-fit work fit in :data:`TIME_SHARE` of ``seconds_left``."""
    room = TIME_SHARE * seconds_left - post_seconds
    lo, hi = 1, 2
    while fit_seconds(hi) <= room and hi < MAX_EPOCHS:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:  # fit_seconds(lo) fits (or lo == 1), fit_seconds(hi) does not
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fit_seconds(mid) <= room else (lo, mid)
    return TimePlan(lo, fit_seconds(lo) + post_seconds)


def post_seconds(costs: Costs, frames: int) -> float:
    """Planned seconds of the work after the fit (see the module docstring)."""
    return POST_PASSES * frames * costs.frame + LANDING_EXPORTS * costs.export
