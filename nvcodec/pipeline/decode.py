"""Decoding: a ``.nrv`` file -> its entries or archive -> the decoder's network -> frames a:b ->
a video file. The encoder's report calls the same functions on the file it has just written."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nvcodec.bitio import ReadError
from nvcodec.container import SectionRef, index_nrv, read_nrv, read_payloads
from nvcodec.errors import CorruptFileError, NvcError
from nvcodec.format import Archive, Entry, VideoMeta, is_archive, unpack_archive, unpack_entries
from nvcodec.format.pixels import TAG as PIXELS_TAG
from nvcodec.format.pixels import Pixels, read_pixels
from nvcodec.format.segments import SEGMENT_TAG, Segment, read_segments, segments_for
from nvcodec.io import Video, frames_to_planes, video_planes, write_video
from nvcodec.io.raw import PLANAR_DEPTHS, RAW_PIX_FMTS, planes_frame, planes_to_rgb
from nvcodec.metrics import mean_psnr, plane_psnr
from nvcodec.pipeline.options import resolve_device
from nvcodec.pipeline.report import DecodeReport
from nvcodec.progress import Reporter
from nvcodec.render import build_decoder, dequantize_embeddings, render, render_planes

FramesOf = Callable[[list[int], torch.device], Iterator[np.ndarray]]


def load_entries(path: Path) -> list[Entry]:
    """Every video entry of a one-video-per-entry ``.nrv`` file, checked and decoded to quantized tensors."""
    return unpack_entries(read_nrv(Path(path)), str(path))


def load_archive(path: Path) -> Archive:
    """The progressive archive at ``path``, checked and decoded to masks and quantized tensors."""
    return unpack_archive(read_nrv(Path(path)), str(path))


def native_format(entry: Entry) -> str | None:
    """The pixel format whose planes ``entry``'s network outputs (None: it outputs RGB)."""
    return entry.pixels.source if entry.pixels is not None and entry.pixels.native else None


def render_entry_planes(entry: Entry, indices: list[int], device: torch.device) -> Iterator[tuple[np.ndarray, ...]]:
    """The Y, U, V planes of frames ``indices`` of a natively coded entry, through the decoder's path."""
    pix_fmt = native_format(entry)
    if pix_fmt is None:
        raise ValueError("the entry's network outputs RGB, not planes")
    model = build_decoder(entry.spec, entry.config, entry.params, device)
    embeddings = dequantize_embeddings(entry.embeddings, device)
    layout = (PLANAR_DEPTHS[pix_fmt], RAW_PIX_FMTS[pix_fmt][1])
    return render_planes(model, embeddings, indices, (entry.meta.height, entry.meta.width), device, layout)


def render_entry(entry: Entry, indices: list[int], device: torch.device) -> Iterator[np.ndarray]:
    """Frames ``indices`` of a video entry, through the decoder's path, as RGB (a natively coded
    entry's planes converted as its source's frames were: :func:`~nvcodec.io.raw.planes_to_rgb`)."""
    pix_fmt = native_format(entry)
    if pix_fmt is not None:
        return (planes_to_rgb(p, pix_fmt) for p in render_entry_planes(entry, indices, device))
    model = build_decoder(entry.spec, entry.config, entry.params, device)
    embeddings = dequantize_embeddings(entry.embeddings, device)
    return render(model, embeddings, indices, (entry.meta.height, entry.meta.width), device)


def decoded_quality(entry: Entry, video: Video, indices: list[int], device: torch.device) -> float:
    """The PSNR the fit aims at, of frames ``indices`` through the decoder's path: for a natively
    coded entry the 6:1:1 YUV PSNR against the source's planes at its bit depth, else RGB PSNR."""
    pix_fmt = native_format(entry)
    if pix_fmt is None:
        return mean_psnr(video.frames[indices], np.stack(list(render_entry(entry, indices, device))))
    got = [np.stack(p) for p in zip(*render_entry_planes(entry, indices, device), strict=True)]
    ref = tuple(p[indices] for p in video_planes(video))
    return plane_psnr(ref, tuple(got), PLANAR_DEPTHS[pix_fmt])["psnr_yuv"]


def archive_decoder(archive: Archive, index: int, device: torch.device) -> torch.nn.Module:
    """The network of video ``index`` of a progressive archive: weights replayed from videos
    ``0..index`` (nothing later is read), that video's masks and head."""
    session = archive.sessions[index]
    weights, _ = archive.replay(index)
    model = archive.spec.build(archive.config)
    with torch.no_grad():
        for name, value in weights.items():
            model.weights[name].copy_(torch.from_numpy(value))
        model.head.copy_(torch.from_numpy(session.head.dequantize()))
    model.to(device)  # before use_masks: the masks are placed on the weights' device
    model.use_masks({n: torch.from_numpy(m) for n, m in session.masks.items()})
    model.set_video(index, session.meta.frames)
    return model.eval()


def render_archive(archive: Archive, index: int, indices: list[int], device: torch.device) -> Iterator[np.ndarray]:
    """Frames ``indices`` of video ``index`` of a progressive archive, through the decoder's path."""
    meta = archive.sessions[index].meta
    return render(archive_decoder(archive, index, device), {}, indices, (meta.height, meta.width), device)


def segmented(path: Path) -> tuple[list[SectionRef], VideoMeta, list[Segment]] | None:
    """The section index, whole video and segments of a segmented file (None for other files),
    reading only the section heads and the ``VHDR`` and ``SEGM`` payloads."""
    refs = index_nrv(Path(path))
    heads = read_payloads(Path(path), [r for r in refs if r.tag in (b"VHDR", SEGMENT_TAG)])
    found = read_segments(heads, str(path))
    return None if found is None else (refs, *found)


def segment_entry(path: Path, refs: list[SectionRef], k: int) -> Entry:
    """Entry ``k`` of a segmented file, reading only its sections."""
    (entry,) = unpack_entries(read_payloads(Path(path), [r for r in refs if r.video == k]), str(path))
    return entry


def render_segments(
    path: Path,
    refs: list[SectionRef],
    segments: list[Segment],
    indices: list[int],
    device: torch.device,
    renders: Callable[[Entry, list[int], torch.device], Iterator[Any]] = render_entry,
) -> Iterator[Any]:
    """Frames ``indices`` (ascending) of a segmented file: each segment that holds some is read,
    built and rendered in turn by ``renders`` (RGB frames, or a native file's planes); the others
    are not read."""
    for seg in segments_for(segments, min(indices), max(indices) + 1):
        local = [i - seg.first for i in indices if seg.first <= i < seg.end]
        if local:
            yield from renders(segment_entry(path, refs, seg.index), local, device)


def open_video(path: Path, video: int) -> tuple[VideoMeta, FramesOf]:
    """Metadata of video ``video`` of a ``.nrv`` file and a function (indices, device) -> frames."""
    found = segmented(Path(path))
    if found is not None:
        refs, whole, segments = found
        if video != 0:
            raise NvcError(f"{path}: no video {video} (the file holds one video, in {len(segments)} segments)")
        return whole, lambda idx, dev: render_segments(Path(path), refs, segments, idx, dev)
    sections = read_nrv(Path(path))
    if is_archive(sections):
        archive = unpack_archive(sections, str(path))
        count = len(archive.sessions)
    else:
        entries = unpack_entries(sections, str(path))
        count = len(entries)
    if not 0 <= video < count:
        raise NvcError(f"{path}: no video {video} (the file holds {count})")
    if is_archive(sections):
        return archive.sessions[video].meta, lambda idx, dev: render_archive(archive, video, idx, dev)
    return entries[video].meta, lambda idx, dev: render_entry(entries[video], idx, dev)


def _read_pixels(path: Path, payload: bytes) -> Pixels:
    try:
        return read_pixels(payload)
    except ReadError as exc:
        raise CorruptFileError(str(path), f"segment 0: {exc}") from None


def _planes_of(path: Path, video: int) -> tuple[Pixels | None, Callable[..., Iterator[Any]] | None]:
    """The pixels of video ``video`` (a segmented file's first segment's: they are alike) and, for
    a natively coded one, a function (indices, device) -> its frames' planes; (None, None) for an
    archive, which codes RGB from an unknown source."""
    found = segmented(Path(path))
    if found is not None:
        refs, _, segments = found
        marks = read_payloads(Path(path), [r for r in refs if r.tag == PIXELS_TAG and r.video == 0])
        pixels = _read_pixels(path, marks[0].payload) if marks else None
        planes = lambda idx, dev: render_segments(path, refs, segments, idx, dev, render_entry_planes)  # noqa: E731
        return pixels, planes if pixels is not None and pixels.native else None
    sections = read_nrv(Path(path))
    if is_archive(sections):
        return None, None
    entry = unpack_entries(sections, str(path))[video]
    native = entry.pixels is not None and entry.pixels.native
    return entry.pixels, (lambda idx, dev: render_entry_planes(entry, idx, dev)) if native else None


def _frame_range(path: Path, frames: tuple[int, int] | None, total: int) -> tuple[int, int]:
    first, end = frames if frames is not None else (0, total)
    if not 0 <= first < end <= total:
        raise NvcError(f"{path}: frame range {first}:{end} is outside 0:{total}")
    return first, end


def decode_frames(
    path: Path, frames: tuple[int, int] | None = None, device: str = "auto", video: int = 0
) -> tuple[VideoMeta, np.ndarray]:
    """The reconstructed frames ``a:b`` (all by default) of video ``video`` in a ``.nrv`` file."""
    meta, frames_of = open_video(path, video)
    first, end = _frame_range(path, frames, meta.frames)
    return meta, np.stack(list(frames_of(list(range(first, end)), resolve_device(device))))


def decode_planes(
    path: Path, frames: tuple[int, int] | None = None, device: str = "auto", video: int = 0
) -> tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pixel format and Y, U, V planes (each T x h x w) of frames ``a:b`` of video ``video``, in
    its source's format: a natively coded video's planes as decoded, an RGB-coded one's frames
    converted as a ``.y4m`` decode converts them; :class:`~nvcodec.errors.NvcError` for a video
    whose file names no planar source format."""
    pixels, planes_of = _planes_of(path, video)
    if pixels is None or pixels.source is None:
        raise NvcError(f"{path}: video {video} names no planar YUV source format (decode it as RGB)")
    if planes_of is None:
        return pixels.source, frames_to_planes(decode_frames(path, frames, device, video)[1], pixels.source)
    meta, _ = open_video(path, video)
    first, end = _frame_range(path, frames, meta.frames)
    made = list(planes_of(list(range(first, end)), resolve_device(device)))
    y, u, v = (np.stack([p[k] for p in made]) for k in range(3))
    return pixels.source, (y, u, v)


def decode_file(
    path: Path,
    output: Path,
    frames: tuple[int, int] | None = None,
    device: str = "auto",
    lossless: bool = False,
    video: int = 0,
    reporter: Reporter | None = None,
    pix_fmt: str | None = None,
) -> DecodeReport:
    """Decode a ``.nrv`` file (or frames ``a:b`` of it) into a video file chosen by extension
    (``pix_fmt``: the pixel format of an H.264, Y4M or raw output, None: the type's default; in a
    PNG pattern, file k holds frame k)."""
    reporter = reporter or Reporter()
    started = time.perf_counter()
    meta, rgb_of = open_video(path, video)
    frames_of: Callable[[list[int], torch.device], Iterator[Any]] = rgb_of
    first, end = _frame_range(path, frames, meta.frames)
    dev = resolve_device(device)
    pixels, planes_of = _planes_of(path, video)
    source = pixels.source if pixels is not None else None
    if pix_fmt is None and output.suffix.lower() in (".yuv", ".y4m") and source is not None:
        pix_fmt = source  # a YUV output holds the source's own format unless asked otherwise
    if planes_of is not None and source is not None and (pix_fmt == source or output.suffix.lower() != ".mp4"):
        frames_of = lambda idx, dev: (planes_frame(p, source) for p in planes_of(idx, dev))  # noqa: E731
    reporter.start("decode", end - first)

    def counted() -> Iterator[Any]:
        for frame in frames_of(list(range(first, end)), dev):
            reporter.advance(1)
            yield frame

    count = write_video(output, counted(), meta.fps, lossless=lossless, pix_fmt=pix_fmt, first=first)
    seconds = time.perf_counter() - started
    return DecodeReport(count, meta.width, meta.height, seconds, count / seconds, str(output))
