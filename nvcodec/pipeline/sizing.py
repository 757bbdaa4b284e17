"""The one home of the budget and of sizing: ``--bpp`` (or ``--params``) -> a :class:`Budget` and
the model's config, for every path, decided once per encode before any fitting.

* :func:`budget_for`: the only place a :class:`~nvcodec.ratecontrol.Budget` is made.
* :func:`size_video`: the config of a one-video encode, by path: the rate–distortion fit
  (:func:`size_rd`), post-training compression (:func:`size_post`) or a new archive
  (:func:`size_archive`), each checking first that the smallest file of its kind fits.
* Each path's "file with every value zero" (the overhead its sizing subtracts) is built here too:
  :func:`zero_file_bytes` (learned records), :func:`post_overhead_bytes` and :func:`post_floor_bytes`
  (uniform records), :func:`probe_session` (archives). Every size is a real pack of the format.
* The smaller network a CPU encode's planned time allows: :mod:`nvcodec.pipeline.timefit`.

Segments need nothing of their own: each is an ordinary one-video encode at the file's ``--bpp``.
The window fractions the paths land in sit beside :class:`Budget` in :mod:`nvcodec.ratecontrol`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

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
from nvcodec.pipeline.camera import camera_fields
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.planes import stage_fields
from nvcodec.pipeline.provenance import provenance
from nvcodec.pipeline.timefit import TimeFit, coded_finer, fit_in_time


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
    """The budget and config of encoding ``video`` with ``options`` (its path chosen by them),
    with the config fields the video sets: its camera's (:func:`~nvcodec.pipeline.camera.camera_fields`)
    and its output stage's (:func:`~nvcodec.pipeline.planes.stage_fields`)."""
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    budget = budget_for(options.budget_bpp, video.num_frames, video.height, video.width)
    camera, notes = camera_fields(video, options)
    fields = {**camera, **stage_fields(video, options)}
    asked = None
    if options.spec.progressive:
        config = size_archive(video, options, meta)
    elif options.uses_rd:  # a network the time allows is fitted for its own, smaller budget
        timed = size_rd(video, options, meta, fields)
        config, notes = timed.config, notes + timed.notes
        if timed.bpp is not None and timed.aim and coded_finer(options):
            asked = budget
        elif timed.bpp is not None:  # the network's own, smaller budget
            budget = budget_for(timed.bpp, video.num_frames, video.height, video.width)
    else:
        config = size_post(video, options, meta, fields)
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


def size_rd(video: Video, options: EncodeOptions, meta: VideoMeta, fields: dict[str, Any] | None = None) -> TimeFit:
    """The config of a rate–distortion encode: ``--params`` directly, or, for a budget, the
    embedding layout the budget can pay for (channels and grid, :func:`~nvcodec.models.embedding_layout`)
    and the width whose values fit the budget at the bits per value the fit reaches (see
    :mod:`nvcodec.ratecontrol`). A budget that even the smallest model's file with every value zero
    overshoots is refused before fitting. A CPU encode whose planned time buys that network too few
    steps gets a smaller network (:func:`fit_in_time`: the notes say so, and the budget it was
    sized for is returned in bpp; None otherwise). ``fields``: the config fields the video sets
    (:func:`size_video`)."""
    t, h, w = video.num_frames, video.height, video.width
    budget = budget_for(options.budget_bpp, t, h, w)
    if budget is None:
        return TimeFit(solve_config(options.spec, h, w, t, _params(options), fields))
    config = _rd_config(video, options, meta, budget, fields)
    return fit_in_time(
        video,
        options,
        budget,
        config,
        lambda b: _rd_config(video, options, meta, cast(ratecontrol.Budget, budget_for(b, t, h, w)), fields),
    )


def _rd_config(
    video: Video, options: EncodeOptions, meta: VideoMeta, budget: ratecontrol.Budget, fields: dict[str, Any] | None
) -> Any:
    """The config the budget pays for (see :func:`size_rd`), with the config ``fields`` the video
    sets (:func:`size_video`)."""
    t, h, w = video.num_frames, video.height, video.width
    grid, layout = embedding_layout(options.spec, h, w, t, ratecontrol.rd_embedding_limit(budget, t), fields)
    fixed = {**layout, **(fields or {})}
    smallest = solve_config(options.spec, h, w, t, 0, fixed, grid)
    floor = zero_file_bytes(options, meta, smallest)
    if floor > budget.max_bytes:
        raise _too_small(video, options, budget, floor, "file for it is", " before coding a single value")
    embed = sum(int(np.prod(s)) for s in options.spec.skeleton(smallest).embedding_shapes().values())
    config = solve_config(options.spec, h, w, t, ratecontrol.rd_params_for_budget(budget, embed, floor), fixed, grid)
    overhead = zero_file_bytes(options, meta, config)  # steps and scales grow with the channels
    params = ratecontrol.rd_params_for_budget(budget, embed, overhead)
    return solve_config(options.spec, h, w, t, params, fixed, grid)


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


def size_post(video: Video, options: EncodeOptions, meta: VideoMeta, fields: dict[str, Any] | None = None) -> Any:
    """The config of a post-training encode: from ``--params`` directly, or the largest whose file
    fits the budget. A budget the smallest model cannot reach is refused in seconds, and a sized
    model whose smallest file (most pruning, fewest bits) would still overshoot is shrunk until
    rate control is sure to land inside the budget. ``fields``: the config fields the video sets
    (:func:`size_video`)."""
    t, h, w = video.num_frames, video.height, video.width
    budget = budget_for(options.budget_bpp, t, h, w)
    if budget is None:
        samples = 3 * t * h * w
        if _params(options) > samples:
            raise UsageError(f"--params {options.params}: more values than the clip has samples ({samples})")
        return solve_config(options.spec, h, w, t, _params(options), fields)
    floor = post_floor_bytes(options, meta)
    if floor > budget.max_bytes:
        raise _too_small(video, options, budget, floor, "file for it is about")
    smallest = solve_config(options.spec, h, w, t, 0, fields)
    embed = sum(int(np.prod(s)) for s in options.spec.skeleton(smallest).embedding_shapes().values())
    config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, embed, 0), fields)
    for _ in range(3):  # the overhead grows with the model's channel count: iterate to a fixed point
        overhead = post_overhead_bytes(options, config, meta)
        config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, embed, overhead), fields)
    while post_floor_bytes(options, meta, config) > budget.max_bytes:
        smaller = solve_config(options.spec, h, w, t, int(0.85 * options.spec.transmitted_count(config)), fields)
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
