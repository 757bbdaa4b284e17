"""The one home of the budget and of sizing: ``--bpp`` (or ``--params``) -> a :class:`Budget` and
the model's config, for every path, decided once per encode before any fitting.

* :func:`budget_for`: the only place a :class:`~nvcodec.ratecontrol.Budget` is made.
* :func:`size_video`: the config of a one-video encode, by path: the rate–distortion fit
  (:func:`size_rd`), post-training compression (:func:`size_post`) or a new archive
  (:func:`size_archive`), each checking first that the smallest file of its kind fits.
* Each path's "file with every value zero" (the overhead its sizing subtracts) is built here too:
  :func:`zero_file_bytes` (learned records), :func:`post_overhead_bytes` and :func:`post_floor_bytes`
  (uniform records), :func:`probe_session` (archives). Every size is a real pack of the format.

Segments need nothing of their own: each is an ordinary one-video encode at the file's ``--bpp``.
The window fractions the paths land in sit beside :class:`Budget` in :mod:`nvcodec.ratecontrol`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress import DepthCache, QTensor, global_magnitude_masks, quantize
from nvcodec.compress.learned import slice_axis
from nvcodec.compress.quantize import Coding
from nvcodec.errors import NvcError, UsageError
from nvcodec.format import Session, VideoMeta
from nvcodec.io import Video
from nvcodec.metrics import bpp
from nvcodec.models import NeuralVideoModel, embedding_layout, solve_config
from nvcodec.pipeline import effort
from nvcodec.pipeline.camera import camera_fields
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.provenance import provenance


@dataclass(frozen=True)
class Sizing:
    """What a one-video encode is sized for: its budget (None: ``--params``) and its model config;
    ``asked``: the budget, when the time binds the network to a smaller one and the fit still aims
    at it: the file then takes steps finer than the fit's own only where they measure better
    (None otherwise)."""

    budget: ratecontrol.Budget | None
    config: Any
    notes: tuple[str, ...] = ()
    asked: ratecontrol.Budget | None = None


def budget_for(bpp_target: float | None, frames: int, height: int, width: int) -> ratecontrol.Budget | None:
    """The budget of ``bpp_target`` bits per pixel over a video of that size (None: no budget)."""
    return None if bpp_target is None else ratecontrol.Budget(bpp_target, frames * height * width)


def size_video(video: Video, options: EncodeOptions) -> Sizing:
    """The budget and config of encoding ``video`` with ``options`` (its path chosen by them)."""
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    budget = budget_for(options.budget_bpp, video.num_frames, video.height, video.width)
    camera, notes = camera_fields(video, options)
    asked = None
    if options.spec.progressive:
        config = size_archive(video, options, meta)
    elif options.uses_rd:  # a network the time allows is fitted for its own, smaller budget
        timed = size_rd(video, options, meta, camera)
        config, notes = timed.config, notes + timed.notes
        if timed.bpp is not None and timed.aim and coded_finer(options):
            asked = budget
        elif timed.bpp is not None:  # the network's own, smaller budget
            budget = budget_for(timed.bpp, video.num_frames, video.height, video.width)
    else:
        config = size_post(video, options, meta, camera)
    return Sizing(budget, config, notes, asked)


def _params(options: EncodeOptions) -> int:
    """``--params``, which options without a budget always carry."""
    if options.params is None:
        raise UsageError("give --bpp or --params")
    return options.params


def _too_small(
    video: Video, options: EncodeOptions, budget: ratecontrol.Budget, floor: int, what: str, after: str = ""
) -> NvcError:
    t, h, w = video.num_frames, video.height, video.width
    return NvcError(
        f"{video.source}: budget {budget.bpp:g} bpp is too small for this clip: the smallest "
        f"{options.model} {what} {bpp(floor, t, h, w):.4g} bpp{after}"
    )


def zero_tensor(shape: tuple[int, ...], axis: int | None) -> QTensor:
    """A learned tensor of ``shape`` whose every symbol is zero (what its record costs at the least)."""
    n = 1 if axis is None else shape[axis]
    return QTensor(
        np.zeros(shape, np.int64), np.ones(n, np.float32), axis, 0, np.ones(n, np.float32), kind=Coding.LEARNED
    )


def zero_file_bytes(options: EncodeOptions, meta: VideoMeta, config: Any) -> int:
    """Bytes of the rate–distortion file of ``config`` with every value zero: headers, config, and
    each tensor record's steps, scales and fields."""
    shapes = options.spec.skeleton(config).embedding_shapes()
    params = {n: zero_tensor(s, slice_axis(s)) for n, s in options.spec.parameter_shapes(config).items()}
    embeddings = {n: zero_tensor(s, slice_axis(s, embedding=True)) for n, s in shapes.items()}
    return CodedSize(meta, options.spec, config, provenance(options)).entry_bytes(params, embeddings)


class TimeFit(NamedTuple):
    """A rate–distortion encode's network: its ``config``, the ``notes`` that say why, the budget
    (bpp) the time bound it to (None: the asked budget's own network), and whether it may still
    be fitted for the asked budget (:func:`coded_finer`; not when bound by the shortest encode)."""

    config: Any
    notes: tuple[str, ...] = ()
    bpp: float | None = None
    aim: bool = True


def size_rd(video: Video, options: EncodeOptions, meta: VideoMeta, camera: dict[str, Any] | None = None) -> TimeFit:
    """The config of a rate–distortion encode: ``--params`` directly, or, for a budget, the
    embedding layout the budget can pay for (channels and grid, :func:`~nvcodec.models.embedding_layout`)
    and the width whose values fit the budget at the bits per value the fit reaches (see
    :mod:`nvcodec.ratecontrol`). A budget that even the smallest model's file with every value zero
    overshoots is refused before fitting. A CPU encode whose planned time buys that network too few
    steps gets a smaller network (:func:`fit_in_time`: the notes say so, and the budget it was
    sized for is returned in bpp; None otherwise)."""
    t, h, w = video.num_frames, video.height, video.width
    budget = budget_for(options.budget_bpp, t, h, w)
    if budget is None:
        return TimeFit(solve_config(options.spec, h, w, t, _params(options), camera))
    config = _rd_config(video, options, meta, budget, camera)
    return fit_in_time(video, options, budget, config, lambda b: _rd_config(video, options, meta, b, camera))


def _rd_config(
    video: Video, options: EncodeOptions, meta: VideoMeta, budget: ratecontrol.Budget, camera: dict[str, Any] | None
) -> Any:
    """The config the budget pays for (see :func:`size_rd`), with the ``camera`` fields."""
    t, h, w = video.num_frames, video.height, video.width
    grid, fixed = embedding_layout(options.spec, h, w, t, ratecontrol.rd_embedding_limit(budget, t))
    fixed = {**fixed, **(camera or {})}
    smallest = solve_config(options.spec, h, w, t, 0, fixed, grid)
    floor = zero_file_bytes(options, meta, smallest)
    if floor > budget.max_bytes:
        raise _too_small(video, options, budget, floor, "file for it is", " before coding a single value")
    embed = sum(int(np.prod(s)) for s in options.spec.skeleton(smallest).embedding_shapes().values())
    config = solve_config(options.spec, h, w, t, ratecontrol.rd_params_for_budget(budget, embed, floor), fixed, grid)
    overhead = zero_file_bytes(options, meta, config)  # steps and scales grow with the channels
    params = ratecontrol.rd_params_for_budget(budget, embed, overhead)
    return solve_config(options.spec, h, w, t, params, fixed, grid)


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
    video: Video, options: EncodeOptions, budget: ratecontrol.Budget, config: Any, make: Callable[[Any], Any]
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
    steps any network gets (:func:`_starved`), where the budget's network gets fewer; else the
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
    at = lambda k: make(budget_for(2.0 ** (k / TIME_SIZING_GRID), t, h, w))  # noqa: E731
    best, label, aim = _largest_trained((low, high), gets(least), at), f"{least} steps", coded_finer(options)
    shortest = shortest_epochs(spec, config, training)
    fits = lambda c: seconds >= shortest * effort.epoch_seconds(spec, c, t, batch, training)  # noqa: E731
    if best is None and training.starved_share is not None:  # none gets them: a share of the most any gets
        starved, why = _starved((low, high), steps, at, steps(config), training.starved_share)
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


def _starved(
    grid: tuple[int, int], steps: Callable[[Any], int], make: Callable[[int], Any], own: int, share_of: float
) -> tuple[tuple[int, Any] | None, str]:
    """Where no network gets the steps sizing wants: the largest of the budgets of exponents in
    ``grid`` (low, high) whose network gets ``share_of`` the most steps any gets (tried an octave
    apart from the high one down: a step's fixed cost caps the small networks' steps, and the
    embedding layout moves them by a few per cent), and the note's count; None where the budget's
    network (``own`` steps) gets them."""
    most = 0
    for exponent in range(grid[1], grid[0], -TIME_SIZING_GRID):
        try:
            most = max(most, steps(make(exponent)))
        except NvcError:  # below the least file: no smaller network to try
            break
    share = math.ceil(share_of * most)
    best = None if own >= share else _largest_trained(grid, lambda c: steps(c) >= share, make)
    return best, f"{share} steps, {share_of:g} of the {most} any network gets at the most"


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
    grid: tuple[int, int], enough: Callable[[Any], bool], make: Callable[[int], Any]
) -> tuple[int, Any] | None:
    """Bisect the budgets of exponents strictly inside ``grid`` (low, high; the high one's network
    is not ``enough``) for the largest whose network ``make(exponent)`` is: its exponent and
    config, or None where none is."""
    lo, hi = grid
    best = None
    while hi - lo > 1:
        mid = (lo + hi) // 2
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


def weight_arrays(model: NeuralVideoModel) -> dict[str, np.ndarray]:
    """The transmitted parameters of ``model`` as float32 arrays, by name."""
    return {n: p.detach().float().cpu().numpy() for n, p in model.transmitted_parameters().items()}


def post_floor_bytes(options: EncodeOptions, meta: VideoMeta, config: Any | None = None) -> int:
    """Real size of the post-training file of ``config`` (default: the smallest model) at the
    lowest rate settings, the most pruning and the fewest bits, with random values (fitted ones
    code smaller)."""
    config = config or solve_config(options.spec, meta.height, meta.width, meta.frames, 0)
    torch.manual_seed(0)
    model = options.spec.build(config)
    weights = weight_arrays(model)
    masks = global_magnitude_masks(dict(model.prunable_parameters()), ratecontrol.PRUNE_GRID[-1])
    for name, mask in masks.items():
        weights[name] = weights[name] * mask.numpy()
    rng = np.random.default_rng(0)
    embeddings = {k: rng.normal(0, 1, s).astype(np.float32) for k, s in model.embedding_shapes().items()}
    cost = CodedSize(meta, options.spec, config, provenance(options))
    lowest_embed = DepthCache(embeddings, model.embedding_min_bits).at(ratecontrol.EMBED_BITS[-1])
    return cost.entry_bytes(DepthCache(weights).at(ratecontrol.WEIGHT_BITS[-1]), lowest_embed)


def post_overhead_bytes(options: EncodeOptions, config: Any, meta: VideoMeta) -> int:
    """Size of the post-training file of ``config`` with every value zero: headers, config, steps,
    tensor records."""
    model = options.spec.build(config)
    zeros = {n: np.zeros(tuple(p.shape), np.float32) for n, p in model.transmitted_parameters().items()}
    embeddings = {k: np.zeros(s, np.float32) for k, s in model.embedding_shapes().items()}
    weights = DepthCache(zeros).at(ratecontrol.DEFAULT_WEIGHT_BITS)
    embeds = DepthCache(embeddings, model.embedding_min_bits).at(ratecontrol.DEFAULT_EMBED_BITS)
    return CodedSize(meta, options.spec, config, provenance(options)).entry_bytes(weights, embeds)


def size_post(video: Video, options: EncodeOptions, meta: VideoMeta, camera: dict[str, Any] | None = None) -> Any:
    """The config of a post-training encode: from ``--params`` directly, or the largest whose file
    fits the budget. A budget the smallest model cannot reach is refused in seconds, and a sized
    model whose smallest file (most pruning, fewest bits) would still overshoot is shrunk until
    rate control is sure to land inside the budget."""
    t, h, w = video.num_frames, video.height, video.width
    budget = budget_for(options.budget_bpp, t, h, w)
    if budget is None:
        samples = 3 * t * h * w
        if _params(options) > samples:
            raise UsageError(f"--params {options.params}: more values than the clip has samples ({samples})")
        return solve_config(options.spec, h, w, t, _params(options), camera)
    floor = post_floor_bytes(options, meta)
    if floor > budget.max_bytes:
        raise _too_small(video, options, budget, floor, "file for it is about")
    smallest = solve_config(options.spec, h, w, t, 0, camera)
    embed = sum(int(np.prod(s)) for s in options.spec.skeleton(smallest).embedding_shapes().values())
    config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, embed, 0), camera)
    for _ in range(3):  # the overhead grows with the model's channel count: iterate to a fixed point
        overhead = post_overhead_bytes(options, config, meta)
        config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, embed, overhead), camera)
    while post_floor_bytes(options, meta, config) > budget.max_bytes:
        smaller = solve_config(options.spec, h, w, t, int(0.85 * options.spec.transmitted_count(config)), camera)
        if smaller == config:
            break
        config = smaller
    return config


def probe_session(cost: CodedSize, bits: int | None) -> Session:
    """A first archive video with random masks whose selected weights are zero (the overhead:
    headers, config, masks, steps), or, with ``bits``, random values at that depth (the smallest
    real file)."""
    model = cost.spec.skeleton(cost.config)
    rng = np.random.default_rng(0)
    masks, values = {}, {}
    for name, shape in model.masked_shapes().items():
        flat = np.zeros(int(np.prod(shape)), bool)
        flat[rng.permutation(flat.size)[: model.kept(flat.size)]] = True
        masks[name] = flat.reshape(shape)
        x = rng.normal(0, 1, int(masks[name].sum())) if bits else np.zeros(int(masks[name].sum()))
        values[name] = quantize(x.astype(np.float32), bits or ratecontrol.DEFAULT_WEIGHT_BITS, None)
    head = quantize(np.zeros(tuple(model.head.shape), np.float32), ratecontrol.HEAD_MIN_BITS, None)
    return cost.session(masks, values, head)


def size_archive(video: Video, options: EncodeOptions, meta: VideoMeta) -> Any:
    """The network of a new archive, sized so that its first video fits the budget."""
    t, h, w = video.num_frames, video.height, video.width
    fixed: dict[str, Any] = {"seed": options.seed}
    for name in ("capacity", "max_videos"):
        if getattr(options, name) is not None:
            fixed[name] = getattr(options, name)
    budget = budget_for(options.budget_bpp, t, h, w)
    if budget is None:
        return solve_config(options.spec, h, w, t, _params(options), fixed)
    config = solve_config(options.spec, h, w, t, 0, fixed)
    smallest = CodedSize(meta, options.spec, config)
    floor = smallest.session_bytes([], probe_session(smallest, ratecontrol.WEIGHT_BITS[-1]))
    if floor > budget.max_bytes:
        raise _too_small(video, options, budget, floor, "archive for it is about")
    for _ in range(3):  # the mask and step overhead grows with the network: iterate to a fixed point
        cost = CodedSize(meta, options.spec, config)
        overhead = cost.session_bytes([], probe_session(cost, None))
        config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, 0, overhead), fixed)
    return config
