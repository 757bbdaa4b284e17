"""What an encode fits: a video's RGB frames, or (``--yuv``) its source's own Y, U, V planes at
their bit depth (:mod:`nvcodec.models.planes`), and the ``PIXF`` record that tells the decoder
which (:mod:`nvcodec.format.pixels`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from nvcodec.errors import UsageError
from nvcodec.fit import FrameSource
from nvcodec.format.pixels import Pixels
from nvcodec.io import Video, video_planes
from nvcodec.io.raw import NATIVE_PIX_FMTS, PLANAR_DEPTHS, RAW_PIX_FMTS, upsampled_planes
from nvcodec.pipeline.options import EncodeOptions


def native_fit(video: Video, options: EncodeOptions) -> bool:
    """Whether the network fits the source's own planes: ``--yuv`` / ``--rgb`` as given; by
    default (``options.yuv`` None) for a yuv420p, yuv420p10le or yuv444p source whose options
    allow it (not a pfnr archive, not ``--patch``, even sides for 4:2:0), as an encoder of such
    a source keeps its chroma format and bit depth; 8-bit RGB otherwise."""
    if options.yuv is not None:
        return options.yuv
    if video.pix_fmt not in NATIVE_PIX_FMTS or options.spec.progressive or options.patch is not None:
        return False
    return RAW_PIX_FMTS[video.pix_fmt][1] != 2 or not (video.height % 2 or video.width % 2)


def pixels_of(video: Video, options: EncodeOptions) -> Pixels | None:
    """The entry's pixels: its source's format where a file can name it, and whether the network
    codes those planes (:func:`native_fit`); None for an RGB fit of another source.
    :class:`~nvcodec.errors.UsageError` for ``--yuv`` without such a source."""
    source = video.pix_fmt if video.pix_fmt in NATIVE_PIX_FMTS else None
    native = native_fit(video, options)
    if native:
        if source is None:
            raise UsageError(
                f"{video.source}: --yuv fits a {', '.join(NATIVE_PIX_FMTS)} source's planes; "
                f"this one is {video.pix_fmt or 'RGB'} (use --rgb)"
            )
        if RAW_PIX_FMTS[source][1] == 2 and (video.height % 2 or video.width % 2):
            raise UsageError(f"{video.source}: --yuv with {source} needs an even width and height")
    return None if source is None else Pixels(source, native)


def native_pix_fmt(video: Video, options: EncodeOptions) -> str | None:
    """The pixel format whose planes the network fits (``--yuv``), None for an RGB fit."""
    pixels = pixels_of(video, options)
    return pixels.source if pixels is not None and pixels.native else None


def stage_fields(video: Video, options: EncodeOptions) -> dict[str, Any]:
    """The config fields of the output stage: ``yuv420`` for a native fit of a 4:2:0 source by a
    model with that stage (``capabilities.chroma``) while ``training.chroma_stage`` allows it;
    none otherwise (the frame-size output, chroma averaged by :mod:`nvcodec.models.planes`)."""
    pixels = pixels_of(video, options)
    if pixels is None or not pixels.native or pixels.source is None or RAW_PIX_FMTS[pixels.source][1] != 2:
        return {}
    use = options.training.chroma_stage and "yuv420" in options.spec.capabilities.chroma
    return {"yuv420": True} if use else {}


def pixel_notes(video: Video, options: EncodeOptions) -> list[str]:
    """What the report says of the source's pixels: a source of more than 8 bits fitted as 8-bit
    RGB (the reduction ``--rgb`` makes, or the default where native coding is not allowed)."""
    depth = PLANAR_DEPTHS.get(video.pix_fmt or "", 8)
    if depth <= 8 or native_fit(video, options):
        return []
    if video.pix_fmt not in NATIVE_PIX_FMTS:
        why = f"no native coding of this format at {depth} bits"
    elif options.yuv is False:
        why = f"--rgb; --yuv fits its planes at {depth} bits"
    else:
        why = "pfnr archives and --patch fit RGB"
    return [f"{video.source}: {video.pix_fmt} source fitted as 8-bit RGB ({why})"]


def frame_source(video: Video, config: Any, options: EncodeOptions, device: torch.device) -> FrameSource:
    """The fit's frames on ``device``, padded to ``config``'s frame size: RGB, or the source's
    planes with chroma repeated to full size for a native fit."""
    pixels, padded, context = pixels_of(video, options), (config.height, config.width), options.spec.model_cls.context
    if pixels is None or not pixels.native or pixels.source is None:
        return FrameSource(torch.from_numpy(np.ascontiguousarray(video.frames)).to(device), padded, context)
    depth, sub = RAW_PIX_FMTS[pixels.source]
    target = upsampled_planes(video_planes(video), pixels.source).astype(np.int32 if depth > 8 else np.uint8)
    return FrameSource(torch.from_numpy(target).to(device), padded, context, float((1 << depth) - 1), sub)
