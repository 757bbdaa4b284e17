"""Raw planar video, as the field's test sets come: ``.yuv`` files of bare frames (size, rate and
pixel format given as ffmpeg's rawvideo input takes them, or read from the conventional name,
``Name_1920x1080_50fps_10bit_420.yuv``), and the planes of any decoded frame at its own bit depth.

A frame of ``W x H`` in ``yuv420p`` is ``W H`` luma bytes then two ``W/2 x H/2`` chroma planes;
``yuv420p10le`` stores each sample in two little-endian bytes; ``yuv444p`` has full-size chroma.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from nvcodec.errors import NvcError, UsageError

RAW_EXTENSIONS = (".yuv",)
RAW_PIX_FMTS = {"yuv420p": (8, 2), "yuv420p10le": (10, 2), "yuv444p": (8, 1)}
"""Pixel formats a raw input may have: (bits per sample, chroma subsampling per side)."""
PLANAR_DEPTHS = {"yuv420p": 8, "yuv420p10le": 10, "yuv444p": 8, "yuv444p10le": 10, "yuv422p": 8, "yuv422p10le": 10}
"""Planar YUV formats whose planes :func:`frame_planes` reads (PyAV's name: bits per sample)."""
DEFAULT_RAW_PIX_FMT = "yuv420p"
MAX_SIDE = 16384
_SIZE = re.compile(r"(?<![0-9a-z])(\d{1,5})x(\d{1,5})(?![0-9])", re.IGNORECASE)
_FPS = re.compile(r"(?<![0-9.])(\d{1,3}(?:\.\d+)?)(?:fps|hz)(?![a-z])", re.IGNORECASE)
_RATE_AFTER_SIZE = re.compile(r"\d+x\d+_(\d{1,3})(?:[_.]|$)", re.IGNORECASE)
_DEPTH = re.compile(r"(?<![0-9])(8|10)-?bits?(?![a-z])", re.IGNORECASE)
_CHROMA = re.compile(r"(?<![0-9])(420|444)(?![0-9])")


def is_raw(path: Path | str) -> bool:
    """Whether ``path`` names a raw ``.yuv`` file (by its extension)."""
    return Path(path).suffix.lower() in RAW_EXTENSIONS


@dataclass(frozen=True)
class RawFormat:
    """What a raw file's bytes are: frame size, frame rate and pixel format (:data:`RAW_PIX_FMTS`)."""

    width: int
    height: int
    fps: Fraction
    pix_fmt: str

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame."""
        depth, sub = RAW_PIX_FMTS[self.pix_fmt]
        chroma = 2 * (-(-self.width // sub)) * (-(-self.height // sub))
        return (self.width * self.height + chroma) * (2 if depth > 8 else 1)

    def demuxer_options(self) -> dict[str, str]:
        """FFmpeg's rawvideo demuxer options for these bytes."""
        rate = f"{self.fps.numerator}/{self.fps.denominator}"
        return {"video_size": f"{self.width}x{self.height}", "pixel_format": self.pix_fmt, "framerate": rate}


def name_hints(name: str) -> dict[str, str]:
    """Size, rate and pixel format a conventional raw file name states (``_176x144_25fps_10bit_420``;
    a bare number after the size is the rate, as in ``BasketballDrive_1920x1080_50.yuv``)."""
    stem, hints = Path(name).stem, {}
    if size := _SIZE.search(stem):
        hints["size"] = f"{size[1]}x{size[2]}"
    rate = _FPS.search(stem) or _RATE_AFTER_SIZE.search(stem)
    if rate and rate[1] not in ("420", "422", "444"):  # a chroma tag right after the size is no rate
        hints["fps"] = rate[1]
    depth, chroma = _DEPTH.search(stem), _CHROMA.findall(stem.replace(hints.get("size", "\0"), ""))
    if depth or chroma:
        bits = depth[1] if depth else "8"
        hints["pix_fmt"] = f"yuv{chroma[-1] if chroma else '420'}p" + ("10le" if bits == "10" else "")
    return hints


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """(width, height) of ``WxH``; :class:`UsageError` otherwise."""
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if match is None or not all(1 <= int(v) <= MAX_SIDE for v in match.groups()):
        raise UsageError(f"{option} {text}: use WIDTHxHEIGHT, each side 1..{MAX_SIDE}")
    return int(match[1]), int(match[2])


def parse_fps(text: str) -> Fraction:
    """A frame rate such as ``25``, ``29.97`` or ``30000/1001``; :class:`UsageError` otherwise."""
    try:
        fps = Fraction(text.strip()).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        fps = Fraction(0)
    if not 0 < fps <= 1000:
        raise UsageError(f"--fps {text}: use a rate above 0 and at most 1000, such as 25, 29.97 or 30000/1001")
    return fps


def raw_format(
    path: Path | str, size: str | None, fps: str | None, pix_fmt: str | None, label: str | None = None
) -> RawFormat:
    """The format of the raw file at ``path`` (``label``: the name the user gave it): the options
    given, else what that name states, else 25 fps and ``yuv420p`` (FFmpeg's defaults); the size
    has no default. Checked against the file's length: it must hold a whole number of frames, at
    least one."""
    label = label or str(path)
    hints = name_hints(Path(label).name)  # the name the user gave (``path`` may be a pipe's copy)
    size = size or hints.get("size")
    if size is None:
        raise UsageError(f"{label}: a raw .yuv input needs --size WIDTHxHEIGHT (or a name such as clip_176x144.yuv)")
    pix_fmt = pix_fmt or hints.get("pix_fmt", DEFAULT_RAW_PIX_FMT)
    if pix_fmt not in RAW_PIX_FMTS:
        raise UsageError(f"--pix-fmt {pix_fmt}: a raw input is one of {', '.join(RAW_PIX_FMTS)}")
    width, height = parse_size(size)  # odd sides: chroma of half the sides rounded up, as FFmpeg reads it
    form = RawFormat(width, height, parse_fps(fps or hints.get("fps", "25")), pix_fmt)
    try:
        length = os.path.getsize(path)
    except OSError as exc:
        raise NvcError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if length == 0 or length % form.frame_bytes:
        raise NvcError(
            f"{label}: {length} bytes is not a whole number of {width}x{height} {pix_fmt} frames "
            f"({form.frame_bytes} bytes each): check --size and --pix-fmt"
        )
    return form


def raw_frames(path: Path | str, form: RawFormat) -> int:
    """Frames in the raw file at ``path`` (its length has been checked by :func:`raw_format`)."""
    return os.path.getsize(path) // form.frame_bytes


def frame_planes(frame: av.VideoFrame) -> tuple[np.ndarray, ...] | None:
    """The Y, U and V planes of a planar YUV frame (:data:`PLANAR_DEPTHS`) at its own bit depth
    (uint8, or uint16 above 8 bits); None for any other pixel format."""
    depth = PLANAR_DEPTHS.get(frame.format.name)
    if depth is None:
        return None
    dtype, out = np.dtype("<u2" if depth > 8 else "u1"), []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        out.append(rows[:, : plane.width * dtype.itemsize].copy().view(dtype).astype(dtype.newbyteorder("=")))
    return tuple(out)


def rgb_to_planes(frame: np.ndarray, pix_fmt: str) -> tuple[np.ndarray, ...]:
    """An H x W x 3 uint8 RGB frame converted to ``pix_fmt``'s planes by FFmpeg's converter (the
    same conversion the decoder's outputs and the x264/x265 anchors get)."""
    rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    planes = frame_planes(rgb.reformat(format=pix_fmt))
    if planes is None:
        raise ValueError(f"{pix_fmt}: not a planar YUV format")
    return planes


NATIVE_PIX_FMTS = ("yuv420p", "yuv420p10le", "yuv444p")
"""Pixel formats whose planes an encode can fit natively (``--yuv``): :data:`RAW_PIX_FMTS`."""


def planes_frame(planes: tuple[np.ndarray, ...], pix_fmt: str) -> av.VideoFrame:
    """A PyAV frame of ``pix_fmt`` holding ``planes`` (Y, U, V at that format's sizes and depth)."""
    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, pix_fmt)
    wide = PLANAR_DEPTHS[pix_fmt] > 8
    for plane, values in zip(frame.planes, planes, strict=True):
        data = np.ascontiguousarray(values.astype("<u2" if wide else np.uint8)).view(np.uint8)
        rows = np.zeros((plane.height, plane.line_size), np.uint8)
        rows[:, : data.shape[1]] = data
        plane.update(rows.tobytes())
    return frame


def planes_to_rgb(planes: tuple[np.ndarray, ...], pix_fmt: str) -> np.ndarray:
    """``planes`` of ``pix_fmt`` as an H x W x 3 uint8 RGB frame, by FFmpeg's converter (the
    conversion every YUV source's RGB frames got when read)."""
    return planes_frame(planes, pix_fmt).to_ndarray(format="rgb24")


def upsampled_planes(planes: tuple[np.ndarray, ...], pix_fmt: str) -> np.ndarray:
    """Y, U, V planes of ``pix_fmt`` (each ... x h x w) as one ... x H x W x 3 array, chroma
    repeated to the luma's size (what a native fit reads as its target; the decoder's chroma stage
    averages each block back to one sample)."""
    y, u, v = planes
    height, width = y.shape[-2:]
    sub = RAW_PIX_FMTS[pix_fmt][1]
    if sub > 1:
        u, v = (np.repeat(np.repeat(c, sub, axis=-2), sub, axis=-1)[..., :height, :width] for c in (u, v))
    return np.stack([y, u, v], axis=-1)
