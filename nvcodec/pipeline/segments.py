"""Long videos as segments: consecutive groups of at most ``--segment`` frames, each fitted with its
own network and written as one entry of the output (``docs/format.md``, segmented files).

Each segment is an ordinary one-video encode (:func:`~nvcodec.pipeline.encode.encode_video`) at
the whole file's ``--bpp``: rate is split by frames, so every segment lands in the budget's window
and the file does too. Finished segments are kept, each as its own ``.nrv`` file with its report,
in a work folder beside the output (``OUT.parts``); the output is assembled from them only when all
are done, so an interrupted encode leaves no output, and ``--resume`` fits only what is missing.
Segments are fitted one after another, ``--workers K`` at a time in K processes, or spread over
the ranks of ``torchrun`` (:mod:`~nvcodec.pipeline.parallel`); a segment's bytes depend only on its
frames, the options and the device (on the CPU each segment is fitted on one thread), so every way
gives the same file.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nvcodec.container import read_nrv, write_nrv
from nvcodec.errors import NvcError, UsageError
from nvcodec.files import write_atomic
from nvcodec.format.segments import join_segments
from nvcodec.io import InputSpec, Span
from nvcodec.metrics import bpp
from nvcodec.pipeline.encode import encode_video
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.report import EncodeReport
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
WEIGHTED = ("psnr", "ms_ssim", "fit_psnr", "fit_ms_ssim", "prune")


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


@dataclass(frozen=True)
class WorkDir:
    """The folder of an encode's finished segments: ``OUT.parts`` beside the output ``OUT``."""

    output: Path

    @property
    def path(self) -> Path:
        """The folder."""
        return self.output.with_name(self.output.name + ".parts")

    def segment(self, k: int) -> Path:
        """Segment ``k``'s file."""
        return self.path / f"segment-{k:05d}.nrv"

    def report(self, k: int) -> Path:
        """Segment ``k``'s report (JSON)."""
        return self.path / f"segment-{k:05d}.json"

    def done(self, k: int) -> bool:
        """Whether segment ``k`` was finished (its report is written after its file)."""
        return self.report(k).is_file() and self.segment(k).is_file()

    def open(self, plan: dict[str, Any], resume: bool) -> None:
        """Create the folder for ``plan`` (what the encode is), or, with ``resume``, check that the
        one there belongs to the same encode; an unfinished one is never silently discarded."""
        stamp = self.path / "plan.json"
        if self.path.exists() and not resume:
            raise NvcError(
                f"{self.path}: holds an interrupted encode; add --resume to continue it, or remove the folder"
            )
        if resume and stamp.is_file():
            if json.loads(stamp.read_text()) != plan:
                raise NvcError(f"{self.path}: belongs to an encode with other input or options; remove it")
            return
        self.path.mkdir(exist_ok=True)
        write_atomic(stamp, lambda tmp: tmp.write_text(json.dumps(plan, sort_keys=True)))

    def save_report(self, k: int, report: EncodeReport) -> None:
        """Record segment ``k`` as finished (after its file is in place)."""
        row = report.to_json()
        write_atomic(self.report(k), lambda tmp: tmp.write_text(json.dumps(row)))

    def load_report(self, k: int) -> dict[str, Any]:
        """Segment ``k``'s report as written."""
        return json.loads(self.report(k).read_text())


def fingerprint(source: InputSpec, options: EncodeOptions, spans: list[Span]) -> dict[str, Any]:
    """What identifies an encode for ``--resume``: the input (path, size, modification time, range,
    crop, scale), every option but the device, and the segment plan."""
    stat = Path(source.path).stat() if source.path else None
    opts = {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.init and f.name != "device"}
    return json.loads(
        json.dumps(
            {
                "input": [str(source.path), stat and stat.st_size, stat and stat.st_mtime_ns],
                "range": [source.start, source.frames, source.crop, source.scale],
                "options": opts,
                "spans": spans,
            },
            default=str,
        )
    )


def segment_options(options: EncodeOptions, spans: list[Span], k: int) -> EncodeOptions:
    """The options of segment ``k``: ``--params`` (values of the whole file) split by frames; the
    rest as given (``--bpp`` holds for every segment as for the file)."""
    if options.params is None:
        return options
    total = sum(n for _, n in spans)
    return dataclasses.replace(options, params=max(1, round(options.params * spans[k][1] / total)))


def encode_one(video: Any, k: int, work: WorkDir, options: EncodeOptions) -> dict[str, Any]:
    """Fit segment ``k`` (frames ``video``) into its file in ``work``; its report as JSON. On the
    CPU the fit runs on one thread (:data:`SEGMENT_THREADS`), whichever process runs it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(SEGMENT_THREADS)
    try:
        report = encode_video(video, work.segment(k), options, Reporter())
    finally:
        torch.set_num_threads(threads)
    work.save_report(k, report)
    return work.load_report(k)


def assemble(output: Path, work: WorkDir, spans: list[Span], started: float) -> EncodeReport:
    """Write the output from the finished segments (atomically) and report on the whole video:
    sums of bytes and values, frame-weighted means of the quality figures, each measured by the
    segment's encode on its decoder's frames."""
    parts = [read_nrv(work.segment(k)) for k in range(len(spans))]
    nbytes = write_nrv(output, join_segments(parts, [first for first, _ in spans]))
    rows = [work.load_report(k) for k in range(len(spans))]
    total = sum(count for _, count in spans)
    merged = dict(rows[0])
    for key in SUMMED:
        merged[key] = sum(r[key] for r in rows)
    for key in WEIGHTED:
        values = [r[key] for r in rows]
        merged[key] = None if None in values else sum(v * n for v, (_, n) in zip(values, spans, strict=True)) / total
    merged.update(
        frames=total,
        bytes=nbytes,
        bpp=bpp(nbytes, total, rows[0]["height"], rows[0]["width"]),
        encode_seconds=time.perf_counter() - started,
        epochs=max(r["epochs"] for r in rows),
        weight_bits=max(r["weight_bits"] for r in rows),
        embed_bits=max(r["embed_bits"] for r in rows),
        segments=len(spans),
        notes=sorted({n for r in rows for n in r["notes"]}),
    )
    return EncodeReport(**merged)


def finish(output: Path, work: WorkDir, spans: list[Span], started: float) -> EncodeReport:
    """:func:`assemble`, then remove the work folder (kept if assembling fails)."""
    report = assemble(output, work, spans, started)
    shutil.rmtree(work.path, ignore_errors=True)
    return report
