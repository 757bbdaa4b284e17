"""What an encode, an append or a decode reports, as typed results measured on the decoder's frames."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from nvcodec.io import Video, frames_to_planes, video_planes
from nvcodec.io.raw import PLANAR_DEPTHS, RAW_PIX_FMTS, planes_to_rgb
from nvcodec.metrics import bpp, kbps, mean_ms_ssim, mean_psnr, plane_psnr
from nvcodec.render import render, render_planes


@dataclass
class EncodeStats:
    """What the encoder decided and saw before the report's measurement of the written file.

    Attributes:
        started: ``time.perf_counter()`` when the encode began.
        epochs: epochs fitted.
        fit_seconds: seconds spent fitting (fine-tuning included).
        fit_psnr: PSNR of the fitted float model, before quantization.
        fit_ms_ssim: MS-SSIM of the same (None on frames too small for it).
        bytes: bytes the encode wrote (for an append: bytes the video added).
        prune: fraction of weights pruned (None where nothing is pruned by a fraction: the
            rate–distortion fit).
        weight_bits: quantization depth of the weights (None where they have none: learned steps).
        embed_bits: quantization depth of the embeddings (None without one).
        notes: remarks for the user.
        rate_estimate_bytes: the rate–distortion fit's own estimate of the file's size (None without it).
        planned_seconds: with ``--time``: the seconds the encode was planned to take (None without).
    """

    started: float
    epochs: int
    fit_seconds: float
    fit_psnr: float
    fit_ms_ssim: float | None
    bytes: int = 0
    prune: float | None = None
    weight_bits: int | None = None
    embed_bits: int | None = None
    notes: list[str] = field(default_factory=list)
    rate_estimate_bytes: int | None = None
    planned_seconds: float | None = None


@dataclass
class EncodeReport:
    """What an encode produced, measured on the decoder's reconstruction of the written file
    (``fit_psnr`` and ``fit_ms_ssim``: the fitted model before quantization, for reference;
    ``threads``: the CPU threads the fit started on; ``prune``, ``weight_bits``, ``embed_bits``:
    None on paths that have none, see :class:`EncodeStats`). From a planar YUV source (``pix_fmt``):
    ``psnr_y``, ``psnr_u``, ``psnr_v`` and the 6:1:1 ``psnr_yuv`` of the reconstruction converted
    to that format, against the source's own planes at its bit depth (None otherwise);
    ``kbps`` at the source's ``frame_rate``; ``kmac_per_pixel``: the decoder's multiply–accumulates
    per pixel (:func:`~nvcodec.models.kmac_per_pixel`; None for archives); ``coding``: what the
    network outputs, ``rgb`` or the source's ``pix_fmt`` when it codes the planes natively."""

    model: str
    params: int
    frames: int
    width: int
    height: int
    bytes: int
    bpp: float
    psnr: float
    ms_ssim: float | None
    encode_seconds: float
    fit_seconds: float
    fit_psnr: float
    fit_ms_ssim: float | None
    prune: float | None
    weight_bits: int | None
    embed_bits: int | None
    epochs: int
    device: str
    threads: int | None = None
    video: int = 0
    segments: int = 1
    archive_bytes: int | None = None
    rate_estimate_bytes: int | None = None
    planned_seconds: float | None = None
    frame_rate: float | None = None
    kbps: float | None = None
    kmac_per_pixel: float | None = None
    pix_fmt: str | None = None
    psnr_y: float | None = None
    psnr_u: float | None = None
    psnr_v: float | None = None
    psnr_yuv: float | None = None
    coding: str = "rgb"
    notes: list[str] = field(default_factory=list)
    reconstruction: np.ndarray | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (without the reconstructed frames)."""
        out = asdict(self)
        out.pop("reconstruction")
        return out


@dataclass
class DecodeReport:
    """What a decode wrote: frames, their size, the seconds it took and ``decode_fps``, frames
    decoded a second (the video's own rate is ``frame_rate`` in ``info`` and the encode report)."""

    frames: int
    width: int
    height: int
    decode_seconds: float
    decode_fps: float
    output: str

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)


def float_quality(
    model: torch.nn.Module,
    embeddings: dict[str, np.ndarray],
    video: Video,
    device: torch.device,
    native: str | None = None,
) -> tuple[float, float | None]:
    """PSNR and MS-SSIM of the fitted model before quantization (float weights and embeddings)
    against the RGB frames: a model fitted to ``native``'s planes (a pixel format) is rendered as
    planes and converted to RGB as its decoder's are (:func:`~nvcodec.io.raw.planes_to_rgb`)."""
    tensors = {k: torch.from_numpy(v).to(device) for k, v in embeddings.items()}
    indices, size = list(range(video.num_frames)), (video.height, video.width)
    if native is None:
        frames = np.stack(list(render(model, tensors, indices, size, device)))
    else:
        layout = (PLANAR_DEPTHS[native], RAW_PIX_FMTS[native][1])
        planes = render_planes(model, tensors, indices, size, device, layout)
        frames = np.stack([planes_to_rgb(p, native) for p in planes])
    return mean_psnr(video.frames, frames), mean_ms_ssim(video.frames, frames)[0]


def measured_report(
    source: Video,
    rec: np.ndarray,
    model: str,
    params: int,
    device: torch.device,
    stats: EncodeStats,
    planes: tuple[np.ndarray, ...] | None = None,
    **extra: Any,
) -> EncodeReport:
    """The report of an encode: the decoder's reconstruction ``rec`` (RGB; and its ``planes``, for
    a natively coded video) measured against the source."""
    ms, note = mean_ms_ssim(source.frames, rec)
    t, h, w = source.num_frames, source.height, source.width
    return EncodeReport(
        model=model,
        params=params,
        frames=t,
        width=w,
        height=h,
        bytes=stats.bytes,
        bpp=bpp(stats.bytes, t, h, w),
        psnr=mean_psnr(source.frames, rec),
        ms_ssim=ms,
        encode_seconds=time.perf_counter() - stats.started,
        fit_seconds=stats.fit_seconds,
        fit_psnr=stats.fit_psnr,
        fit_ms_ssim=stats.fit_ms_ssim,
        prune=stats.prune,
        weight_bits=stats.weight_bits,
        embed_bits=stats.embed_bits,
        epochs=stats.epochs,
        device=str(device),
        notes=stats.notes + ([note] if note else []),
        rate_estimate_bytes=stats.rate_estimate_bytes,
        planned_seconds=None if stats.planned_seconds is None else round(stats.planned_seconds, 1),
        frame_rate=float(source.fps),
        kbps=kbps(stats.bytes, t, float(source.fps)),
        reconstruction=rec,
        **{**yuv_quality(source, rec, planes), **extra},
    )


def yuv_quality(source: Video, rec: np.ndarray, planes: tuple[np.ndarray, ...] | None = None) -> dict[str, Any]:
    """``pix_fmt`` and the PSNR-Y/U/V/YUV of the reconstruction against the source's planes
    (:func:`~nvcodec.io.video_planes`): ``planes`` where the decoder made them (native coding),
    else ``rec`` (RGB frames) converted to the source's format; nothing for a source that is not
    planar YUV."""
    if source.pix_fmt is None:
        return {}
    depth = PLANAR_DEPTHS[source.pix_fmt]
    got = planes if planes is not None else frames_to_planes(rec, source.pix_fmt)
    return {"pix_fmt": source.pix_fmt, **plane_psnr(video_planes(source), got, depth)}
