"""Where segments are fitted: one after another in this process, ``--workers K`` at a time in K
processes of this machine, or spread over the processes ``torchrun`` starts (``torch.distributed``:
rank r fits segments r, r + W, r + 2W, ... on its own device and sends them to rank 0, which writes
the file). PyTorch's launcher does the scheduling across processes and machines; nothing here
schedules beyond a round-robin split. See :mod:`~nvcodec.pipeline.segments` for the segments.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.distributed as dist

from nvcodec.errors import NvcError, UsageError
from nvcodec.io import InputSpec, Span, Video
from nvcodec.pipeline.encode import encode_video
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.report import EncodeReport
from nvcodec.pipeline.segments import (
    WorkDir,
    encode_one,
    fingerprint,
    finish,
    plan_segments,
    segment_length,
    segment_options,
)
from nvcodec.progress import Reporter


def launched_ranks() -> tuple[int, int, int]:
    """(rank, world size, local rank) as ``torchrun`` sets them; (0, 1, 0) otherwise."""
    env = os.environ
    return int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0))


def encode_input(
    source: InputSpec,
    output: Path,
    options: EncodeOptions,
    reporter: Reporter,
    segment: int | None = None,
    workers: int = 1,
    resume: bool = False,
) -> EncodeReport | None:
    """Encode ``source`` to ``output``: as one entry when it fits one segment, else as segments
    (see :mod:`~nvcodec.pipeline.segments`). Under ``torchrun`` only rank 0 returns the report."""
    started = time.perf_counter()
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if options.spec.progressive and (segment is not None or workers > 1 or resume):
        raise UsageError("--segment, --workers and --resume do not apply to pfnr archives (a video is one segment)")
    rank, world, local = launched_ranks()
    total = source.count() if not options.spec.progressive else 0
    spans = plan_segments(total, segment_length(total, segment)) if total else [(0, 0)]
    if len(spans) == 1:  # one network for the whole input (under torchrun: rank 0's, the others idle)
        if resume:
            raise UsageError("--resume: this input is one segment; there is nothing to resume")
        return encode_video(source.read(), output, options, reporter) if rank == 0 else None
    if options.time is not None:
        raise UsageError(f"--time: not supported for a segmented encode ({len(spans)} segments); give --epochs")
    options_of = [segment_options(options, spans, k) for k in range(len(spans))]
    work, plan = WorkDir(output), fingerprint(source, options, spans)
    if world > 1:
        return _distributed(source, work, options_of, spans, reporter, (rank, world, local), (plan, resume), started)
    work.open(plan, resume)
    reporter.start("segments", len(spans))
    reporter.advance(sum(work.done(k) for k in range(len(spans))))
    todo = [k for k in range(len(spans)) if not work.done(k)]
    if workers == 1:
        for k, video in read_spans(source, spans, todo):
            encode_one(video, k, work, options_of[k])
            reporter.advance(1, segment=k)
    else:
        _pool(source, work, options_of, spans, todo, workers, reporter)
    return finish(output, work, spans, started)


def _pool(
    source: InputSpec,
    work: WorkDir,
    options: list[EncodeOptions],
    spans: list[Span],
    todo: list[int],
    workers: int,
    reporter: Reporter,
) -> None:
    """Fit segments ``todo`` in ``workers`` processes, at most that many segments read at a time."""
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: dict[cf.Future, int] = {}
        try:
            for k, video in read_spans(source, spans, todo):
                while len(pending) >= workers:
                    _collect(pending, reporter, cf.FIRST_COMPLETED)
                pending[pool.submit(encode_one, video, k, work, options[k])] = k
            while pending:
                _collect(pending, reporter, cf.FIRST_COMPLETED)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _collect(pending: dict[cf.Future, int], reporter: Reporter, when: str) -> None:
    """Wait for finished segments, advance the bar for each; a failed one raises its error."""
    done, _ = cf.wait(pending, return_when=when)
    for future in done:
        k = pending.pop(future)
        future.result()
        reporter.advance(1, segment=k)


def _distributed(
    source: InputSpec,
    work: WorkDir,
    options: list[EncodeOptions],
    spans: list[Span],
    reporter: Reporter,
    ranks: tuple[int, int, int],
    opening: tuple[dict, bool],
    started: float,
) -> EncodeReport | None:
    """One rank of a ``torchrun`` encode: fit its share of the segments on its device, gather
    every segment's file and report to rank 0, which writes the output (``opening``: the work
    folder's plan and whether to resume it, for rank 0)."""
    rank, world, local = ranks
    if torch.cuda.is_available() and options[0].device in ("auto", "cuda"):
        torch.cuda.set_device(local)
    dist.init_process_group("gloo")
    try:
        if rank == 0:
            work.open(*opening)
        dist.barrier()
        work.path.mkdir(exist_ok=True)  # a rank on another machine without a shared folder
        mine = [k for k in range(rank, len(spans), world) if not work.done(k)]
        quiet = Reporter() if rank else reporter
        quiet.start("segments", len(range(rank, len(spans), world)))
        for k, video in _own_spans(source, spans, mine):
            encode_one(video, k, work, options[k])
            quiet.advance(1, segment=k)
        parts = {k: (work.segment(k).read_bytes(), work.report(k).read_text()) for k in range(rank, len(spans), world)}
        gathered: list[dict | None] = [None] * world if rank == 0 else []
        dist.gather_object(parts, gathered if rank == 0 else None, dst=0)
        if rank != 0:
            return None
        for share in gathered:
            for k, (data, report) in (share or {}).items():
                if not work.done(k):
                    work.segment(k).write_bytes(data)
                    work.report(k).write_text(report)
        return finish(work.output, work, spans, started)
    finally:
        dist.destroy_process_group()


def _own_spans(source: InputSpec, spans: list[Span], mine: list[int]) -> Iterator[tuple[int, Video]]:
    """The frames of segments ``mine``, read in one pass (the others decoded and dropped), one at a time."""
    wanted = set(mine)
    return ((k, video) for k, video in read_spans(source, spans, list(range(len(spans)))) if k in wanted)


def read_spans(source: InputSpec, spans: list[Span], todo: list[int]) -> Iterator[tuple[int, Video]]:
    """Segments ``todo`` with their frames, in one decoding pass; an input that ends before a
    segment is complete (fewer frames than its container declares) is an error naming the frame."""
    for k, video in zip(todo, source.spans([spans[k] for k in todo]), strict=False):
        if video.num_frames != spans[k][1]:
            raise NvcError(f"{source.path}: the input ends inside segment {k} (truncated? it declares more frames)")
        yield k, video
        todo = todo[1:]
    if todo:
        raise NvcError(f"{source.path}: the input ends before segment {todo[0]} (truncated? it declares more frames)")
