"""Encoding one video with the rate–distortion fit: the model sized for the budget
(:mod:`~nvcodec.pipeline.sizing`) -> distortion
warm-up (through the frame encoder, then with the embeddings as a table of their own) -> ``rd``
stage (learned steps, noise, λ steered to the budget) -> ``exact`` stage (the file's integers) ->
export integers, steps and Laplace scales -> land the file in the budget window -> write -> report
on the decoder's reconstruction."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress import QTensor
from nvcodec.compress.learned import LearnedQuantizer
from nvcodec.container import write_nrv
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.fit.rd import RateModel, RDConfig, estimated_bits, fit_rd
from nvcodec.fit.train import EmbeddingTable
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.format.tensors import tensor_record
from nvcodec.io import Video
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.options import EncodeOptions, Training, resolve_device
from nvcodec.pipeline.report import EncodeStats, float_quality
from nvcodec.pipeline.sizing import Sizing
from nvcodec.pipeline.timing import TIME_SHARE, Costs, plan_epochs, post_seconds, time_steps, timed
from nvcodec.progress import Reporter
from nvcodec.render import RENDER_BATCH


def _export(
    model: Any, rate: RateModel, source: FrameSource, scale: float, table: EmbeddingTable | None
) -> tuple[dict, dict]:
    """The file's quantized parameters and embeddings, every step multiplied by ``scale``."""
    params = rate.export(model, scale)
    values = export_embeddings(model, source, table)
    quantizers = dict(zip(rate.embedding_names, rate.embeddings, strict=True))
    return params, {n: _cheaper(quantizers[n], values[n], scale) for n in model.embedding_shapes()}


def _cheaper(quantizer: LearnedQuantizer, value: torch.Tensor, scale: float) -> QTensor:
    """Per-frame values coded as they are or as frame residuals, whichever record is shorter."""
    plain, predicted = quantizer.export(value, scale), quantizer.export(value, scale, predicted=True)
    return min(plain, predicted, key=lambda q: len(tensor_record(q)))


Replan = Callable[[float], tuple[int, int]]
"""Given the warm-up's seconds, the ``rd`` and ``exact`` epochs that fit the time left."""


def _warm_up(
    model: Any, source: FrameSource, options: EncodeOptions, warm: int, reporter: Reporter
) -> EmbeddingTable | None:
    """The distortion-only warm-up, one learning-rate schedule: ``training.encoder_epochs`` through the
    encoder, the rest with the embeddings as a table (returned; None when the encoder trains
    throughout)."""
    training = options.training
    through, cfg = training.encoder_epochs(warm, model), options.fit_config(warm)
    if through:
        fit(model, source, dataclasses.replace(cfg, span=(0, through)), reporter)
    if through == warm:
        return None
    table = EmbeddingTable(export_embeddings(model, source), training.table_lr_scale).to(source.frames.device)
    fit(model, source, dataclasses.replace(cfg, span=(through, warm)), reporter, "table", table=table)
    return table


def _fit_stages(
    model: Any, source: FrameSource, options: EncodeOptions, rd: RDConfig, reporter: Reporter, replan: Replan | None
) -> tuple[RateModel, EmbeddingTable | None, int]:
    """Warm-up, then the ``rd`` and ``exact`` stages (their epochs re-planned from the warm-up's
    real speed when the encode is timed); returns the trained quantizers (detached), the embedding
    table (None: the encoder's) and the epochs run."""
    warm, rd_epochs, exact = options.training.stage_epochs(options.planned_epochs)
    started = time.perf_counter()
    table = _warm_up(model, source, options, warm, reporter)
    if replan is not None:
        rd_epochs, exact = replan(time.perf_counter() - started)
    rate = RateModel(model, export_embeddings(model, source, table)).to(source.frames.device)
    rd_stages(model, rate, source, options, rd, reporter, (rd_epochs, exact), table)
    return rate, table, warm + rd_epochs + exact


def rd_stages(
    model: Any,
    rate: RateModel,
    source: FrameSource,
    options: EncodeOptions,
    rd: RDConfig,
    reporter: Reporter,
    epochs: tuple[int, int] | None = None,
    table: EmbeddingTable | None = None,
) -> None:
    """The ``rd`` and ``exact`` stages after a warm-up (``epochs`` each; default: the options'
    split, ``training.stage_epochs``; the embeddings ``table``'s when given): steps calibrated to
    the target rate (when there is one), quantizers attached, trained, frozen at their stored
    values, detached."""
    rd_epochs, exact = epochs or options.training.stage_epochs(options.planned_epochs)[1:]
    if rd.target_bpp is not None:
        rate.calibrate(model, rd.target_bpp * rd.pixels - rate.side_bits - rd.fixed_bits)
    rate.attach(model)
    lam = fit_rd(model, rate, source, options.fit_config(rd_epochs), rd, reporter, "rd", table)
    rate.freeze_steps()
    rate.state.mode = "round"
    config = options.fit_config(exact)
    config = dataclasses.replace(config, lr=config.lr * options.training.exact_lr)
    fit_rd(model, rate, source, config, dataclasses.replace(rd, lam=lam), reporter, "exact", table)
    rate.detach_from(model)


def encode_rd(
    video: Video, output: Path, options: EncodeOptions, reporter: Reporter, sizing: Sizing, started: float
) -> tuple[EncodeStats, Any]:
    """Fit ``video`` for rate and distortion into the config ``sizing`` chose, write ``output``; the
    stats (timed from ``started``, before sizing) and the mean bits per transmitted value."""
    device = resolve_device(options.device)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config = sizing.config
    cost = CodedSize(meta, options.spec, config)
    torch.manual_seed(options.seed)
    model = options.spec.build(config, with_encoder=True).to(device)
    frames = torch.from_numpy(np.ascontiguousarray(video.frames)).to(device)
    source = FrameSource(frames, (config.height, config.width), options.spec.model_cls.context)
    pixels = video.num_frames * video.height * video.width
    budget = sizing.budget if options.lam is None else None
    target = ratecontrol.TARGET_SHARE * budget.bpp if budget else None
    training = options.training
    lam = options.lam if options.lam is not None else training.lambda_start
    fixed = 8 * cost.entry_bytes({}, {})
    rd = RDConfig(pixels, target, lam, fixed_bits=fixed, rate_every=training.rate_every, joint_rate=training.joint_rate)
    planned, options_time, replan = None, options.time, None
    if options.time is not None:
        options, planned, replan = _plan_time(model, source, video, options, rd, cost, started)
    fit_started = time.perf_counter()
    rate, table, epochs = _fit_stages(model, source, options, rd, reporter, replan)
    fit_seconds = time.perf_counter() - fit_started
    floats = {k: v.numpy() for k, v in export_embeddings(model, source, table).items()}
    fit_psnr, fit_ms_ssim = float_quality(model, floats, video, device)
    scale = 1.0
    if budget is not None:
        size_at = lambda s: cost.entry_bytes(*_export(model, rate, source, s, table))  # noqa: E731
        scale = ratecontrol.choose_step_scale(size_at, budget, ratecontrol.LANDING_SHARE)
    params, embeddings = _export(model, rate, source, scale, table)
    nbytes = write_nrv(output, pack_entry(cost.entry(params, embeddings)))
    epochs = epochs if replan is not None else options.planned_epochs  # timed: the epochs the re-plan ran
    stats = EncodeStats(started, epochs, fit_seconds, fit_psnr, fit_ms_ssim, nbytes)
    stats.planned_seconds = planned
    estimate = rd.fixed_bits + estimated_bits([*params.values(), *embeddings.values()])
    stats.rate_estimate_bytes = round(estimate / 8)
    stats.notes = list(video.notes)
    if planned is not None and planned > options_time:
        stats.notes.append(
            f"--time {options_time:g}s is less than this clip's shortest encode ({planned:.1f} s planned)"
        )
    if scale != 1:
        stats.notes.append(f"learned steps scaled by {scale:.3g} to land in the budget")
    return stats, _mean_bits(params, embeddings, nbytes)


def _plan_time(
    model: Any, source: FrameSource, video: Video, options: EncodeOptions, rd: RDConfig, cost: CodedSize, started: float
) -> tuple[EncodeOptions, float, Replan]:
    """For ``--time``: the options with the planned epochs, the planned seconds of the whole
    encode, and the re-plan of the ``rd`` and ``exact`` stages once the warm-up's speed is known
    (the machine's speed drifts; the probe's few steps only estimate it)."""
    costs, steps = _probe(model, source, video, options, rd, cost), _steps(options, video)
    post = post_seconds(costs, video.num_frames)
    spent = time.perf_counter() - started
    training = options.training
    plan = plan_epochs(_fit_seconds(costs, steps, model, training), post, options.time - spent)
    deadline = started + options.time

    def replan(warm_seconds: float) -> tuple[int, int]:
        warm = training.stage_epochs(plan.epochs)[0]
        through = training.encoder_epochs(warm, model)
        probed = steps * (through * costs.fit_step + (warm - through) * costs.table_step)
        slow = warm_seconds / max(probed, 1e-9)  # real over probed seconds
        room = TIME_SHARE * (deadline - time.perf_counter()) - slow * post
        total = max(2, int(room / max(steps * costs.rd_step * slow, 1e-9)))
        exact = max(1, round(total * training.exact_share / (1.0 - training.warmup_share)))
        return max(1, total - exact), exact

    return dataclasses.replace(options, epochs=plan.epochs, time=None), spent + plan.planned_seconds, replan


def _fit_seconds(costs: Costs, steps: int, model: Any, training: Training) -> Callable[[int], float]:
    """Seconds of a fit of ``E`` epochs of ``steps`` steps, by stage (``training.stage_epochs``)."""

    def seconds(epochs: int) -> float:
        warm, rd, exact = training.stage_epochs(epochs)
        through = training.encoder_epochs(warm, model)
        return steps * (through * costs.fit_step + (warm - through) * costs.table_step + (rd + exact) * costs.rd_step)

    return seconds


def _steps(options: EncodeOptions, video: Video) -> int:
    """Optimizer steps per epoch (whole frames: patch training is not planned in time)."""
    return -(-video.num_frames // options.batch_size)


def _probe(
    model: Any, source: FrameSource, video: Video, options: EncodeOptions, rd: RDConfig, cost: CodedSize
) -> Costs:
    """Time, on a copy of ``model``, a few distortion steps (through the encoder and with the
    embedding table), a few rate–distortion steps, one export and the render and measurement of a
    few frames (:mod:`~nvcodec.pipeline.timing`)."""
    twin, quiet = copy.deepcopy(model), Reporter()
    few = lambda k: dataclasses.replace(options.fit_config(1), max_steps=k)  # noqa: E731
    fit_step = time_steps(lambda k: fit(twin, source, few(k), quiet))
    training = options.training
    table = (
        EmbeddingTable(export_embeddings(twin, source), training.table_lr_scale) if training.uses_table(twin) else None
    )
    table_step = time_steps(lambda k: fit(twin, source, few(k), quiet, table=table)) if table else fit_step
    rate = RateModel(twin, export_embeddings(twin, source, table)).to(source.frames.device)
    rate.attach(twin)
    rd_step = time_steps(lambda k: fit_rd(twin, rate, source, few(k), rd, quiet, table=table))
    rate.detach_from(twin)
    export = timed(lambda: cost.entry_bytes(*_export(twin, rate, source, 1.0, table)))
    k = min(RENDER_BATCH, video.num_frames)
    clip = Video(video.frames[:k], video.fps, video.source)
    floats = {n: v[:k].numpy() for n, v in export_embeddings(twin, source, table).items()}
    frame = timed(lambda: float_quality(twin, floats, clip, source.frames.device)) / k
    return Costs(fit_step, table_step, rd_step, frame, export)


def _mean_bits(params: dict[str, QTensor], embeddings: dict[str, QTensor], nbytes: int) -> float:
    """Bits of the file per transmitted value."""
    count = sum(q.symbols.size for q in [*params.values(), *embeddings.values()])
    return 8 * nbytes / max(count, 1)
