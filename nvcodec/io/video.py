"""Read any video FFmpeg reads into uint8 RGB frames, and write frames by output extension.

Output formats: ``.mp4``/``.mov`` (H.264 at CRF 10: yuv420p, which every player opens, or yuv444p;
lossless RGB with ``libx264rgb`` when asked), ``.mkv`` (FFV1 in ``bgr0``: bit-exact RGB), ``.y4m``
(yuv444p unless asked for another of :data:`~nvcodec.io.raw.RAW_PIX_FMTS`), ``.yuv`` (bare frames,
yuv420p unless asked), and PNG patterns such as ``frame_%04d.png`` (bit-exact; file k is frame k).
Every output is written under a temporary name and renamed.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from nvcodec.errors import NvcError, UsageError
from nvcodec.files import temp_dir, umask, write_atomic
from nvcodec.io.raw import PLANAR_DEPTHS, RAW_PIX_FMTS, RawFormat, frame_planes, rgb_to_planes

DEFAULT_FPS = Fraction(25, 1)
PIX_FMTS = ("yuv420p", "yuv444p")
"""Chroma formats of H.264 outputs: 4:2:0 (the default: browsers and QuickTime play it) or 4:4:4."""
_PATTERN = re.compile(r"%0?\d*d")
"""A frame-number placeholder in an image pattern: ``%d`` or ``%04d``."""


def is_pattern(path: Path) -> bool:
    """Whether ``path`` names numbered images (exactly one ``%d``/``%0Nd`` and no other ``%`` but ``%%``)."""
    rest = path.name.replace("%%", "")
    return len(_PATTERN.findall(rest)) == 1 and rest.count("%") == 1


def pattern_files(path: Path) -> list[Path]:
    """Existing files in ``path``'s folder whose names the pattern ``path`` can produce."""
    head, tail = _PATTERN.split(path.name.replace("%%", "\0"), maxsplit=1)
    unescape = lambda text: re.escape(text.replace("\0", "%"))  # noqa: E731
    regex = re.compile(f"^{unescape(head)}\\d+{unescape(tail)}$")
    parent = path.parent if str(path.parent) else Path(".")
    return sorted(p for p in parent.iterdir() if regex.match(p.name)) if parent.is_dir() else []


@dataclass
class Video:
    """Frames as a uint8 array T x H x W x 3 (RGB), with their frame rate, where they came from,
    what was done to them on the way in (``prepared``, e.g. ``centre crop 640x1280, downscaled x4``)
    and warnings about the input (``notes``: a truncated file, fewer frames than asked for).

    A planar YUV source (:data:`~nvcodec.io.raw.PLANAR_DEPTHS`) also keeps its ``pix_fmt`` and,
    while its frames are neither cropped nor scaled, its own ``planes`` (Y, U, V, each T x h x w
    at the source's bit depth): the field's metrics are measured against them."""

    frames: np.ndarray
    fps: Fraction
    source: str
    prepared: str = ""
    notes: list[str] = field(default_factory=list)
    pix_fmt: str | None = None
    planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

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


def video_planes(video: Video) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U, V planes of a planar YUV ``video``: its source's own, or, once cropped or scaled,
    its RGB frames converted to the source's pixel format (:func:`~nvcodec.io.raw.rgb_to_planes`)."""
    if video.planes is not None:
        return video.planes
    if video.pix_fmt is None:
        raise ValueError(f"{video.source}: not a planar YUV source")
    return frames_to_planes(video.frames, video.pix_fmt)


def frames_to_planes(frames: np.ndarray, pix_fmt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB frames (T x H x W x 3) converted to ``pix_fmt``'s Y, U, V planes, each T x h x w
    (:func:`~nvcodec.io.raw.rgb_to_planes`)."""
    planes = [rgb_to_planes(frame, pix_fmt) for frame in frames]
    y, u, v = (np.stack([p[k] for p in planes]) for k in range(3))
    return y, u, v


def _open_input(path: Path, name: str | None = None, raw: RawFormat | None = None) -> av.container.InputContainer:
    """PyAV's container for ``path`` (a file, an image pattern, or raw frames of format ``raw``);
    errors call it ``name`` (default: the path)."""
    label = name or str(path)
    pattern = is_pattern(path) and not path.exists()  # frame_%04d.png; a file named 100%.mkv is a file
    if pattern:  # the first image must exist
        if not any((path.parent / (path.name % i)).is_file() for i in (0, 1)):
            raise NvcError(f"{label}: no image matches the pattern")
    elif not path.exists():
        raise NvcError(f"{label}: {'symbolic link loop' if _loops(path) else 'no such file'}")
    if path.is_dir():
        raise NvcError(f"{label}: is a directory")
    if not os.access(path, os.R_OK) and not pattern:
        raise NvcError(f"{label}: cannot read: permission denied")
    try:
        if raw is not None:
            return av.open(str(path), format="rawvideo", options=raw.demuxer_options())
        return av.open(str(path), format="image2" if pattern else None)
    except InterruptedError:
        raise KeyboardInterrupt from None  # a signal while blocked on the input: the signal's own exit
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise NvcError(f"{label}: not a video ({exc.__class__.__name__})") from None


def stream_rate(stream: av.video.stream.VideoStream, raw: RawFormat | None = None) -> Fraction:
    """The frame rate of an input: a raw file's own (FFmpeg's rawvideo demuxer declares no average
    rate), else the stream's average rate, else :data:`DEFAULT_FPS`."""
    if raw is not None:
        return raw.fps
    return Fraction(stream.average_rate) if stream.average_rate else DEFAULT_FPS


def _loops(path: Path) -> bool:
    """Whether ``path`` is a symbolic link that never reaches a file (a loop)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def read_video(
    path: Path | str, start: int = 0, frames: int | None = None, name: str | None = None, raw: RawFormat | None = None
) -> Video:
    """Decode frames ``start .. start + frames`` (all to the end if None) of the first video stream
    (``name``: what messages call the input; default: its path; ``raw``: the format of a raw file)."""
    path = Path(path)
    label = name or str(path)
    if start < 0 or (frames is not None and frames <= 0):
        raise NvcError(f"{label}: invalid frame range (start {start}, frames {frames})")
    container = _open_input(path, label, raw)
    try:
        if not container.streams.video:
            raise NvcError(f"{label}: not a video (no video stream)")
        stream = container.streams.video[0]
        fps = stream_rate(stream, raw)
        declared = declared_frames(container, stream, fps)
        stop = None if frames is None else start + frames
        video = frames_video(itertools.islice(container.decode(stream), start, stop), fps, label)
    except av.error.FFmpegError as exc:
        raise NvcError(f"{label}: not a decodable video ({exc.__class__.__name__})") from None
    finally:
        container.close()
    if not video.num_frames:
        raise NvcError(f"{label}: no frames to encode (start {start})")
    video.notes += shortfall(label, start, frames, video.num_frames, declared)
    return video


def frames_video(decoded: Iterable[av.VideoFrame], fps: Fraction, label: str) -> Video:
    """Decoded frames as a :class:`Video`, converted one at a time: RGB, and, from a planar YUV
    source, its pixel format and planes (a bit depth above 8 is said in the notes: the fit sees
    8-bit RGB; a stream whose format changes keeps no planes)."""
    rgb: list[np.ndarray] = []
    planes: list[tuple[np.ndarray, ...]] = []
    pix_fmt: str | None = None
    for i, frame in enumerate(decoded):
        rgb.append(frame.to_ndarray(format="rgb24"))
        if i == 0:
            pix_fmt = frame.format.name if frame.format.name in PLANAR_DEPTHS else None
        own = frame_planes(frame) if pix_fmt is not None and frame.format.name == pix_fmt else None
        if own is None:
            pix_fmt, planes = None, []
        else:
            planes.append(own)
    if not rgb:
        return Video(np.zeros((0, 1, 1, 3), np.uint8), fps, label)
    if pix_fmt is None:
        return Video(np.stack(rgb), fps, label)
    y, u, v = (np.stack([p[k] for p in planes]) for k in range(3))
    return Video(np.stack(rgb), fps, label, pix_fmt=pix_fmt, planes=(y, u, v))


def declared_frames(container: av.container.InputContainer, stream: av.video.stream.VideoStream, fps: Fraction) -> int:
    """Frames the file says it holds (its frame count, else duration x frame rate); 0 if unknown."""
    if stream.frames:
        return int(stream.frames)
    if container.duration and container.duration > 0:
        return int(round(container.duration / 1_000_000 * fps))
    return 0


def shortfall(path: Path | str, start: int, frames: int | None, read: int, declared: int) -> list[str]:
    """Warnings when fewer frames were read than asked for or than the file declares."""
    notes = []
    if frames is not None and read < frames:
        notes.append(f"{path}: asked for {frames} frames from frame {start}, the clip has only {read} there")
    expected = declared - start if frames is None else min(frames, declared - start)
    if declared and read < expected - 1:
        notes.append(f"{path}: read {read} frames where the file declares {expected}: it may be truncated")
    return notes


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


def crop_and_downscale(frames: np.ndarray, crop: tuple[int, int] | None, scale: int) -> tuple[np.ndarray, str]:
    """Centre-crop to ``crop`` (height, width; None keeps the frame) then box-downscale by ``scale``;
    returns the frames and what was done (``centre crop 640x1280, downscaled x4``)."""
    steps = []
    if crop is not None:
        frames = center_crop(frames, *crop)
        steps.append(f"centre crop {crop[0]}x{crop[1]}")
    if scale > 1:
        frames = area_downscale(frames, scale)
        steps.append(f"downscaled x{scale}")
    return frames, ", ".join(steps)


def _codec_for(path: Path, lossless: bool, pix_fmt: str | None = None) -> tuple[str, str, str, dict[str, str]]:
    """(container format, codec, pixel format, codec options) for an output path (``pix_fmt``:
    the one asked for, None: the type's default)."""
    ext = path.suffix.lower()
    if ext in (".mp4", ".mov", ".m4v"):
        fmt = "mov" if ext == ".mov" else "mp4"
        if lossless:
            if pix_fmt is not None:
                raise UsageError(f"--pix-fmt {pix_fmt}: --lossless writes RGB")
            return fmt, "libx264rgb", "rgb24", {"qp": "0", "preset": "medium"}
        if (pix_fmt or PIX_FMTS[0]) not in PIX_FMTS:
            raise UsageError(f"--pix-fmt {pix_fmt}: {path.suffix} holds {', '.join(PIX_FMTS)}")
        return fmt, "libx264", pix_fmt or PIX_FMTS[0], {"crf": "10", "preset": "medium"}
    if ext in (".y4m", ".yuv"):
        chosen = pix_fmt or ("yuv444p" if ext == ".y4m" else "yuv420p")
        if chosen not in RAW_PIX_FMTS:
            raise UsageError(f"--pix-fmt {pix_fmt}: {ext} holds {', '.join(RAW_PIX_FMTS)}")
        return ("yuv4mpegpipe" if ext == ".y4m" else "rawvideo"), "rawvideo", chosen, {}
    if pix_fmt is not None:
        raise UsageError(f"--pix-fmt {pix_fmt}: only .mp4, .mov, .y4m and .yuv outputs take a pixel format")
    if ext == ".mkv":
        return "matroska", "ffv1", "bgr0", {}
    if ext == ".png" and is_pattern(path):
        return "image2", "png", "rgb24", {}
    if ext == ".png" and "%" in path.name:
        raise UsageError(f"{path}: a PNG output needs one frame number like frame_%04d.png (write %% for a %)")
    raise UsageError(
        f"{path}: unsupported output type (use .mp4, .mov, .mkv, .y4m, .yuv or a pattern like frame_%04d.png)"
    )


def check_output_type(path: Path | str, lossless: bool = False, pix_fmt: str | None = None) -> None:
    """Fail early (before any work) if ``path`` names no supported output type."""
    _codec_for(Path(path), lossless, pix_fmt)


def _chroma_fits(pix_fmt: str, size: tuple[int, int], fmt: str) -> str:
    """H.264 takes 4:2:0 only at even sides (``size``: height, width): odd-sized frames go to it as
    4:4:4 instead. Raw and Y4M outputs hold them (chroma planes of half the sides rounded up, as
    FFmpeg reads and writes them)."""
    if not pix_fmt.startswith("yuv420p") or not (size[0] % 2 or size[1] % 2) or fmt in ("rawvideo", "yuv4mpegpipe"):
        return pix_fmt
    return "yuv444p"


def _rgb_frame(frame: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")


def _encode_to(
    target: str,
    fmt: str,
    codec: str,
    pix_fmt: str,
    options: dict[str, str],
    frames: Iterable[np.ndarray | av.VideoFrame],
    fps: Fraction,
    first: int = 0,
) -> int:
    count = 0
    muxer = {"fflags": "+bitexact"} | ({"start_number": str(first)} if fmt == "image2" else {})
    if fmt == "yuv4mpegpipe" and PLANAR_DEPTHS.get(pix_fmt, 8) > 8:
        muxer["strict"] = "-1"  # FFmpeg's Y4M muxer writes C420p10 only when told it may
    with av.open(target, "w", format=fmt, options=muxer) as container:
        stream = None
        for frame in frames:
            vf = (
                frame
                if isinstance(frame, av.VideoFrame)
                else av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            )
            if stream is None:
                stream = container.add_stream(codec, rate=fps, options=options)
                stream.pix_fmt = _chroma_fits(pix_fmt, (vf.height, vf.width), fmt)
                stream.height, stream.width = vf.height, vf.width
            container.mux(stream.encode(vf))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count


def _encode_checked(path: Path, codec: str, *args: object) -> int:
    """:func:`_encode_to`, with the encoder's refusals (e.g. FFV1 and 1-pixel-wide frames) as one-line errors."""
    try:
        return _encode_to(*args)
    except OSError as exc:  # PyAV's errors of the system (ENOSPC, EIO...) are OSErrors too
        if exc.errno is not None and exc.errno not in (errno.EINVAL, errno.ENOSYS):
            raise NvcError(f"{path}: cannot write: {os.strerror(exc.errno)}") from None
        raise NvcError(f"{path}: {codec} cannot write these frames ({exc}); try another output type") from None
    except (av.error.FFmpegError, ValueError) as exc:
        raise NvcError(f"{path}: {codec} cannot write these frames ({exc}); try another output type") from None


def _write_images(path: Path, frames: Iterable[np.ndarray | av.VideoFrame], fps: Fraction, first: int) -> int:
    """Numbered PNG files, file k holding frame k, moved into place once all are written; files of
    the same pattern that this write did not produce (an earlier decode's) are removed."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise NvcError(f"{path}: cannot write: directory {parent} does not exist")
    tmpdir = temp_dir(path)
    try:
        count = _encode_checked(path, "png", str(tmpdir / path.name), "image2", "png", "rgb24", {}, frames, fps, first)
        mode = 0o666 & ~umask()
        written = set()
        for k in range(first, first + count):
            name = path.name % k
            os.chmod(tmpdir / name, mode)
            (tmpdir / name).replace(parent / name)
            written.add(name)
        for stale in pattern_files(path):
            if stale.name not in written:
                stale.unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return count


def write_video(
    path: Path | str,
    frames: Iterable[np.ndarray | av.VideoFrame],
    fps: Fraction,
    lossless: bool = False,
    pix_fmt: str | None = None,
    first: int = 0,
) -> int:
    """Write uint8 RGB frames (H x W x 3 each, or PyAV frames of any format, as a natively coded
    video's planes come) by extension; return how many were written. ``first``
    is the index of the first frame (the number of its file in a PNG pattern); ``pix_fmt`` the
    pixel format of an H.264, Y4M or raw output (None: the type's default); H.264 outputs of
    odd-sized frames are 4:4:4 whatever ``pix_fmt`` asks."""
    path = Path(path)
    fmt, codec, pix, options = _codec_for(path, lossless, pix_fmt)
    if fmt == "image2":
        return _write_images(path, frames, fps, first)
    written = [0]

    def write(tmp: Path) -> None:
        written[0] = _encode_checked(path, codec, str(tmp), fmt, codec, pix, options, frames, fps)

    write_atomic(path, write)
    return written[0]
