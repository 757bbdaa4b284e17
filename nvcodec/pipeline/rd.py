"""Encoding one video with the rate–distortion fit: size the model for the budget -> distortion
warm-up -> ``rd`` stage (learned steps, noise, λ steered to the budget) -> ``exact`` stage (the
file's integers) -> export integers, steps and Laplace scales -> land the file in the budget window
-> write -> report on the decoder's reconstruction."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress import QTensor
from nvcodec.compress.learned import LearnedQuantizer, slice_axis
from nvcodec.compress.quantize import LEARNED
from nvcodec.container import write_nrv
from nvcodec.errors import NvcError
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.fit.rd import RateModel, RDConfig, estimated_bits, fit_rd
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.format.tensors import tensor_record
from nvcodec.io import Video
from nvcodec.metrics import bpp
from nvcodec.models import embedding_layout, solve_config
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.report import EncodeStats, float_quality
from nvcodec.progress import Reporter

WARMUP_SHARE, EXACT_SHARE = 0.5, 0.1
"""Shares of the epochs: distortion-only warm-up, then the ``rd`` stage, then the ``exact`` stage."""
EXACT_LR = 0.1
"""The ``exact`` stage's learning rate, as a fraction of the model's."""
TARGET_SHARE = 0.93
"""λ steers the estimated rate to this share of the budget (the file must land in [0.85, 1] of
it; :data:`LANDING_SHARE` then lifts a file left lower)."""
LANDING_SHARE = 0.93
"""A file the fit leaves below this share of the budget gets finer steps until it reaches it."""
LAMBDA_START = 1e-3


def stage_epochs(epochs: int) -> tuple[int, int, int]:
    """Epochs of the warm-up, ``rd`` and ``exact`` stages (each at least 1)."""
    warm = max(1, round(WARMUP_SHARE * epochs))
    exact = max(1, round(EXACT_SHARE * epochs))
    return warm, max(1, epochs - warm - exact), exact


def _size(video: Video, options: EncodeOptions, meta: VideoMeta) -> Any:
    """The model's config: ``--params`` directly, or, for a budget, the embedding layout the budget
    can pay for (channels and grid, :func:`~nvcodec.models.embedding_layout`) and the width whose
    values fit the budget at the bits per value the rate–distortion fit reaches (see
    :mod:`nvcodec.ratecontrol`). A budget that even the smallest model's file with every value zero
    overshoots is refused before fitting."""
    t, h, w = video.num_frames, video.height, video.width
    if options.budget_bpp is None:
        return solve_config(options.spec, h, w, t, options.params)
    budget = ratecontrol.Budget(options.budget_bpp, t * h * w)
    grid, fixed = embedding_layout(options.spec, h, w, t, ratecontrol.rd_embedding_limit(budget, t))
    smallest = solve_config(options.spec, h, w, t, 0, fixed, grid)
    floor = _zero_file_bytes(options, meta, smallest)
    if floor > budget.max_bytes:
        raise NvcError(
            f"{video.source}: budget {budget.bpp:g} bpp is too small for this clip: the smallest "
            f"{options.model} file for it is {bpp(floor, t, h, w):.4g} bpp before coding a single value"
        )
    embed = sum(int(np.prod(s)) for s in options.spec.skeleton(smallest).embedding_shapes().values())
    config = solve_config(options.spec, h, w, t, ratecontrol.rd_params_for_budget(budget, embed, floor), fixed, grid)
    overhead = _zero_file_bytes(options, meta, config)  # steps and scales grow with the channels
    params = ratecontrol.rd_params_for_budget(budget, embed, overhead)
    return solve_config(options.spec, h, w, t, params, fixed, grid)


def zero_tensor(shape: tuple[int, ...], axis: int | None) -> QTensor:
    """A learned tensor of ``shape`` whose every symbol is zero (what its record costs at the least)."""
    n = 1 if axis is None else shape[axis]
    return QTensor(np.zeros(shape, np.int64), np.ones(n, np.float32), axis, LEARNED, np.ones(n, np.float32))


def _zero_file_bytes(options: EncodeOptions, meta: VideoMeta, config: Any) -> int:
    """Bytes of the rate–distortion file of ``config`` with every value zero: headers, config, and
    each tensor record's steps, scales and fields."""

    shapes = options.spec.skeleton(config).embedding_shapes()
    params = {n: zero_tensor(s, slice_axis(s)) for n, s in options.spec.parameter_shapes(config).items()}
    embeddings = {n: zero_tensor(s, slice_axis(s, embedding=True)) for n, s in shapes.items()}
    return CodedSize(meta, options.spec, config).entry_bytes(params, embeddings)


def _export(model: Any, rate: RateModel, source: FrameSource, scale: float) -> tuple[dict, dict]:
    """The file's quantized parameters and embeddings, every step multiplied by ``scale``."""
    params = rate.export(model, scale)
    values = export_embeddings(model, source)
    embeddings = {n: _cheaper(q, values[n], scale) for n, q in zip(rate.embedding_names, rate.embeddings, strict=True)}
    return params, embeddings


def _cheaper(quantizer: LearnedQuantizer, value: torch.Tensor, scale: float) -> QTensor:
    """Per-frame values coded as they are or as frame residuals, whichever record is shorter."""
    plain, predicted = quantizer.export(value, scale), quantizer.export(value, scale, predicted=True)
    return min(plain, predicted, key=lambda q: len(tensor_record(q)))


def _fit_stages(model: Any, source: FrameSource, options: EncodeOptions, rd: RDConfig, reporter: Reporter) -> RateModel:
    """Warm-up, then the ``rd`` and ``exact`` stages; returns the trained quantizers (detached)."""
    warm, _, _ = stage_epochs(options.planned_epochs)
    fit(model, source, options.fit_config(warm), reporter)
    rate = RateModel(model, export_embeddings(model, source)).to(source.frames.device)
    rd_stages(model, rate, source, options, rd, reporter)
    return rate


def rd_stages(
    model: Any, rate: RateModel, source: FrameSource, options: EncodeOptions, rd: RDConfig, reporter: Reporter
) -> None:
    """The ``rd`` and ``exact`` stages after a warm-up: steps calibrated to the target rate (when
    there is one), quantizers attached, trained, frozen at their stored values, detached."""
    _, rd_epochs, exact = stage_epochs(options.planned_epochs)
    if rd.target_bpp is not None:
        rate.calibrate(model, rd.target_bpp * rd.pixels - rate.side_bits - rd.fixed_bits)
    rate.attach(model)
    lam = fit_rd(model, rate, source, options.fit_config(rd_epochs), rd, reporter, "rd")
    rate.freeze_steps()
    rate.state.mode = "round"
    config = options.fit_config(exact)
    config = dataclasses.replace(config, lr=config.lr * EXACT_LR)
    fit_rd(model, rate, source, config, dataclasses.replace(rd, lam=lam), reporter, "exact")
    rate.detach_from(model)


def encode_rd(video: Video, output: Path, options: EncodeOptions, reporter: Reporter) -> tuple[EncodeStats, Any]:
    """Fit ``video`` for rate and distortion, write ``output``; the stats and the written config."""
    started = time.perf_counter()
    device = resolve_device(options.device)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config = _size(video, options, meta)
    cost = CodedSize(meta, options.spec, config)
    torch.manual_seed(options.seed)
    model = options.spec.build(config, with_encoder=True).to(device)
    frames = torch.from_numpy(np.ascontiguousarray(video.frames)).to(device)
    source = FrameSource(frames, (config.height, config.width), options.spec.model_cls.context)
    pixels = video.num_frames * video.height * video.width
    budget = ratecontrol.Budget(options.budget_bpp, pixels) if options.lam is None and options.budget_bpp else None
    target = TARGET_SHARE * budget.bpp if budget else None
    lam = options.lam if options.lam is not None else LAMBDA_START
    rd = RDConfig(pixels, target, lam, fixed_bits=8 * cost.entry_bytes({}, {}))  # headers, config, framing
    fit_started = time.perf_counter()
    rate = _fit_stages(model, source, options, rd, reporter)
    fit_seconds = time.perf_counter() - fit_started
    floats = {k: v.numpy() for k, v in export_embeddings(model, source).items()}
    fit_psnr, fit_ms_ssim = float_quality(model, floats, video, device)
    scale = 1.0
    if budget is not None:
        size_at = lambda s: cost.entry_bytes(*_export(model, rate, source, s))  # noqa: E731
        scale = ratecontrol.choose_step_scale(size_at, budget, LANDING_SHARE)
    params, embeddings = _export(model, rate, source, scale)
    nbytes = write_nrv(output, pack_entry(cost.entry(params, embeddings)))
    stats = EncodeStats(started, options.planned_epochs, fit_seconds, fit_psnr, fit_ms_ssim, nbytes)
    estimate = rd.fixed_bits + estimated_bits([*params.values(), *embeddings.values()])
    stats.rate_estimate_bytes = round(estimate / 8)
    stats.notes = list(video.notes)
    if scale != 1:
        stats.notes.append(f"learned steps scaled by {scale:.3g} to land in the budget")
    return stats, _mean_bits(params, embeddings, nbytes)


def _mean_bits(params: dict[str, QTensor], embeddings: dict[str, QTensor], nbytes: int) -> float:
    """Bits of the file per transmitted value."""
    count = sum(q.symbols.size for q in [*params.values(), *embeddings.values()])
    return 8 * nbytes / max(count, 1)
