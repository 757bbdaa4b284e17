"""Encodes planned in wall-clock time (``--time``): the encoder times a few of its own optimizer
steps, renders and one export on copies of what it is about to fit, then gives each training stage
its seconds (:class:`TimedPlan`), re-dividing the time left at every stage from the pace the steps
really kept, and every stage runs by the clock (:mod:`nvcodec.fit.clock`): a machine that slows
down mid-fit costs steps, not time.

The plan, for a rate–distortion encode of ``n`` frames in batches of ``b``: ``E`` epochs cost
``ceil(n / b) x (enc(E) x t_fit + (warm(E) - enc(E)) x t_table + (rd(E) + exact(E)) x t_rd)``
seconds, the stages' epochs as :meth:`nvcodec.pipeline.training.Training.stage_epochs` splits them (the warm-up
trains for distortion alone, its first ``enc(E)`` epochs through the frame encoder and the rest with
the embedding table; the ``rd`` and ``exact`` stages carry the quantizers and the rate term).
The work after the fit costs ``POST_PASSES x n x t_frame + LANDING_EXPORTS x t_export``: the float
model's and the decoder's renders with their PSNR and MS-SSIM, and the exports of the step-scale
search. The fit and that work fill :data:`TIME_SHARE` of the time left after the probe; the rest
absorbs the estimate's error. The stages share the fit's seconds as the epochs of
:meth:`~nvcodec.pipeline.training.Training.stage_epochs` would at the probe's pace; before each
stage the post-fit work is re-priced at the pace the last stage kept and the stages left share
what remains.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from nvcodec.errors import UsageError
from nvcodec.fit.clock import Pace, StageClock, snap

PROBE_WARM, PROBE_STEPS = 2, 12
"""Untimed steps (first-call allocations), then timed steps, per probed stage."""
TIME_SHARE = 0.9
"""Share of the time left that the planned work fills."""
POST_PASSES = 2
"""Renders (with PSNR and MS-SSIM) of every frame after the fit: the float model's, the decoder's."""
LANDING_EXPORTS = 8
"""Exports the step-scale searches are planned for: before the ``exact`` stage and after the fit
(each needs one when its file lands in the window)."""
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


class TimedPlan:
    """The seconds of a timed encode's stages, corrected before each from the pace so far.

    ``epoch_seconds`` are the stages' seconds per epoch at the probe's pace, in the order they
    run, and ``epochs`` the epochs each would have in an epoch-counted fit (the stages share the
    time as those epochs would take it); ``step_costs`` the probe's seconds per step (``fit``,
    ``table``, ``rd``); ``post`` the post-fit work's seconds at that pace; ``deadline`` the
    ``time.perf_counter()`` by which the fit and that work are to end; ``steps`` the steps of
    one epoch; ``tolerance`` the clocks' (:class:`~nvcodec.fit.clock.StageClock`: None, each
    stage follows its seconds; else its planned steps); ``warm_share`` the share of the warm-up's
    steps that go through the frame encoder (priced at the ``fit`` step, the rest at ``table``).

    Planned stages: every stage's steps are planned once, from the probe, when the plan is made;
    a stage keeps them unless the seconds it is given then differ from what they cost at the
    pace so far by more than the tolerance (so the last stage does not inherit the others' jitter).
    ``slack``: a stage is planned again when it would overrun its seconds by more than this share
    of the seconds of the stages after it (the clock's ``slack``), whatever the tolerance says.
    """

    def __init__(
        self,
        epoch_seconds: dict[str, float],
        epochs: dict[str, int],
        step_costs: dict[str, float],
        post: float,
        deadline: float,
        steps: int,
        tolerance: float | None = None,
        warm_share: float = 1.0,
        slack: float | None = None,
    ) -> None:
        self.epoch_seconds, self.step_costs, self.post = epoch_seconds, step_costs, post
        self.tolerance, self.warm_share, self.slack = tolerance, warm_share, slack
        self.weights = {stage: seconds * epochs[stage] for stage, seconds in epoch_seconds.items()}
        self.deadline, self.steps = deadline, steps
        self.slow = 1.0  # real over probed seconds per step, as the last stage measured it
        self.ran = 0  # steps run in all stages
        total, fit = sum(self.weights.values()), max(0.0, self.fit_seconds())
        self.planned = {s: snap(fit * w / total / max(epoch_seconds[s], 1e-9) * steps) for s, w in self.weights.items()}

    def fit_seconds(self, now: float | None = None) -> float:
        """Seconds left for the stages still to run."""
        now = time.perf_counter() if now is None else now
        return self.deadline - now - self.slow * self.post

    def clock(self, stage: str) -> StageClock:
        """The clock of ``stage``: its share (by weight) of the seconds left to the stages from it on."""
        names = list(self.weights)
        left = names[names.index(stage) :]
        total = sum(self.weights[s] for s in left)
        seconds = max(0.0, self.fit_seconds()) * self.weights[stage] / total
        after = max(0.0, self.fit_seconds()) * (total - self.weights[stage]) / total
        slack = None if self.slack is None or not after else self.slack * after
        epochs = seconds / max(self.slow * self.epoch_seconds[stage], 1e-9)
        if self.tolerance is None:
            return StageClock(seconds, self.steps, round(epochs))
        planned = self.planned[stage]
        if abs(planned / max(epochs * self.steps, 1e-9) - 1.0) > self.tolerance:
            planned = snap(epochs * self.steps)
        first, later = ("fit", "table") if stage == "warm" else ("rd", "rd")
        share = self.warm_share if stage == "warm" else 0.0
        pace = Pace(self.slow * self.step_costs[first], self.slow * self.step_costs[later], share)
        return StageClock(seconds, self.steps, round(epochs), None, self.steps, self.tolerance, planned, pace, slack)

    def shortest(self) -> float:
        """Seconds of the shortest fit the clocks allow (every stage one epoch; the warm-up two,
        when it moves to an embedding table) and the post-fit work, at the probe's pace."""
        return sum(self.epoch_seconds.values()) + self.step_costs["fit"] * self.steps + self.post

    def observe(self, clock: StageClock, probed_seconds: float) -> None:
        """Record a finished stage: ``clock``'s steps, which the probe priced at ``probed_seconds``."""
        self.ran += clock.steps
        if clock.steps and probed_seconds > 0:
            self.slow = clock.elapsed() / probed_seconds

    @property
    def epochs_run(self) -> int:
        """Whole epochs' worth of the steps run."""
        return round(self.ran / max(self.steps, 1))


def shortfall_notes(time_given: float | None, shortest: float | None) -> list[str]:
    """The report's note when ``--time`` (``time_given`` seconds) is less than the ``shortest``
    encode the plan allows (every stage one epoch), else none."""
    if time_given is None or shortest is None or shortest <= time_given:
        return []
    return [
        f"--time {time_given:g}s is less than this clip's shortest encode (about {shortest:.1f} s: "
        "every stage one epoch)"
    ]
