"""The encode command's flow for one input: one network for the whole input, or consecutive
segments each with its own (:mod:`~nvcodec.pipeline.segments`), fitted in turn, in worker processes
or over ``torchrun``'s ranks (:mod:`~nvcodec.pipeline.parallel`), with a work folder that
``--resume`` verifies (:mod:`~nvcodec.pipeline.workdir`)."""

from __future__ import annotations

import time
from pathlib import Path

from nvcodec.errors import UsageError
from nvcodec.io import InputSpec
from nvcodec.pipeline.encode import encode_video
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.parallel import distributed, launched_ranks, read_spans
from nvcodec.pipeline.report import EncodeReport
from nvcodec.pipeline.segments import encode_one, finish, plan_segments, reusable, segment_length, segment_options
from nvcodec.pipeline.threads import allowed_cores, free_cores
from nvcodec.pipeline.workdir import WorkDir, fingerprint
from nvcodec.pipeline.workers import run_jobs
from nvcodec.progress import Reporter


def encode_source(
    source: InputSpec,
    output: Path,
    options: EncodeOptions,
    reporter: Reporter,
    segment: int | None = None,
    workers: int | None = None,
    resume: bool = False,
) -> EncodeReport | None:
    """Encode ``source`` to ``output``: as one entry when it fits one segment, else as segments
    (see :mod:`~nvcodec.pipeline.segments`), ``workers`` at a time (None: as many as there are
    free cores, :func:`~nvcodec.pipeline.threads.free_cores`). Under ``torchrun`` only rank 0
    returns the report."""
    started = time.perf_counter()
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if options.spec.progressive and (segment is not None or (workers or 1) > 1 or resume):
        raise UsageError("--segment, --workers and --resume do not apply to pfnr archives (a video is one segment)")
    rank, world, local = launched_ranks()
    total, notes = source.survey() if not options.spec.progressive else (0, [])
    spans = plan_segments(total, segment_length(total, segment)) if total else [(0, 0)]
    if len(spans) == 1:  # one network for the whole input (under torchrun: rank 0's, the others idle)
        if resume:
            raise UsageError("--resume: this input is one segment; there is nothing to resume")
        return encode_video(source.read(), output, options, reporter) if rank == 0 else None
    if options.time is not None:
        raise UsageError(f"--time: not supported for a segmented encode ({len(spans)} segments); give --epochs")
    if options.threads is not None:
        raise UsageError(
            f"--threads: a segmented encode ({len(spans)} segments) fits each segment on one thread, "
            "for the same bytes in every mode; --workers sets how many run at once"
        )
    for note in notes:
        reporter.note(f"warning: {note}")
    options_of = [segment_options(options, spans, k) for k in range(len(spans))]
    work, plan = WorkDir(output), fingerprint(source, options, spans)
    if world > 1:
        opening = (plan, resume, notes)
        return distributed(source, work, options_of, spans, reporter, (rank, world, local), opening, started)
    work = work.open(plan, resume)
    todo, redone = reusable(work, spans, reporter)
    reporter.start("segments", len(spans))
    reporter.advance(len(spans) - len(todo))
    jobs = ((k, (video, k, spans[k], work, options_of[k])) for k, video in read_spans(source, spans, todo))
    workers = min(workers or free_cores(), max(len(todo), 1))
    if workers == 1:
        for k, args in jobs:
            encode_one(*args)
            reporter.advance(1, segment=k)
    else:

        def done(k: int) -> None:
            reporter.advance(1, segment=k)

        run_jobs(encode_one, jobs, workers, done, name="segment", threads=max(1, allowed_cores() // workers))
    return finish(output, work, spans, started, notes + redone)
