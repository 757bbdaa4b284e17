"""Reading a long input in spans of frames: its frame count without decoding, then each span's
frames in one decoding pass, so memory holds one span at a time, not the whole video.

:class:`InputSpec` is what :func:`~nvcodec.io.prepare.prepare_video` takes (path or the sample,
first frame, count, crop, scale), kept unread.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from nvcodec.errors import NvcError
from nvcodec.io.prepare import prepare_video
from nvcodec.io.raw import RawFormat
from nvcodec.io.video import (
    Video,
    _open_input,
    crop_and_downscale,
    declared_frames,
    frames_video,
    shortfall,
    stream_rate,
)

Span = tuple[int, int]
"""First frame (counted from the input's ``start``) and number of frames."""


@dataclass(frozen=True)
class InputSpec:
    """An encode's input before any frame is read.

    Attributes:
        path: the video file; None: the sample clip (small, read whole).
        start: first frame of the input to use.
        frames: most frames to use (None: to the end).
        crop: centre crop (height, width) before scaling, or None.
        scale: box-downscale factor (None: 1, the sample's default for the sample).
        on_gpu: whether the encode runs on a GPU (the sample's default scale depends on it).
        name: what messages call the input (None: its path); the path may be a copy of it
            (:func:`~nvcodec.io.spool.spooled`).
        raw: the format of a raw ``.yuv`` file (:func:`~nvcodec.io.raw.raw_format`); None: a container.
    """

    path: Path | None
    start: int = 0
    frames: int | None = None
    crop: tuple[int, int] | None = None
    scale: int | None = None
    on_gpu: bool = False
    name: str | None = None
    raw: RawFormat | None = None

    @property
    def label(self) -> str:
        """The input's name in messages."""
        return self.name or str(self.path)

    def read(self) -> Video:
        """Every frame of this input, prepared (the sample is read once and kept: it is small)."""
        if self.path is None:
            return _sample(self.start, self.frames, self.crop, self.scale, self.on_gpu)
        return prepare_video(
            self.path, self.start, self.frames, self.crop, self.scale, self.on_gpu, self.label, self.raw
        )

    def count(self) -> int:
        """Frames this input holds (see :meth:`survey`)."""
        return self.survey()[0]

    def survey(self) -> tuple[int, list[str]]:
        """Frames this input holds, from the container's frame count (or its packets, when it
        declares none) without decoding, and the notes a whole read would give (a file shorter than
        it declares, fewer frames than asked for); the sample is read."""
        if self.path is None:
            return self.read().num_frames, []
        container = _open_input(Path(self.path), self.label, self.raw)
        try:
            if not container.streams.video:
                raise NvcError(f"{self.label}: not a video (no video stream)")
            stream = container.streams.video[0]
            fps = stream_rate(stream, self.raw)
            declared = declared_frames(container, stream, fps)
            total = int(stream.frames) or sum(1 for p in container.demux(stream) if p.size)
        except av.error.FFmpegError as exc:
            raise NvcError(f"{self.label}: not a decodable video ({exc.__class__.__name__})") from None
        finally:
            container.close()
        there = max(0, total - self.start)
        count = there if self.frames is None else min(there, self.frames)
        return count, shortfall(self.label, self.start, self.frames, count, declared)

    def spans(self, spans: list[Span]) -> Iterator[Video]:
        """The frames of each span (consecutive, in order) as prepared videos, decoding the input
        once and holding one span's frames at a time."""
        if self.path is None:
            whole = self.read()
            for first, count in spans:
                yield Video(whole.frames[first : first + count], whole.fps, whole.source, whole.prepared)
            return
        yield from _decode_spans(self, spans)


@functools.lru_cache(maxsize=1)
def _sample(start: int, frames: int | None, crop: tuple[int, int] | None, scale: int | None, on_gpu: bool) -> Video:
    """The sample clip as :func:`prepare_video` makes it (kept: :class:`InputSpec` reads it up to three times)."""
    return prepare_video(None, start, frames, crop, scale, on_gpu)


def _decode_spans(spec: InputSpec, spans: list[Span]) -> Iterator[Video]:
    """:meth:`InputSpec.spans` for a file: one pass of PyAV's decoder."""
    assert spec.path is not None, "the sample is sliced in memory"
    container = _open_input(Path(spec.path), spec.label, spec.raw)
    try:
        stream = container.streams.video[0]
        fps = stream_rate(stream, spec.raw)
        todo, buffer = iter(spans), []
        span = next(todo, None)
        for i, frame in enumerate(container.decode(stream)):
            if span is None:
                break
            if i < spec.start + span[0]:
                continue
            buffer.append(frame)
            if len(buffer) == span[1]:
                yield _prepared(spec, buffer, fps)
                buffer, span = [], next(todo, None)
        if buffer:
            yield _prepared(spec, buffer, fps)
    except av.error.FFmpegError as exc:
        raise NvcError(f"{spec.label}: not a decodable video ({exc.__class__.__name__})") from None
    finally:
        container.close()


def _prepared(spec: InputSpec, decoded: list[av.VideoFrame], fps: Fraction) -> Video:
    """A span's frames cropped and scaled as the input asks (its planes kept when neither is)."""
    video = frames_video(decoded, fps, spec.label)
    video.frames, video.prepared = crop_and_downscale(video.frames, spec.crop, spec.scale or 1)
    video.planes = None if video.prepared else video.planes
    return video
