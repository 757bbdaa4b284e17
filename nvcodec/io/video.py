"""Read any video FFmpeg reads into uint8 RGB frames, and write frames by output extension.

Output formats: ``.mp4``/``.mov`` (H.264; yuv444p at CRF 10, or lossless RGB with ``libx264rgb``
when asked), ``.mkv`` (FFV1 in ``bgr0``: bit-exact RGB), ``.y4m`` (raw yuv444p), and PNG patterns
such as ``frame_%04d.png`` (bit-exact). Every output is written under a temporary name and renamed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from nvcodec.errors import NvcError
from nvcodec.files import umask, write_atomic

DEFAULT_FPS = Fraction(25, 1)


@dataclass
class Video:
    """Frames as a uint8 array T x H x W x 3 (RGB), with their frame rate, where they came from and
    what was done to them on the way in (``prepared``, e.g. ``centre crop 640x1280, downscaled x4``)."""

    frames: np.ndarray
    fps: Fraction
    source: str
    prepared: str = ""

    @property
    def num_frames(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return int(self.frames.shape[2])


def _open_input(path: Path) -> av.container.InputContainer:
    if "%" in path.name:  # an image pattern such as frame_%04d.png: the first image must exist
        if not any((path.parent / (path.name % i)).is_file() for i in (0, 1)):
            raise NvcError(f"{path}: no image matches the pattern")
    elif not path.exists():
        raise NvcError(f"{path}: no such file")
    if path.is_dir():
        raise NvcError(f"{path}: is a directory")
    try:
        return av.open(str(path), format="image2" if "%" in path.name else None)
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise NvcError(f"{path}: not a video ({exc.__class__.__name__})") from None


def read_video(path: Path | str, start: int = 0, frames: int | None = None) -> Video:
    """Decode frames ``start .. start + frames`` (all to the end if None) of the first video stream."""
    path = Path(path)
    if start < 0 or (frames is not None and frames <= 0):
        raise NvcError(f"{path}: invalid frame range (start {start}, frames {frames})")
    container = _open_input(path)
    try:
        if not container.streams.video:
            raise NvcError(f"{path}: not a video (no video stream)")
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate) if stream.average_rate else DEFAULT_FPS
        out: list[np.ndarray] = []
        for i, frame in enumerate(container.decode(stream)):
            if i < start:
                continue
            if frames is not None and len(out) >= frames:
                break
            out.append(frame.to_ndarray(format="rgb24"))
    except av.error.FFmpegError as exc:
        raise NvcError(f"{path}: not a decodable video ({exc.__class__.__name__})") from None
    finally:
        container.close()
    if not out:
        raise NvcError(f"{path}: no frames to encode (start {start})")
    return Video(np.stack(out), fps, str(path))


def center_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """The central ``height`` x ``width`` window of every frame."""
    _, h, w, _ = frames.shape
    if height > h or width > w:
        raise NvcError(f"crop {height}x{width} is larger than the frames ({h}x{w})")
    top, left = (h - height) // 2, (w - width) // 2
    return frames[:, top : top + height, left : left + width]


def area_downscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Box-filter downscale by an integer factor (the frame size must divide by it)."""
    if factor == 1:
        return frames
    t, h, w, c = frames.shape
    if h % factor or w % factor:
        raise NvcError(f"frame size {h}x{w} does not divide by the scale factor {factor}")
    out = np.empty((t, h // factor, w // factor, c), dtype=np.uint8)
    for i in range(t):  # frame by frame keeps the float copy small
        f = frames[i].reshape(h // factor, factor, w // factor, factor, c).astype(np.float32)
        out[i] = np.clip(np.round(f.mean(axis=(1, 3))), 0, 255).astype(np.uint8)
    return out


def _codec_for(path: Path, lossless: bool) -> tuple[str, str, str, dict[str, str]]:
    """(container format, codec, pixel format, codec options) for an output path."""
    ext = path.suffix.lower()
    if ext in (".mp4", ".mov", ".m4v"):
        fmt = "mov" if ext == ".mov" else "mp4"
        if lossless:
            return fmt, "libx264rgb", "rgb24", {"qp": "0", "preset": "medium"}
        return fmt, "libx264", "yuv444p", {"crf": "10", "preset": "medium"}
    if ext == ".mkv":
        return "matroska", "ffv1", "bgr0", {}
    if ext == ".y4m":
        return "yuv4mpegpipe", "rawvideo", "yuv444p", {}
    if ext == ".png" and "%" in path.name:
        return "image2", "png", "rgb24", {}
    raise NvcError(f"{path}: unsupported output type (use .mp4, .mov, .mkv, .y4m or a pattern like frame_%04d.png)")


def check_output(path: Path | str) -> None:
    """Fail early (before any work) if ``path`` has no supported type or cannot be written."""
    path = Path(path)
    _codec_for(path, False)
    check_writable(path)


def check_writable(path: Path) -> None:
    """Fail unless ``path``'s directory exists and is writable and ``path`` is not a directory."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise NvcError(f"{path}: cannot write: is a directory")
    if not parent.is_dir():
        raise NvcError(f"{path}: cannot write: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise NvcError(f"{path}: cannot write: permission denied")


def _encode_to(
    target: str,
    fmt: str,
    codec: str,
    pix_fmt: str,
    options: dict[str, str],
    frames: Iterable[np.ndarray],
    fps: Fraction,
) -> int:
    count = 0
    with av.open(target, "w", format=fmt, options={"fflags": "+bitexact"}) as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream(codec, rate=fps, options=options)
                stream.pix_fmt = pix_fmt
                stream.height, stream.width = frame.shape[:2]
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(vf))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count


def write_video(path: Path | str, frames: Iterable[np.ndarray], fps: Fraction, lossless: bool = False) -> int:
    """Write uint8 RGB frames (H x W x 3 each) by extension; return how many were written."""
    path = Path(path)
    fmt, codec, pix_fmt, options = _codec_for(path, lossless)
    if fmt != "image2":
        written = [0]

        def write(tmp: Path) -> None:
            written[0] = _encode_to(str(tmp), fmt, codec, pix_fmt, options, frames, fps)

        write_atomic(path, write)
        return written[0]
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise NvcError(f"{path}: cannot write: directory {parent} does not exist")
    tmpdir = Path(tempfile.mkdtemp(prefix=".nvcodec-png.", dir=parent))
    try:
        count = _encode_to(str(tmpdir / path.name), fmt, codec, pix_fmt, options, frames, fps)
        mode = 0o666 & ~umask()
        for i in range(count):
            name = path.name % (i + 1)
            os.chmod(tmpdir / name, mode)
            (tmpdir / name).replace(parent / name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return count
