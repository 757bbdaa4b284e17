"""Rate control: size the model from a bpp budget before fitting; after fitting, pick the prune
fraction and the bit depths by measuring real coded sizes, so the file lands in [0.85 B, B]; for a
progressive video, the deepest weight depth whose growth of the archive fits its budget; after a
rate–distortion fit, the factor on the learned steps that lands the file in the window (kept at
the fit's own steps where they land and measure at least as well).

Nothing here estimates the final size: the post-fit choices call back into the pipeline, which
packs the real file bytes for each candidate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from nvcodec.errors import NvcError

WEIGHT_BITS_EST = 7.8  # coded bits per 8-bit weight (measured: HNeRV 60k params, Bunny 160x320, 30 epochs)
EMBED_BITS_EST = 6.1  # coded bits per 6-bit embedding value (same run)
RD_WEIGHT_BITS_EST = 5.0  # RD-fit sizing; bigger net than 7.8 (Bunny 80x160, 30 epochs, 0.1: +1.2 dB; 4.0: -0.35 dB)
RD_EMBED_BITS_EST = 3.0  # bits per embedding value the RD-fit sizing assumes (frame residuals: 1.3-3.2 measured)
RD_EMBED_SHARE = 0.25  # budget share the RD sizing lets per-frame embeddings take, at RD_EMBED_BITS_EST (see README)
LOWER_FRACTION = 0.85
"""A file lands in ``[LOWER_FRACTION B, B]`` of its budget B."""
TARGET_SHARE = 0.93
"""The rate–distortion fit's λ steers the estimated rate to this share of the budget (the file must
land in [0.85, 1] of it; :data:`LANDING_SHARE` then lifts a file left lower)."""
LANDING_SHARE = 0.93
"""A rate–distortion file the fit leaves below this share of the budget gets finer steps until it
reaches it."""
HEAD_MIN_BITS = 8
"""Fewest bits of a progressive video's head."""
PRUNE_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6)
WEIGHT_BITS = (10, 9, 8, 7, 6, 5, 4)
EMBED_BITS = (8, 7, 6, 5, 4)
DEFAULT_WEIGHT_BITS, DEFAULT_EMBED_BITS = 8, 6


@dataclass(frozen=True)
class Budget:
    """A file-size budget in bytes, from a bpp target over ``pixels`` (frames x height x width);
    made only by :func:`nvcodec.pipeline.sizing.budget_for`."""

    bpp: float
    pixels: int

    @property
    def max_bytes(self) -> int:
        """Largest admissible file size."""
        return int(math.floor(self.bpp * self.pixels / 8.0))

    @property
    def min_bytes(self) -> int:
        """Smallest admissible file size (0.85 of the budget)."""
        return int(math.ceil(LOWER_FRACTION * self.bpp * self.pixels / 8.0))


def params_for_budget(budget: Budget, embed_values: int, overhead_bytes: int) -> int:
    """Transmitted values (weights + embeddings) expected to code to about the budget at the
    default bit depths: ``7.8 bits x weights + 6.1 bits x embeddings + overhead = budget``, where
    the overhead (headers, config, quantization steps) is measured on the real file layout."""
    bits = budget.bpp * budget.pixels - 8 * overhead_bytes - EMBED_BITS_EST * embed_values
    return embed_values + max(0, int(bits / WEIGHT_BITS_EST))


def rd_params_for_budget(budget: Budget, embed_values: int, overhead_bytes: int) -> int:
    """Transmitted values for a rate–distortion fit at ``budget``: the embeddings plus the weights
    that ``RD_WEIGHT_BITS_EST`` bits each leave room for once the overhead (headers, config, steps
    and scales) is paid (λ then trades the rest)."""
    bits = budget.bpp * budget.pixels - 8 * overhead_bytes - RD_EMBED_BITS_EST * embed_values
    return embed_values + max(0, int(bits / RD_WEIGHT_BITS_EST))


def rd_embedding_limit(budget: Budget, frames: int) -> int:
    """Per-frame values a frame's embeddings may have in a rate–distortion fit at ``budget``: at
    ``RD_EMBED_BITS_EST`` bits each they take at most ``RD_EMBED_SHARE`` of the frame's bits."""
    return int(RD_EMBED_SHARE * budget.bpp * budget.pixels / frames / RD_EMBED_BITS_EST)


def choose_prune(size_at: Callable[[float], int], budget: Budget) -> float:
    """The smallest prune fraction whose file at the default bit depths fits the budget
    (the largest of the grid if none does; bit depths then take up the rest)."""
    for p in PRUNE_GRID:
        if size_at(p) <= budget.max_bytes:
            return p
    return PRUNE_GRID[-1]


@dataclass(frozen=True)
class BitChoice:
    """Chosen bit depths with the file size and the quality proxy they gave."""

    weight_bits: int
    embed_bits: int
    size: int
    psnr: float


def choose_bits(
    size_of: Callable[[int, int], int],
    quality_of: Callable[[int, int], float],
    budget: Budget,
    weight_bits: tuple[int, ...] = WEIGHT_BITS,
    embed_bits: tuple[int, ...] = EMBED_BITS,
) -> BitChoice:
    """Among bit-depth pairs whose real file fits ``[0.85 B, B]``, the one of best quality.

    For each weight depth only the richest embedding depth that fits is a candidate. If none
    reaches 0.85 B, the largest file that fits is taken; if none fits, :class:`NvcError` names the
    smallest bpp reached.
    """
    fitting: list[tuple[int, int, int]] = []
    smallest = None
    for weight_depth in weight_bits:
        for embed_depth in embed_bits:
            size = size_of(weight_depth, embed_depth)
            smallest = size if smallest is None else min(smallest, size)
            if size <= budget.max_bytes:
                fitting.append((weight_depth, embed_depth, size))
                break
    if not fitting:
        assert smallest is not None
        raise NvcError(
            f"budget {budget.bpp:g} bpp is too small for this clip: the smallest file reached is "
            f"{smallest * 8 / budget.pixels:.4g} bpp"
        )
    window = [c for c in fitting if c[2] >= budget.min_bytes] or [max(fitting, key=lambda c: c[2])]
    scored = [BitChoice(w, e, size, quality_of(w, e)) for w, e, size in window]
    return max(scored, key=lambda c: (c.psnr, -c.size))


@dataclass(frozen=True)
class DepthChoice:
    """A progressive video's weight depth, the bytes it adds, and whether it fits its budget."""

    bits: int
    size: int
    fits: bool


def choose_depth(
    size_of: Callable[[int], int], limit: int | None, depths: tuple[int, ...] = WEIGHT_BITS
) -> DepthChoice:
    """The deepest of ``depths`` (tried in order) whose added bytes fit ``limit`` (None: no limit,
    the first); if none fits, the last, marked as over budget."""
    for bits in depths:
        size = size_of(bits)
        if limit is None or size <= limit:
            return DepthChoice(bits, size, True)
    return DepthChoice(depths[-1], size, False)


def choose_step_scale(
    size_at: Callable[[float], int], budget: Budget, low: float = LOWER_FRACTION, steps: int = 14
) -> float:
    """A factor on every learned quantization step whose file lands in ``[low B, B]``: 1 when it
    already does, else a bisection in the log domain on real coded sizes (larger steps, smaller
    files) over [1, 16] when the file overshoots, over [1/8, 1] when it undershoots (the largest
    file within the budget found if none lands in the window). :class:`NvcError` when even the
    coarsest steps overshoot. (``size_at`` gives a size over any budget, ``sys.maxsize``, for steps
    too fine to code: :func:`~nvcodec.pipeline.coded_size.coded_or_over`.)"""
    floor = math.ceil(low * budget.bpp * budget.pixels / 8.0)
    size = size_at(1.0)
    if floor <= size <= budget.max_bytes:
        return 1.0
    if size <= budget.max_bytes:
        best, lo, hi = 1.0, math.log(1 / 8), 0.0
    else:
        best, lo, hi = 16.0, 0.0, math.log(16.0)
        if size_at(best) > budget.max_bytes:
            raise NvcError(f"budget {budget.bpp:g} bpp is too small for this clip even with the coarsest steps")
    for _ in range(steps):
        mid = (lo + hi) / 2
        size = size_at(math.exp(mid))
        if size > budget.max_bytes:
            lo = mid
        else:
            best, hi = math.exp(mid), mid
            if size >= floor:
                break
    return best


def land_step_scale(
    size_at: Callable[[float], int],
    budget: Budget,
    quality_at: Callable[[float], float],
    more: Callable[[], bool] | None = None,
) -> float:
    """The factor on every learned step of a rate–distortion file: coarser steps when the file at
    the fit's own (1) overshoots, finer ones when it falls short of the window ``[0.85 B, B]``
    (:func:`choose_step_scale`, aiming at :data:`LANDING_SHARE`); in the window, 1, or the steps
    that lift it to :data:`LANDING_SHARE` only when the decoder's frames measure better there
    (``quality_at``, while ``more()`` allows a measurement). The ``exact`` stage trains on the
    integers of the fit's own steps: any other factor rounds every value afresh, which cost a
    latent canvas 4-5 dB (pan, 0.2 bpp: 35.3 dB at 1, 30.4 at 0.98, 30.2 at 1.02)."""
    size = size_at(1.0)
    if not budget.min_bytes <= size <= budget.max_bytes:
        return choose_step_scale(size_at, budget, LANDING_SHARE)
    if size >= LANDING_SHARE * budget.max_bytes or (more is not None and not more()):
        return 1.0
    lifted = choose_step_scale(size_at, budget, LANDING_SHARE)
    if lifted == 1.0 or (more is not None and not more()):
        return 1.0
    return lifted if quality_at(lifted) > quality_at(1.0) else 1.0


FINER_RATIO = 2.0**-0.25
"""Each step of :func:`finer_while_better` makes every quantization step this much finer."""
FINER_TRIES = 3
"""Most finer candidates :func:`finer_while_better` measures (each is one render of the video)."""


def finer_while_better(
    scale: float,
    size_at: Callable[[float], int],
    budget: Budget,
    quality_at: Callable[[float], float],
    ratio: float = FINER_RATIO,
    tries: int = FINER_TRIES,
    more: Callable[[], bool] | None = None,
) -> float:
    """From the step factor ``scale``, make the steps finer by ``ratio`` at a time while the file
    still fits ``budget``, its measured quality rises and ``more()`` allows another measurement
    (a time limit); the last factor that raised it (``scale`` when none did). Given the same fitted
    network and time, a larger budget walks at least as far, so its quality is never lower."""
    if more is not None and not more():
        return scale
    best, quality = scale, quality_at(scale)
    for _ in range(tries):
        if more is not None and not more():
            break
        candidate = best * ratio
        if size_at(candidate) > budget.max_bytes:
            break
        measured = quality_at(candidate)
        if measured <= quality:
            break
        best, quality = candidate, measured
    return best
