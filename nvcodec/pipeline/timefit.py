"""Sizing for the time: a CPU encode whose planned time buys the budget's network too few
optimizer steps fits a smaller network (:func:`fit_in_time`), searched on a fixed grid of budgets;
:mod:`nvcodec.pipeline.sizing` asks it once per rate–distortion encode, with a function that sizes
the network of a budget in bpp.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from nvcodec import ratecontrol
from nvcodec.errors import NvcError
from nvcodec.io import Video
from nvcodec.pipeline import effort
from nvcodec.pipeline.options import EncodeOptions, resolve_device


class TimeFit(NamedTuple):
    """A rate–distortion encode's network: its ``config``, the ``notes`` that say why, the budget
    (bpp) the time bound it to (None: the asked budget's own network), and whether it may still
    be fitted for the asked budget (:func:`coded_finer`; not when bound by the shortest encode)."""

    config: Any
    notes: tuple[str, ...] = ()
    bpp: float | None = None
    aim: bool = True


def coded_finer(options: EncodeOptions) -> bool:
    """Whether a network smaller than the budget's (chosen for the time) is still fitted for the
    asked budget (less rate pressure: on a 30-frame 176x144 clip at 60 s, 0.8 bpp gave 35.32 dB
    against 34.62 at 0.4 on the network for 0.357; fitted for 0.357 both gave 34.30). Not for
    models whose grids are context-coded: hinerv-mc on the pan clip at ``--time 30s`` gave 19.65 dB
    coded for 0.1 bpp on the network for 0.08, against 22.58 at 0.06 on its own (the grid coder's
    fixed-point inputs overflowed at the finer steps)."""
    return not options.spec.capabilities.grids


TIME_SIZING_GRID = 64
""":func:`fit_in_time` searches budgets of ``2 ** (k / TIME_SIZING_GRID)`` bpp (1.1 % apart) down to
a 256th of the asked one: a grid fixed in absolute terms, so that every asked budget above the
one the time allows finds the same one (a bisection of [B / 256, B] found a slightly different
budget, so a slightly different target, for every B)."""


def fit_in_time(
    video: Video, options: EncodeOptions, budget: ratecontrol.Budget, config: Any, make: Callable[[float], Any]
) -> TimeFit:
    """``config`` (the budget's), or, on the CPU, when the time the options plan
    (:func:`~nvcodec.pipeline.effort.fit_seconds`) buys it fewer than ``training.size_steps``
    steps on the reference machine, ``make(b)`` for the largest budget ``b`` whose network gets
    them (on a fixed grid of budgets, :data:`TIME_SIZING_GRID`), with a note, and ``b`` (bpp).
    Every budget above the one the time allows then fits the same network (at equal time, a
    larger network that cannot train bought a worse video: Bunny 160x320 at 60 s), aiming at its
    own budget (:func:`coded_finer`); the file takes steps finer than the fit's own only while the
    decoder's PSNR rises (filling the budget with them made the larger budgets' files worse: Bunny
    160x320 at 60 s, one network, 26.38 / 26.35 / 26.30 dB at 0.05 / 0.1 / 0.2 bpp). When no
    network on the grid gets the steps, the same holds for ``training.starved_share`` of the most
    steps any network gets (:func:`_most_steps`, :func:`_starved`), where the budget's network gets fewer; else the
    budget keeps its own network while its shortest encode fits the planned time
    (:func:`shortest_epochs`), else the largest network whose shortest encode does is fitted, for
    its own budget (picking the least network tried, as this did first, coded every budget from
    0.1 to 0.4 bpp of a 30-frame 144x176 clip at 30 s at 0.157 bpp and one PSNR)."""
    least = options.training.size_steps
    t, h, w = video.num_frames, video.height, video.width
    seconds = effort.fit_seconds(options, t * h * w)
    if least is None or seconds is None or resolve_device(options.device).type != "cpu":
        return TimeFit(config)
    if options.spec.model_cls.fixed_c0 is not None:  # one network for every budget: nothing to shrink
        return TimeFit(config)
    spec, batch, training = options.spec, options.batch_size, options.training

    def steps(c: Any) -> int:
        return effort.epochs_for(seconds, spec, c, t, batch, training) * -(-t // batch)

    def gets(n: int) -> Callable[[Any], bool]:
        return lambda c: steps(c) >= n

    if steps(config) >= least:
        return TimeFit(config)
    high = math.ceil(TIME_SIZING_GRID * math.log2(budget.bpp))  # the budget's own network: not enough
    low = math.floor(TIME_SIZING_GRID * math.log2(budget.bpp / 256))
    at = _Tried(lambda k: make(2.0 ** (k / TIME_SIZING_GRID)))
    most = _most_steps((low, high), steps, at, least)  # the octaves below: a network that gets least steps?
    best, label, aim = None, f"{least} steps", coded_finer(options)
    if max(most.values(), default=0) >= least:
        best = _largest_trained((low, high), gets(least), at)
    shortest = shortest_epochs(spec, config, training)
    fits = lambda c: seconds >= shortest * effort.epoch_seconds(spec, c, t, batch, training)  # noqa: E731
    if best is None and training.starved_share is not None:  # none gets them: a share of the most any gets
        starved, why = _starved(most, steps, at, steps(config), training.starved_share)
        best, label = (starved, why) if starved is not None and fits(starved[1]) else (None, label)
    if best is None:  # no network gets them: shrinking buys steps only below the shortest encode
        if fits(config):
            own = f"no network gets {least} steps in the planned time (this one {steps(config)})"
            return TimeFit(config, (f"{own}; the budget's own is fitted",))
        label = f"the shortest encode's {shortest * -(-t // batch)} steps"
        best = _largest_trained((low, high), fits, at)
        aim = False
        if best is None:
            return TimeFit(config, (f"no network gets {label} in the planned time",))
    bpp_time, chosen = 2.0 ** (best[0] / TIME_SIZING_GRID), best[1]
    counts = (spec.transmitted_count(chosen), spec.transmitted_count(config))
    return TimeFit(chosen, (_time_note(bpp_time, budget.bpp, label, counts, aim),), bpp_time, aim)


STARVED_STEP = 8
""":func:`_starved` searches every 8th budget of :data:`TIME_SIZING_GRID` (9 % apart): each try sizes
a network (0.2-0.8 s for 180x320 frames), and the time it costs is the fit's."""


class _Tried:
    """The networks of the budget grid, each sized once (``make(exponent)``), and those tried so far."""

    def __init__(self, make: Callable[[int], Any]) -> None:
        self.make = make
        self.tried: dict[int, Any] = {}

    def __call__(self, exponent: int) -> Any:
        """The network of ``exponent``, or its :class:`NvcError` (below the least file) raised again."""
        if exponent not in self.tried:
            try:
                self.tried[exponent] = self.make(exponent)
            except NvcError as e:
                self.tried[exponent] = e
        if isinstance(self.tried[exponent], NvcError):
            raise self.tried[exponent]
        return self.tried[exponent]


def _most_steps(grid: tuple[int, int], steps: Callable[[Any], int], at: _Tried, least: int) -> dict[int, int]:
    """The steps of the networks an octave apart below the budget's (exponents in ``grid``, low
    and high), down to where they stop rising (a step's fixed cost caps the small networks'
    steps, and the embedding layout moves them by a few per cent) or one gets ``least``, by exponent."""
    found: dict[int, int] = {}
    for exponent in range(grid[1] - TIME_SIZING_GRID, grid[0], -TIME_SIZING_GRID):
        try:
            found[exponent] = steps(at(exponent))
        except NvcError:  # below the least file: no smaller network to try
            break
        if found[exponent] < max(found.values()) or found[exponent] >= least:
            break
    return found


def _starved(
    most: dict[int, int], steps: Callable[[Any], int], at: _Tried, own: int, share_of: float
) -> tuple[tuple[int, Any] | None, str]:
    """Where no network gets the steps sizing wants: the largest network of the budget grid that
    gets ``share_of`` the most steps those of ``most`` (:func:`_most_steps`) get, and the note's
    count; None where the budget's network (``own`` steps) gets them."""
    top = max(most.values(), default=0)
    share = math.ceil(share_of * top)
    note = f"{share} steps, {share_of:g} of the {top} any network gets at the most"
    good = [k for k, n in most.items() if n >= share]
    if own >= share or not good:
        return None, note
    low = max(good)  # the octave above it does not get them
    found = _largest_trained((low, low + TIME_SIZING_GRID), lambda c: steps(c) >= share, at, STARVED_STEP)
    return found or (low, at(low)), note


def shortest_epochs(spec: Any, config: Any, training: Any) -> int:
    """Epochs of the shortest encode a timed plan allows (:meth:`~nvcodec.pipeline.timing.TimedPlan.shortest`):
    every stage one epoch, the warm-up two when it moves to an embedding table. When even these do
    not fit the planned time, the budget's network overruns it by their excess (Bunny 160x320, 132
    frames, ``--time 30s`` on a 2-core EPYC: the network of 0.4 bpp took 138 s to code 23.0 dB at
    0.378 bpp, that of 0.1 48 s for 22.0 dB at 0.096), so the largest network that fits them is
    fitted instead, for its own budget: fitted for the asked 0.4 bpp (steps calibrated to that
    rate, one ``rd`` epoch to move them) it coded 0.373 bpp, 14 bits a value, for the 22.10 dB it
    gave at 0.188."""
    table = training.encoder_share is not None and bool(spec.skeleton(config).embedding_shapes())
    return 4 if table else 3


def _time_note(bpp_time: float, asked: float, least: str, counts: tuple[int, int], aim: bool) -> str:
    """The note of a network the time bound to ``bpp_time`` bpp (:func:`fit_in_time`)."""
    return (
        f"sized for {bpp_time:.4g} bpp, not {asked:g}: the planned time buys the budget's network "
        f"fewer than {least} ({counts[0]} values instead of {counts[1]}); "
        + (
            "it is fitted for the asked budget, and finer steps are taken only where they measure better"
            if aim
            else "the file lands below the budget"
        )
    )


def _largest_trained(
    grid: tuple[int, int], enough: Callable[[Any], bool], make: Callable[[int], Any], step: int = 1
) -> tuple[int, Any] | None:
    """Bisect the budgets of exponents strictly inside ``grid`` (low, high; the high one's network
    is not ``enough``), multiples of ``step``, for the largest whose network ``make(exponent)``
    is: its exponent and config, or None where none is."""
    lo, hi = grid
    best = None
    while (mid := max((lo + hi) // (2 * step) * step, (lo // step + 1) * step)) < hi:
        try:
            candidate = make(mid)
        except NvcError:  # below the least file: look higher
            lo = mid
            continue
        if enough(candidate):
            lo, best = mid, (mid, candidate)
        else:
            hi = mid
    return best
