"""Encoding one video into one ``.nrv`` file: the dispatcher. The model is sized for the budget
once (:mod:`~nvcodec.pipeline.sizing`), then fitted and written by one of three paths: the
rate–distortion fit (:mod:`~nvcodec.pipeline.rd`, the default), post-training compression
(:mod:`~nvcodec.pipeline.post`, ``--no-rd``) or a progressive archive
(:mod:`~nvcodec.pipeline.progressive`, ``pfnr``); the report is measured on the frames the
decoder renders from the file just written.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from nvcodec.errors import NvcError
from nvcodec.io import Video
from nvcodec.io.raw import planes_to_rgb
from nvcodec.models import kmac_per_pixel
from nvcodec.pipeline.camera import choose_model
from nvcodec.pipeline.decode import load_entries, native_format, render_entry, render_entry_planes
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.planes import pixels_of
from nvcodec.pipeline.post import encode_post
from nvcodec.pipeline.progressive import encode_archive
from nvcodec.pipeline.rd import encode_rd
from nvcodec.pipeline.report import EncodeReport, EncodeStats, measured_report
from nvcodec.pipeline.sizing import size_video
from nvcodec.pipeline.threads import fit_threads
from nvcodec.progress import Reporter


def encode_video(video: Video, output: Path, options: EncodeOptions, reporter: Reporter | None = None) -> EncodeReport:
    """Size, fit, compress and write ``video`` to ``output``, fitting on ``options.threads`` CPU
    threads (or as many as are free, :func:`~nvcodec.pipeline.threads.fit_threads`); report what
    the decoder reconstructs, rendered at the process's own thread count as ``decode`` renders it.
    A progressive model starts an archive with ``video`` as its video 0."""
    started = time.perf_counter()
    reporter = reporter or Reporter()
    pixels_of(video, options)  # --yuv without planes to fit: refused before any work
    options, chosen = choose_model(video, options)
    sizing = size_video(video, options)
    sizing = dataclasses.replace(sizing, notes=(*chosen, *sizing.notes))
    options = options.for_video(video.num_frames, video.height, video.width, sizing.config)
    with fit_threads(options.threads) as threads:
        if options.spec.progressive:
            report = encode_archive(video, output, options, reporter, sizing)
            report.threads = threads
            return report
        if options.uses_rd:
            stats, bits_per_value = encode_rd(video, output, options, reporter, sizing, started)
            stats.notes.append(f"rate–distortion fit: {bits_per_value:.2f} bits of file per transmitted value")
        else:
            stats = encode_post(video, output, options, reporter, sizing, started)
    report = _report(video, output, resolve_device(options.device), stats)
    report.threads = threads
    return report


def _report(video: Video, output: Path, device: torch.device, stats: EncodeStats) -> EncodeReport:
    """The report, measured on the frames the decoder renders from the file just written (a file
    the reader refuses is removed: an encode leaves a good file or none)."""
    try:
        entry = load_entries(output)[0]
    except NvcError:
        output.unlink(missing_ok=True)
        raise
    every, native, planes = list(range(entry.meta.frames)), native_format(entry), None
    if native is not None:
        made = list(render_entry_planes(entry, every, device))
        planes = tuple(np.stack([p[k] for p in made]) for k in range(3))
        rec = np.stack([planes_to_rgb(p, native) for p in made])
    else:
        rec = np.stack(list(render_entry(entry, every, device)))
    count = entry.spec.transmitted_count(entry.config)
    kmac = kmac_per_pixel(entry.spec, entry.config, entry.meta.height, entry.meta.width)
    return measured_report(
        video, rec, entry.spec.name, count, device, stats, planes, kmac_per_pixel=kmac, coding=native or "rgb"
    )
