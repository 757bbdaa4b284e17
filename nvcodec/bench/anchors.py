"""Conventional anchors (libx264, libx265) run in-process through PyAV.

Frames go RGB -> ``pix_fmt`` (swscale, BT.601) -> encoder -> packets -> decoder -> RGB (and the
decoder's own planes, for the metrics measured on planes); a planar YUV source's own planes, where
the anchor codes the source's pixel format, go to the encoder as they are (no round trip through
RGB, which would blur and round them before the anchor sees them). A 4:2:0 frame with an odd side,
which x264 and x265 cannot take, is coded with its luma's last row or column repeated to even
sides (its chroma, half the sides rounded up, is already that size) and cropped back after
decoding, as the reference encoders' conformance window does. The anchor's bits are the sum of
the video packets' payload sizes (no container). CRF is found by bisection so that an anchor point
lands near a requested bpp.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from nvcodec.io import frame_planes
from nvcodec.io.raw import RAW_PIX_FMTS, planes_frame, planes_to_rgb, rgb_to_planes

DECODERS = {"libx264": "h264", "libx265": "hevc"}
ANCHORS = {"x264": "libx264", "x265": "libx265"}
X265_MIN_WIDTH = 64
"""Narrowest frame an x265 anchor codes: libx265 corrupted its heap and aborted the process on
frames 34 to 48 pixels wide (28x36, 32x40, 30x48; 24x24, 32x32 and 30x64 were coded)."""


def check_frame_size(anchor: str, height: int, width: int) -> str | None:
    """Why ``anchor`` (a key of :data:`ANCHORS`) cannot code frames of this size, or None."""
    if ANCHORS.get(anchor) == "libx265" and width < X265_MIN_WIDTH:
        return f"the x265 anchor needs frames at least {X265_MIN_WIDTH} pixels wide, not {width} (use --anchors x264)"
    return None


@dataclass
class AnchorPoint:
    """One anchor encode: its settings, bits, decoded RGB frames, the decoder's own Y, U, V planes
    (each T x h x w) and timings."""

    codec: str
    crf: float
    preset: str
    pix_fmt: str
    bits: int
    version: str
    decoded: np.ndarray
    encode_seconds: float
    decode_seconds: float
    planes: tuple[np.ndarray, ...] | None = None


def _options(codec: str, crf: float, preset: str) -> dict[str, str]:
    opts = {"crf": f"{crf:.2f}", "preset": preset, "tune": "psnr"}
    if codec == "libx265":
        opts["x265-params"] = "log-level=error"
    return opts


Planes = tuple[np.ndarray, ...]


def _source_frames(frames: np.ndarray, pix_fmt: str, planes: Planes | None) -> list[av.VideoFrame]:
    """The encoder's input: ``planes`` (each T x h x w, already in ``pix_fmt``) frame by frame, or
    the RGB ``frames`` converted to ``pix_fmt``."""
    if planes is not None:
        return [planes_frame(tuple(p[i] for p in planes), pix_fmt) for i in range(len(frames))]
    rgb = (av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24") for f in frames)
    return [f.reformat(format=pix_fmt) for f in rgb]


def _encode(
    size: tuple[int, ...],
    fps: Fraction,
    codec: str,
    crf: float,
    preset: str,
    pix_fmt: str,
    frames: np.ndarray,
    planes: Planes | None,
) -> list[bytes]:
    """The packets of ``frames`` (or their ``planes``) coded at ``size`` (... x H x W)."""
    ctx = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height = size[2], size[1]
    ctx.pix_fmt = pix_fmt
    ctx.time_base = 1 / fps
    ctx.framerate = fps
    ctx.options = _options(codec, crf, preset)
    packets: list[bytes] = []
    for i, frame in enumerate(_source_frames(frames, pix_fmt, planes)):
        frame.pts = i
        packets += [bytes(p) for p in ctx.encode(frame)]
    packets += [bytes(p) for p in ctx.encode(None)]
    return packets


def _decode(packets: list[bytes], codec: str) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
    """The decoded frames as RGB, and as the decoder's own planes (None if not planar YUV)."""
    ctx = av.CodecContext.create(DECODERS[codec], "r")
    frames = [f for data in [*packets, None] for f in ctx.decode(av.Packet(data) if data is not None else None)]
    planes = [p for p in (frame_planes(f) for f in frames) if p is not None]
    stacked = tuple(np.stack([p[k] for p in planes]) for k in range(3)) if len(planes) == len(frames) else None
    return np.stack([f.to_ndarray(format="rgb24") for f in frames]), stacked


def encoder_version(packets: list[bytes]) -> str:
    """The x264/x265 version string the encoder writes into its first packet's SEI, if any."""
    head = b"".join(packets[:2])
    match = re.search(rb"(x264 - core \d+(?: r\d+ \w+)?|x265 \(build \d+\) - [\w.+-]+)", head)
    return match.group(1).decode("ascii", "replace") if match else "unknown"


def _even_planes(frames: np.ndarray, pix_fmt: str, planes: Planes | None) -> Planes:
    """The source in ``pix_fmt`` (its own ``planes``, or the RGB ``frames`` converted) with the
    luma's last row and column repeated to even sides."""
    if planes is None:
        converted = [rgb_to_planes(f, pix_fmt) for f in frames]
        planes = tuple(np.stack([c[k] for c in converted]) for k in range(3))
    y = planes[0]
    y = np.pad(y, ((0, 0), (0, y.shape[1] % 2), (0, y.shape[2] % 2)), mode="edge")
    return (y, *planes[1:])


def _odd_420(frames: np.ndarray, pix_fmt: str) -> bool:
    """Whether ``frames`` (T x H x W x 3) have an odd side and ``pix_fmt`` is 4:2:0."""
    return RAW_PIX_FMTS.get(pix_fmt, (8, 1))[1] == 2 and bool(frames.shape[1] % 2 or frames.shape[2] % 2)


def run_anchor(
    frames: np.ndarray,
    fps: Fraction,
    codec: str,
    crf: float,
    preset: str = "medium",
    pix_fmt: str = "yuv420p",
    planes: Planes | None = None,
) -> AnchorPoint:
    """Encode and decode ``frames`` (T x H x W x 3 uint8) with one anchor setting; ``planes``: the
    source's own planes in ``pix_fmt``, coded instead of the RGB frames converted."""
    start, odd = time.perf_counter(), _odd_420(frames, pix_fmt)
    if odd:
        planes = _even_planes(frames, pix_fmt, planes)
    size = planes[0].shape if odd and planes is not None else frames.shape
    packets = _encode(size, fps, codec, crf, preset, pix_fmt, frames, planes)
    mid = time.perf_counter()
    decoded, planes = _decode(packets, codec)
    if odd and planes is not None:
        planes = (planes[0][:, : frames.shape[1], : frames.shape[2]], *planes[1:])
        decoded = np.stack([planes_to_rgb(tuple(p[i] for p in planes), pix_fmt) for i in range(len(frames))])
    end = time.perf_counter()
    if decoded.shape != frames.shape:
        raise RuntimeError(f"{codec} decoded {decoded.shape}, expected {frames.shape}")
    bits = 8 * sum(len(p) for p in packets)
    version = encoder_version(packets)
    return AnchorPoint(codec, crf, preset, pix_fmt, bits, version, decoded, mid - start, end - mid, planes)


def anchor_at_bpp(
    frames: np.ndarray,
    fps: Fraction,
    codec: str,
    target_bpp: float,
    preset: str = "medium",
    pix_fmt: str = "yuv420p",
    steps: int = 7,
    planes: Planes | None = None,
) -> AnchorPoint:
    """Bisect CRF (0..51) so that the anchor's bpp is close to ``target_bpp`` (in log bpp); ``planes``
    as :func:`run_anchor` takes them."""
    pixels = frames.shape[0] * frames.shape[1] * frames.shape[2]
    lo, hi = 0.0, 51.0
    best: AnchorPoint | None = None
    for _ in range(steps):
        crf = (lo + hi) / 2
        point = run_anchor(frames, fps, codec, crf, preset, pix_fmt, planes)
        bpp = point.bits / pixels
        if best is None or abs(math.log(bpp / target_bpp)) < abs(math.log(best.bits / pixels / target_bpp)):
            best = point
        if bpp > target_bpp:
            lo = crf
        else:
            hi = crf
    assert best is not None
    return best
