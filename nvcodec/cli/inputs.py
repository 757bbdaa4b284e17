"""The command line's input side: what to encode (a file, a pipe, a raw file, or the sample),
read through the one input door, and one encode run with its progress bar and log."""

from __future__ import annotations

import contextlib
from pathlib import Path

from nvcodec import pipeline
from nvcodec.errors import UsageError
from nvcodec.io import InputSpec, Video, is_raw, prepare_video, raw_format, spooled
from nvcodec.pipeline import EncodeOptions
from nvcodec.progress import LogReporter, Reporter, RichReporter


def make_reporter(quiet: bool) -> Reporter:
    return Reporter() if quiet else RichReporter()


def parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--crop {text}: expected HEIGHTxWIDTH, e.g. 640x1280") from None
    return h, w


def input_video(
    input: Path | None,
    sample: bool,
    start: int,
    frames: int | None,
    crop: str | None,
    scale: int | None,
    options: EncodeOptions,
    reporter: Reporter,
) -> Video:
    """The video to encode, through the one input door."""
    if sample == (input is not None):
        raise UsageError("give an input video or --sample (not both)")
    on_gpu = pipeline.resolve_device(options.device).type == "cuda"
    video = prepare_video(input, start, frames, parse_size(crop) if crop else None, scale, on_gpu)
    if sample:
        reporter.note(
            f"sample: {video.source}, {video.num_frames} frames, {video.prepared} to {video.height}x{video.width}"
        )
    for note in video.notes:
        reporter.note(f"warning: {note}")
    return video


def input_spec(
    input: Path | None, readable: Path | None, sample: bool, window: tuple[int, int | None, str | None, int | None],
    options: EncodeOptions, reporter: Reporter, raw: tuple[str | None, str | None, str | None] = (None, None, None),
) -> InputSpec:  # fmt: skip
    """The input of an encode, unread (the sample is announced): ``input`` as the user named it,
    read from ``readable`` (a copy of a pipe's bytes), ``window``: start, frames, crop, scale;
    ``raw``: ``--size``, ``--fps`` and ``--pix-fmt`` of a raw ``.yuv`` input."""
    if sample == (input is not None):
        raise UsageError("give an input video or --sample (not both)")
    start, frames, crop, scale = window
    on_gpu = pipeline.resolve_device(options.device).type == "cuda"
    size = parse_size(crop) if crop else None
    form = None
    if input is not None and readable is not None and is_raw(input):
        form = raw_format(readable, *raw, label=str(input))
    elif any(raw):
        raise UsageError("--size, --fps and --pix-fmt describe a raw .yuv input; other inputs say their own")
    source = InputSpec(readable, start, frames, size, scale, on_gpu, str(input) if input else None, form)
    if sample:
        video = source.read()
        reporter.note(
            f"sample: {video.source}, {video.num_frames} frames, {video.prepared} to {video.height}x{video.width}"
        )
    return source


def encode_input(
    input: Path | None, sample: bool, out: Path, options: EncodeOptions, quiet: bool,
    window: tuple[int, int | None, str | None, int | None], raw: tuple[str | None, str | None, str | None],
    segmented: tuple[int | None, int | None, bool], log: Path | None = None,
) -> pipeline.EncodeReport | None:  # fmt: skip
    """Encode ``input`` (or the sample) to ``out`` with a progress bar unless ``quiet``: ``window``
    and ``raw`` as :func:`input_spec` takes them, ``segmented`` the segment length, workers and
    ``--resume``; every epoch logged to ``log`` as a JSON line when given. None on a torchrun rank
    that does not report."""
    with contextlib.ExitStack() as stack:
        reporter = make_reporter(quiet)
        if log is not None:
            reporter = LogReporter(reporter, stack.enter_context(log.open("w", encoding="utf-8")))
        stack.callback(reporter.close)
        with spooled(input) as readable:  # a pipe or fifo is read once, into a temporary copy
            source = input_spec(input, readable, sample, window, options, reporter, raw)
            return pipeline.encode_source(source, out, options, reporter, *segmented)
