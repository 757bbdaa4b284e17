"""Post-training compression (``--no-rd``): fit for distortion alone, then prune and fine-tune,
quantize every tensor at a uniform bit depth, and pick the prune fraction and the depths whose real
file lands in the budget (:mod:`nvcodec.ratecontrol`), the model sized beforehand by
:func:`~nvcodec.pipeline.sizing.size_post`."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress import DepthCache, global_magnitude_masks
from nvcodec.container import write_nrv
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.io import Video
from nvcodec.metrics import mean_psnr
from nvcodec.models import NeuralVideoModel
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.decode import render_entry
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.planes import frame_source, native_pix_fmt, pixel_notes, pixels_of
from nvcodec.pipeline.provenance import provenance
from nvcodec.pipeline.report import EncodeStats, float_quality
from nvcodec.pipeline.sizing import Sizing, weight_arrays
from nvcodec.progress import Reporter

QUALITY_FRAMES = 16
"""Frames (evenly spaced) on which the bit-depth search compares candidates' PSNR."""


def encode_post(
    video: Video, output: Path, options: EncodeOptions, reporter: Reporter, sizing: Sizing, started: float
) -> EncodeStats:
    """Fit ``video`` into the config ``sizing`` chose, prune, quantize and write ``output``; the
    stats (timed from ``started``, before sizing)."""
    device = resolve_device(options.device)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config, budget = sizing.config, sizing.budget
    cost = CodedSize(meta, options.spec, config, provenance(options), pixels_of(video, options))
    torch.manual_seed(options.seed)
    model = options.spec.build(config, with_encoder=True).to(device)
    source = frame_source(video, config, options, device)
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
    fit_psnr, fit_ms_ssim = float_quality(model, embeddings, video, device, native_pix_fmt(video, options))
    weights, embeds = DepthCache(weight_arrays(model)), DepthCache(embeddings, model.embedding_min_bits)
    weight_bits, embed_bits = _pick_bits(video, options, budget, weights, embeds, cost, device, reporter)
    nbytes = write_nrv(output, pack_entry(cost.entry(weights.at(weight_bits), embeds.at(embed_bits))))
    stats = EncodeStats(started, epochs, fit_seconds, fit_psnr, fit_ms_ssim, nbytes, prune, weight_bits, embed_bits)
    stats.notes = list(video.notes) + pixel_notes(video, options) + list(sizing.notes)
    return stats


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
    weights = weight_arrays(model)
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
