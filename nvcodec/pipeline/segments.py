"""Long videos as segments: consecutive groups of at most ``--segment`` frames, each fitted with its
own network and written as one entry of the output (``docs/format.md``, segmented files).

Each segment is an ordinary one-video encode (:func:`~nvcodec.pipeline.encode.encode_video`) at
the whole file's ``--bpp``: rate is split by frames, so every segment lands in the budget's window
and the file does too. Finished segments are kept, each as its own ``.nrv`` file with a manifest,
in a work folder beside the output (``OUT.parts``, :mod:`~nvcodec.pipeline.workdir`); the output is
assembled from them only when all are done and verified, so an interrupted encode leaves no output,
and ``--resume`` fits only what is missing or does not verify.
Segments are fitted one after another, ``--workers K`` at a time in K processes, or spread over
the ranks of ``torchrun`` (:mod:`~nvcodec.pipeline.parallel`); a segment's bytes depend only on its
frames, the options and the device (on the CPU each segment is fitted on one thread), so every way
gives the same file.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nvcodec.container import parse_nrv, write_nrv
from nvcodec.errors import UsageError
from nvcodec.format.segments import join_segments
from nvcodec.io import Span
from nvcodec.metrics import bpp, kbps
from nvcodec.pipeline.decode import load_entries
from nvcodec.pipeline.encode import encode_video
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.report import EncodeReport
from nvcodec.pipeline.workdir import WorkDir
from nvcodec.progress import Reporter

DEFAULT_SEGMENT = 300
"""Frames per segment when the input is longer than :data:`LONG_INPUT` and none is asked for."""
LONG_INPUT = 600
"""Inputs of more frames than this are segmented by default (the papers fit one network to up to
600 frames: UVG's sequences; 300 1080p frames are 1.9 GB of RGB, a tenth of it at 640x1280)."""
SEGMENT_THREADS = 1
"""CPU threads of one segment's fit, in every mode: float sums on the CPU depend on how many threads
share them, so a fixed count is what makes one process, ``--workers`` and ``torchrun`` write the same
bytes; the machine's cores are used by fitting segments in parallel instead."""
SUMMED = ("bytes", "params", "fit_seconds")
WEIGHTED: tuple[str, ...] = ("psnr", "ms_ssim", "fit_psnr", "fit_ms_ssim", "prune")
WEIGHTED += ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "kmac_per_pixel")


def plan_segments(total: int, segment: int) -> list[Span]:
    """Consecutive spans covering ``total`` frames, as few as ``segment`` allows, sizes balanced
    (they differ by at most one frame, the longer first)."""
    if segment < 1:
        raise UsageError(f"--segment {segment}: must be at least 1 frame")
    count = -(-total // segment)
    base, extra = divmod(total, count)
    spans, first = [], 0
    for k in range(count):
        size = base + (k < extra)
        spans.append((first, size))
        first += size
    return spans


def segment_length(total: int, segment: int | None) -> int:
    """``segment`` if given, else :data:`DEFAULT_SEGMENT` for inputs longer than :data:`LONG_INPUT`
    frames and the whole input otherwise."""
    if segment is not None:
        return segment
    return DEFAULT_SEGMENT if total > LONG_INPUT else max(total, 1)


def segment_options(options: EncodeOptions, spans: list[Span], k: int) -> EncodeOptions:
    """The options of segment ``k``: ``--params`` (values of the whole file) split by frames; the
    rest as given (``--bpp`` holds for every segment as for the file)."""
    if options.params is None:
        return options
    total = sum(n for _, n in spans)
    return dataclasses.replace(options, params=max(1, round(options.params * spans[k][1] / total)))


def encode_one(video: Any, k: int, span: Span, work: WorkDir, options: EncodeOptions) -> None:
    """Fit segment ``k`` (frames ``video``, at ``span`` of the input) into its file in ``work`` and
    record it there. On the CPU the fit runs on one thread (:data:`SEGMENT_THREADS`), whichever
    process runs it."""
    report = encode_video(video, work.segment(k), dataclasses.replace(options, threads=SEGMENT_THREADS), Reporter())
    work.save(k, span, report)


def reusable(work: WorkDir, spans: list[Span], reporter: Reporter) -> tuple[list[int], list[str]]:
    """The segments still to fit, and a note for each one found in ``work`` that did not verify
    (its files are removed: it is fitted again)."""
    todo, notes = [], []
    for k, span in enumerate(spans):
        why = work.check(k, span)
        if why is None:
            continue
        todo.append(k)
        if why != "missing":
            notes.append(f"{work.path}: segment {k} did not verify ({why}); fitted again")
            reporter.note(f"warning: {notes[-1]}")
            work.discard(k)
    return todo, notes


def _merged(rows: list[dict[str, Any]], spans: list[Span], notes: list[str]) -> dict[str, Any]:
    """The whole video's report from its segments': sums of bytes and values, frame-weighted
    means of the quality figures, each measured by the segment's encode on its decoder's frames."""
    total = sum(count for _, count in spans)
    merged = dict(rows[0])
    for key in SUMMED:
        merged[key] = sum(r[key] for r in rows)
    for key in WEIGHTED:
        values: list[float] = [r[key] for r in rows if r.get(key) is not None]
        weighted = sum(v * n for v, (_, n) in zip(values, spans, strict=True)) if len(values) == len(rows) else None
        merged[key] = None if weighted is None else weighted / total
    merged.update(
        frames=total,
        epochs=max(r["epochs"] for r in rows),
        weight_bits=_largest(r.get("weight_bits") for r in rows),
        embed_bits=_largest(r.get("embed_bits") for r in rows),
        segments=len(spans),
        notes=list(notes) + sorted({n for r in rows for n in r["notes"]}),
    )
    return merged


def _largest(values: Iterable[int | None]) -> int | None:
    """The largest of the values given (None when none is)."""
    present = [v for v in values if v is not None]
    return max(present) if present else None


def finish(output: Path, work: WorkDir, spans: list[Span], started: float, notes: list[str]) -> EncodeReport:
    """Write the output from the finished segments, each verified against its manifest, read it
    back through the reader (a file it refuses is removed), then remove the work folder."""
    parts, rows = [], []
    for k, span in enumerate(spans):
        data, row = work.load(k, span)
        parts.append(parse_nrv(data, str(work.segment(k))))
        rows.append(row)
    merged = _merged(rows, spans, notes)
    nbytes = write_nrv(output, join_segments(parts, [first for first, _ in spans]))
    try:
        load_entries(output)
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    shutil.rmtree(work.path, ignore_errors=True)
    height, width = rows[0]["height"], rows[0]["width"]
    merged.update(bytes=nbytes, bpp=bpp(nbytes, merged["frames"], height, width))
    merged.update(encode_seconds=time.perf_counter() - started)
    if merged.get("frame_rate"):
        merged.update(kbps=kbps(nbytes, merged["frames"], merged["frame_rate"]))
    return EncodeReport(**merged)
