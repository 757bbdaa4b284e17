"""Encoding one video into one ``.nrv`` file, then the report on the decoder's reconstruction.
By default the rate–distortion fit does the work (:mod:`nvcodec.pipeline.rd`); with ``--no-rd``
(post-training compression) this module sizes the model for the budget -> fit -> prune and
fine-tune -> quantize -> pick bit depths -> write.

Progressive models (``pfnr``) take the archive path instead (:mod:`nvcodec.pipeline.progressive`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress import DepthCache, global_magnitude_masks
from nvcodec.container import write_nrv
from nvcodec.errors import NvcError, UsageError
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.io import Video
from nvcodec.metrics import bpp, mean_psnr
from nvcodec.models import NeuralVideoModel, solve_config
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.decode import load_entries, render_entry
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.progressive import encode_archive
from nvcodec.pipeline.rd import encode_rd
from nvcodec.pipeline.report import EncodeReport, EncodeStats, float_quality, measured_report
from nvcodec.progress import Reporter

QUALITY_FRAMES = 16
"""Frames (evenly spaced) on which the bit-depth search compares candidates' PSNR."""


def encode_video(video: Video, output: Path, options: EncodeOptions, reporter: Reporter | None = None) -> EncodeReport:
    """Fit, compress and write ``video`` to ``output``; report what the decoder reconstructs.
    A progressive model starts an archive with ``video`` as its video 0."""
    options = options.for_video(video.num_frames)
    if options.spec.progressive:
        return encode_archive(video, output, options, reporter)
    reporter = reporter or Reporter()
    if options.uses_rd:
        stats, bits_per_value = encode_rd(video, output, options, reporter)
        stats.notes.append(f"rate–distortion fit: {bits_per_value:.2f} bits of file per transmitted value")
        return _report(video, output, resolve_device(options.device), stats)
    started = time.perf_counter()
    device = resolve_device(options.device)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config, budget = _size_model(video, options, meta)
    cost = CodedSize(meta, options.spec, config)
    torch.manual_seed(options.seed)
    model = options.spec.build(config, with_encoder=True).to(device)
    frames = torch.from_numpy(np.ascontiguousarray(video.frames)).to(device)
    source = FrameSource(frames, (config.height, config.width), options.spec.model_cls.context)
    epochs = options.planned_epochs
    fit_started = time.perf_counter()
    fit(model, source, options.fit_config(epochs), reporter)
    prune = _pick_prune(model, source, options, budget, cost)
    if prune > 0:
        masks = global_magnitude_masks(dict(model.prunable_parameters()), prune)
        for name, mask in masks.items():
            model.get_parameter(name).data.mul_(mask)
        fit(model, source, options.fit_config(max(1, epochs // 10)), reporter, stage="fine-tune", masks=masks)
    fit_seconds = time.perf_counter() - fit_started
    embeddings = _embedding_arrays(model, source)
    fit_psnr, fit_ms_ssim = float_quality(model, embeddings, video, device)
    weights, embeds = DepthCache(_weight_arrays(model)), DepthCache(embeddings, model.embedding_min_bits)
    weight_bits, embed_bits = _pick_bits(video, options, budget, weights, embeds, cost, device, reporter)
    nbytes = write_nrv(output, pack_entry(cost.entry(weights.at(weight_bits), embeds.at(embed_bits))))
    stats = EncodeStats(started, epochs, fit_seconds, fit_psnr, fit_ms_ssim, nbytes, prune, weight_bits, embed_bits)
    stats.notes = list(video.notes)
    return _report(video, output, device, stats)


def _embedding_count(options: EncodeOptions, video: Video) -> int:
    """Embedding values of the smallest model (they do not depend on its width)."""
    config = solve_config(options.spec, video.height, video.width, video.num_frames, 0)
    return sum(int(np.prod(s)) for s in options.spec.skeleton(config).embedding_shapes().values())


def _floor_bytes(options: EncodeOptions, meta: VideoMeta, config: Any | None = None) -> int:
    """Real size of the file of ``config`` (default: the smallest model) at the lowest rate settings,
    the most pruning and the fewest bits, with random values (fitted ones code smaller)."""
    config = config or solve_config(options.spec, meta.height, meta.width, meta.frames, 0)
    torch.manual_seed(0)
    model = options.spec.build(config)
    weights = _weight_arrays(model)
    masks = global_magnitude_masks(dict(model.prunable_parameters()), ratecontrol.PRUNE_GRID[-1])
    for name, mask in masks.items():
        weights[name] = weights[name] * mask.numpy()
    rng = np.random.default_rng(0)
    embeddings = {k: rng.normal(0, 1, s).astype(np.float32) for k, s in model.embedding_shapes().items()}
    cost = CodedSize(meta, options.spec, config)
    lowest_embed = DepthCache(embeddings, model.embedding_min_bits).at(ratecontrol.EMBED_BITS[-1])
    return cost.entry_bytes(DepthCache(weights).at(ratecontrol.WEIGHT_BITS[-1]), lowest_embed)


def _overhead_bytes(options: EncodeOptions, config: Any, meta: VideoMeta) -> int:
    """Size of the file of ``config`` with every value zero: headers, config, steps, tensor records."""
    model = options.spec.build(config)
    zeros = {n: np.zeros(tuple(p.shape), np.float32) for n, p in model.transmitted_parameters().items()}
    embeddings = {k: np.zeros(s, np.float32) for k, s in model.embedding_shapes().items()}
    weights = DepthCache(zeros).at(ratecontrol.DEFAULT_WEIGHT_BITS)
    embeds = DepthCache(embeddings, model.embedding_min_bits).at(ratecontrol.DEFAULT_EMBED_BITS)
    return CodedSize(meta, options.spec, config).entry_bytes(weights, embeds)


def _size_model(video: Video, options: EncodeOptions, meta: VideoMeta) -> tuple[Any, ratecontrol.Budget | None]:
    """The model's config: from ``--params`` directly, or the largest whose file fits the budget.

    Everything is decided before fitting: a budget the smallest model cannot reach is refused in
    seconds, and a sized model whose smallest file (most pruning, fewest bits) would still overshoot
    is shrunk until rate control is sure to land inside the budget."""
    t, h, w = video.num_frames, video.height, video.width
    if options.budget_bpp is None:
        samples = 3 * t * h * w
        if options.params > samples:
            raise UsageError(f"--params {options.params}: more values than the clip has samples ({samples})")
        return solve_config(options.spec, h, w, t, options.params), None
    budget = ratecontrol.Budget(options.budget_bpp, t * h * w)
    floor = _floor_bytes(options, meta)
    if floor > budget.max_bytes:
        raise NvcError(
            f"{video.source}: budget {budget.bpp:g} bpp is too small for this clip: the smallest "
            f"{options.model} file for it is about {bpp(floor, t, h, w):.4g} bpp"
        )
    embed = _embedding_count(options, video)
    config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, embed, 0))
    for _ in range(3):  # the overhead grows with the model's channel count: iterate to a fixed point
        overhead = _overhead_bytes(options, config, meta)
        config = solve_config(options.spec, h, w, t, ratecontrol.params_for_budget(budget, embed, overhead))
    while _floor_bytes(options, meta, config) > budget.max_bytes:
        smaller = solve_config(options.spec, h, w, t, int(0.85 * options.spec.transmitted_count(config)))
        if smaller == config:
            break
        config = smaller
    return config, budget


def _weight_arrays(model: NeuralVideoModel) -> dict[str, np.ndarray]:
    return {n: p.detach().float().cpu().numpy() for n, p in model.transmitted_parameters().items()}


def _embedding_arrays(model: NeuralVideoModel, source: FrameSource) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in export_embeddings(model, source).items()}


def _pick_prune(
    model: NeuralVideoModel,
    source: FrameSource,
    options: EncodeOptions,
    budget: ratecontrol.Budget | None,
    cost: CodedSize,
) -> float:
    """``--prune``, 0 when sizing by ``--params``, else the smallest fraction whose file fits."""
    if options.prune is not None or budget is None:
        return options.prune or 0.0
    weights = _weight_arrays(model)
    embeds = DepthCache(_embedding_arrays(model, source), model.embedding_min_bits)
    embed_bits = options.embed_bits or ratecontrol.DEFAULT_EMBED_BITS
    weight_bits = options.weight_bits or ratecontrol.DEFAULT_WEIGHT_BITS

    def size_at(fraction: float) -> int:
        masks = global_magnitude_masks(dict(model.prunable_parameters()), fraction)
        pruned = {n: v * masks[n].cpu().numpy() if n in masks else v for n, v in weights.items()}
        return cost.entry_bytes(DepthCache(pruned).at(weight_bits), embeds.at(embed_bits))

    return ratecontrol.choose_prune(size_at, budget)


def _pick_bits(
    video: Video,
    options: EncodeOptions,
    budget: ratecontrol.Budget | None,
    weights: DepthCache,
    embeds: DepthCache,
    cost: CodedSize,
    device: torch.device,
    reporter: Reporter,
) -> tuple[int, int]:
    """The given depths, the defaults when sizing by ``--params``, else rate control's best pair."""
    weight_default = options.weight_bits or ratecontrol.DEFAULT_WEIGHT_BITS
    embed_default = options.embed_bits or ratecontrol.DEFAULT_EMBED_BITS
    if budget is None:
        return weight_default, embed_default
    count = min(QUALITY_FRAMES, video.num_frames)
    picks = np.unique(np.linspace(0, video.num_frames - 1, count).round().astype(int))
    reporter.start("rate", 1)

    def size_of(weight_bits: int, embed_bits: int) -> int:
        return cost.entry_bytes(weights.at(weight_bits), embeds.at(embed_bits))

    def quality_of(weight_bits: int, embed_bits: int) -> float:
        entry = cost.entry(weights.at(weight_bits), embeds.at(embed_bits))
        return mean_psnr(video.frames[picks], np.stack(list(render_entry(entry, picks.tolist(), device))))

    choice = ratecontrol.choose_bits(
        size_of,
        quality_of,
        budget,
        (options.weight_bits,) if options.weight_bits else ratecontrol.WEIGHT_BITS,
        (options.embed_bits,) if options.embed_bits else ratecontrol.EMBED_BITS,
    )
    reporter.advance(1, wbits=choice.weight_bits, ebits=choice.embed_bits)
    return choice.weight_bits, choice.embed_bits


def _report(video: Video, output: Path, device: torch.device, stats: EncodeStats) -> EncodeReport:
    """The report, measured on the frames the decoder renders from the file just written (a file
    the reader refuses is removed: an encode leaves a good file or none)."""
    try:
        entry = load_entries(output)[0]
    except NvcError:
        output.unlink(missing_ok=True)
        raise
    rec = np.stack(list(render_entry(entry, list(range(entry.meta.frames)), device)))
    count = entry.spec.transmitted_count(entry.config)
    return measured_report(video, rec, entry.spec.name, count, device, stats)
