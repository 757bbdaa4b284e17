"""Encoding one video with the rate–distortion fit: the model sized for the budget
(:mod:`~nvcodec.pipeline.sizing`) -> distortion
warm-up (through the frame encoder, then with the embeddings as a table of their own) -> ``rd``
stage (learned steps, noise, λ steered to the budget) -> ``exact`` stage (the file's integers) ->
export integers, steps and Laplace scales -> land the file in the budget window -> write -> report
on the decoder's reconstruction."""

from __future__ import annotations

import copy
import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from nvcodec import ratecontrol
from nvcodec.compress import QTensor
from nvcodec.compress.learned import LearnedQuantizer
from nvcodec.container import write_nrv
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.fit.clock import StageClock
from nvcodec.fit.rd import RateModel, RDConfig, estimated_bits, fit_rd
from nvcodec.fit.train import EmbeddingTable, FitConfig
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.format.tensors import tensor_record
from nvcodec.io import Video
from nvcodec.pipeline.coded_size import CodedSize, coded_or_over
from nvcodec.pipeline.decode import decoded_quality
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.planes import frame_source, native_pix_fmt, pixel_notes, pixels_of
from nvcodec.pipeline.provenance import provenance
from nvcodec.pipeline.report import EncodeStats, float_quality
from nvcodec.pipeline.sizing import Sizing
from nvcodec.pipeline.threads import choose_threads
from nvcodec.pipeline.timing import (
    TIME_SHARE,
    Costs,
    TimedPlan,
    post_seconds,
    shortfall_notes,
    time_steps,
    timed,
)
from nvcodec.progress import Reporter
from nvcodec.render import RENDER_BATCH

SPLIT_EPOCHS = 1000
"""A timed encode's stages share the time as they would share this many epochs (then the clocks
decide how many epochs each runs)."""


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


def _warm_up(
    model: Any, source: FrameSource, options: EncodeOptions, warm: int, reporter: Reporter, timed: TimedPlan | None
) -> EmbeddingTable | None:
    """The distortion-only warm-up, one learning-rate schedule: ``training.encoder_epochs`` through the
    encoder, the rest with the embeddings as a table (returned; None when the encoder trains
    throughout). Timed: the same shares of the stage's clock."""
    training = options.training
    through, cfg = training.encoder_epochs(warm, model), options.fit_config(warm)
    clock = _clock(timed, "warm", options) if timed is not None else None
    first, second = dataclasses.replace(cfg, span=(0, through)), dataclasses.replace(cfg, span=(through, warm))
    if clock is not None:
        first = dataclasses.replace(cfg, epochs=clock.epochs, clock=clock.until(through / warm))
        second = dataclasses.replace(first, clock=clock)
    if through:
        fit(model, source, first, reporter)
    encoder_steps = clock.steps if clock is not None else 0
    table = None
    if through < warm:
        table = EmbeddingTable(export_embeddings(model, source), training.table_lr_scale).to(source.frames.device)
        fit(
            model,
            source,
            second if clock is None else dataclasses.replace(second, clock=clock.until(1.0)),
            reporter,
            "table",
            table=table,
        )
    if timed is not None and clock is not None:
        costs = timed.step_costs
        timed.observe(clock, encoder_steps * costs["fit"] + (clock.steps - encoder_steps) * costs["table"])
    return table


Lander = Callable[[RateModel, "EmbeddingTable | None"], float]
"""The factor on every learned step that lands a rate–distortion file in its budget, from the
trained quantizers (detached) and the embedding table."""


def _fit_stages(
    model: Any,
    source: FrameSource,
    options: EncodeOptions,
    rd: RDConfig,
    reporter: Reporter,
    timed: TimedPlan | None,
    land: Lander | None = None,
) -> tuple[RateModel, EmbeddingTable | None]:
    """Warm-up, then the ``rd`` and ``exact`` stages (by the clock when the encode is timed; the
    steps landed by ``land`` between them); returns the trained quantizers (detached) and the
    embedding table (None: the encoder's)."""
    warm, rd_epochs, exact = options.training.stage_epochs(options.epochs or SPLIT_EPOCHS)
    table = _warm_up(model, source, options, warm, reporter, timed)
    rate = RateModel(model, export_embeddings(model, source, table)).to(source.frames.device)
    rd_stages(model, rate, source, options, rd, reporter, (rd_epochs, exact), table, timed, land)
    return rate, table


def rd_stages(
    model: Any,
    rate: RateModel,
    source: FrameSource,
    options: EncodeOptions,
    rd: RDConfig,
    reporter: Reporter,
    epochs: tuple[int, int] | None = None,
    table: EmbeddingTable | None = None,
    timed: TimedPlan | None = None,
    land: Lander | None = None,
) -> None:
    """The ``rd`` and ``exact`` stages after a warm-up (``epochs`` each; default: the options'
    split, ``training.stage_epochs``; by ``timed``'s clocks when given; the embeddings ``table``'s
    when given): steps calibrated to the target rate (when there is one), quantizers attached,
    trained, scaled by ``land``'s factor (when given: the ``exact`` stage then trains on the
    integers of the steps the file will land at), frozen at their stored values, detached."""
    rd_epochs, exact = epochs or options.training.stage_epochs(options.epochs or SPLIT_EPOCHS)[1:]
    if rd.target_bpp is not None:
        rate.calibrate(model, rd.target_bpp * rd.pixels - rate.side_bits - rd.fixed_bits)
    rate.attach(model)
    config = _stage_config(options, rd_epochs, timed, "rd")
    lam = fit_rd(model, rate, source, config, rd, reporter, "rd", table)
    _observe(timed, config)
    if land is not None:
        rate.detach_from(model)
        factor = land(rate, table)
        rate.attach(model)
        rate.scale_steps(factor)
    rate.freeze_steps()
    rate.state.mode = "round"
    config = _stage_config(options, exact, timed, "exact")
    config = dataclasses.replace(config, lr=config.lr * options.training.exact_lr)
    fit_rd(model, rate, source, config, dataclasses.replace(rd, lam=lam), reporter, "exact", table)
    _observe(timed, config)
    rate.detach_from(model)


def _stage_config(options: EncodeOptions, epochs: int, timed: TimedPlan | None, stage: str) -> FitConfig:
    """The fit settings of ``stage``: ``epochs`` epochs, or, timed, its share of the time left."""
    if timed is None:
        return options.fit_config(epochs)
    clock = _clock(timed, stage, options)
    return dataclasses.replace(options.fit_config(clock.epochs), clock=clock)


def _clock(timed: TimedPlan, stage: str, options: EncodeOptions) -> StageClock:
    """``stage``'s clock, the CPU threads chosen again first (the load beside the encode may have
    changed; ``--threads`` holds)."""
    choose_threads(options.threads)
    return timed.clock(stage)


def _observe(timed: TimedPlan | None, config: FitConfig) -> None:
    """Record the pace of a finished rate–distortion stage that ran by ``config``'s clock."""
    if timed is not None and config.clock is not None:
        timed.observe(config.clock, config.clock.steps * timed.step_costs["rd"])


def encode_rd(
    video: Video, output: Path, options: EncodeOptions, reporter: Reporter, sizing: Sizing, started: float
) -> tuple[EncodeStats, Any]:
    """Fit ``video`` for rate and distortion into the config ``sizing`` chose, write ``output``; the
    stats (timed from ``started``, before sizing) and the mean bits per transmitted value."""
    device = resolve_device(options.device)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config = sizing.config
    cost = CodedSize(meta, options.spec, config, provenance(options), pixels_of(video, options))
    torch.manual_seed(options.seed)
    model = options.spec.build(config, with_encoder=True).to(device)
    source = frame_source(video, config, options, device)
    pixels = video.num_frames * video.height * video.width
    budget = sizing.budget if options.lam is None else None
    target = ratecontrol.TARGET_SHARE * budget.bpp if budget else None
    training = options.training
    lam = options.lam if options.lam is not None else training.lambda_start
    fixed = 8 * cost.entry_bytes({}, {})
    rd = RDConfig(pixels, target, lam, fixed_bits=fixed, rate_every=training.rate_every, joint_rate=training.joint_rate)
    shortest, timed = None, None
    if options.time is not None:
        timed, shortest = _plan_time(model, source, video, options, rd, cost, started)
    fit_started = time.perf_counter()
    walk = sizing.asked is not None
    land = None
    if budget is not None and training.land_before_exact:
        land = lambda r, t: _land_rounded(model, r, source, t, cost, budget, walk)  # noqa: E731
    rate, table = _fit_stages(model, source, options, rd, reporter, timed, land)
    fit_seconds = time.perf_counter() - fit_started
    floats = {k: v.numpy() for k, v in export_embeddings(model, source, table).items()}
    fit_psnr, fit_ms_ssim = float_quality(model, floats, video, device, native_pix_fmt(video, options))
    deadline = timed.deadline if timed is not None else None
    scale = 1.0 if budget is None else _land(model, rate, source, table, video, cost, budget, walk, deadline)
    params, embeddings = _export(model, rate, source, scale, table)
    nbytes = write_nrv(output, pack_entry(cost.entry(params, embeddings)))
    epochs = timed.epochs_run if timed is not None else options.planned_epochs
    stats = EncodeStats(started, epochs, fit_seconds, fit_psnr, fit_ms_ssim, nbytes)
    stats.planned_seconds = None if timed is None else timed.deadline - started
    estimate = rd.fixed_bits + estimated_bits([*params.values(), *embeddings.values()])
    stats.rate_estimate_bytes = round(estimate / 8)
    stats.notes = list(video.notes) + pixel_notes(video, options) + list(sizing.notes)
    stats.notes += shortfall_notes(options.time, shortest)
    if abs(scale - 1.0) > 1e-3:
        stats.notes.append(f"learned steps scaled by {scale:.3g} to land in the budget")
    return stats, _mean_bits(params, embeddings, nbytes)


def _land_rounded(
    model: Any,
    rate: RateModel,
    source: FrameSource,
    table: EmbeddingTable | None,
    cost: CodedSize,
    budget: ratecontrol.Budget,
    walk: bool,
) -> float:
    """The factor on every step that lands the rounded file of the ``rd`` stage's values at
    :data:`~nvcodec.ratecontrol.LANDING_SHARE` of ``budget`` (the noise the stage trained with
    prices a rate the rounded values do not reach); with ``walk``, coarser steps only when the
    file overshoots. Measured on real coded sizes, the quality not at all: the ``exact`` stage
    that follows trains on these integers."""
    size_at = functools.cache(coded_or_over(lambda s: cost.entry_bytes(*_export(model, rate, source, s, table))))
    if walk and size_at(1.0) <= budget.max_bytes:
        return 1.0
    return ratecontrol.choose_step_scale(size_at, budget, ratecontrol.LANDING_SHARE)


def _land(
    model: Any,
    rate: RateModel,
    source: FrameSource,
    table: EmbeddingTable | None,
    video: Video,
    cost: CodedSize,
    budget: ratecontrol.Budget,
    walk: bool = False,
    deadline: float | None = None,
) -> float:
    """The factor on every learned step that lands the file in ``budget``'s window
    (:func:`~nvcodec.ratecontrol.land_step_scale`: the fit's own steps unless the file overshoots,
    falls short, or measures better lifted); with ``walk`` (a network the time bound to a smaller
    budget), steps coarser than the fit's own only when the file overshoots, and finer ones only
    while the decoder's frames measure better (:func:`~nvcodec.ratecontrol.finer_while_better`),
    so the file may land below the window. Measurements stop at ``deadline`` (a
    ``time.perf_counter()``) when the encode is timed."""
    size_at = functools.cache(coded_or_over(lambda s: cost.entry_bytes(*_export(model, rate, source, s, table))))
    every = list(range(video.num_frames))

    def quality_at(s: float) -> float:
        return decoded_quality(cost.entry(*_export(model, rate, source, s, table)), video, every, source.frames.device)

    more = None if deadline is None else (lambda: time.perf_counter() < deadline)
    if walk and size_at(1.0) <= budget.max_bytes:
        return ratecontrol.finer_while_better(1.0, size_at, budget, quality_at, more=more)
    return ratecontrol.land_step_scale(size_at, budget, quality_at, more)


def _plan_time(
    model: Any, source: FrameSource, video: Video, options: EncodeOptions, rd: RDConfig, cost: CodedSize, started: float
) -> tuple[TimedPlan, float]:
    """For ``--time``: the stages' time plan (:class:`~nvcodec.pipeline.timing.TimedPlan`) and the
    seconds of the shortest encode it allows (the probe included)."""
    costs, steps = _probe(model, source, video, options, rd, cost), _steps(options, video)
    now, training = time.perf_counter(), options.training
    warm, rd_epochs, exact = training.stage_epochs(SPLIT_EPOCHS)
    through = training.encoder_epochs(warm, model)
    epoch_seconds = {
        "warm": steps * (through * costs.fit_step + (warm - through) * costs.table_step) / warm,
        "rd": steps * costs.rd_step,
        "exact": steps * costs.rd_step,
    }
    step_costs = {"fit": costs.fit_step, "table": costs.table_step, "rd": costs.rd_step}
    deadline = now + TIME_SHARE * (started + options.time - now)
    post, epochs = post_seconds(costs, video.num_frames), {"warm": warm, "rd": rd_epochs, "exact": exact}
    tolerance, slack = training.plan_tolerance, training.plan_slack
    plan = TimedPlan(epoch_seconds, epochs, step_costs, post, deadline, steps, tolerance, through / warm, slack)
    return plan, now - started + plan.shortest()


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
