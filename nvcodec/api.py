"""The Python API: :func:`encode`, :func:`decode` and :func:`info` as functions, for notebooks,
sweeps and custom metrics. They run exactly what the command line runs, with the same checks;
a failure raises :class:`~nvcodec.errors.NvcError` (:class:`~nvcodec.errors.UsageError` for
options that cannot work, :class:`~nvcodec.errors.CorruptFileError` for a damaged file) with the
one-line message the command line prints, instead of exiting.

    import nvcodec
    report = nvcodec.encode("clip.mp4", "clip.nrv", bpp=0.1, time="60s")
    frames = nvcodec.decode("clip.nrv")          # uint8, T x H x W x 3 (RGB)
    nvcodec.info("clip.nrv")["videos"][0]["kmac_per_pixel"]
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from nvcodec import pipeline
from nvcodec.errors import UsageError
from nvcodec.files import check_output
from nvcodec.io import InputSpec, Video, is_raw, raw_format
from nvcodec.pipeline import EncodeOptions, EncodeReport
from nvcodec.pipeline.timing import parse_duration
from nvcodec.progress import Reporter

INPUT_OPTIONS = ("start", "frames", "crop", "scale", "size", "fps", "pix_fmt")
"""What :func:`encode` takes about its input (as ``encode``'s ``--start``, ``--frames``, ``--crop
HxW`` as a (height, width) pair, ``--scale``, and a raw file's ``--size``, ``--fps``, ``--pix-fmt``)."""


def _options(given: dict[str, Any]) -> EncodeOptions:
    """:class:`EncodeOptions` from keyword arguments named as the command line's options
    (``time`` may be a duration string such as ``"90s"``)."""
    names = {f.name for f in dataclasses.fields(EncodeOptions)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r} (the options are {', '.join(sorted(names))})")
    if isinstance(given.get("time"), str):
        given = {**given, "time": parse_duration(given["time"])}
    return EncodeOptions(**{k: v for k, v in given.items() if v is not None})


def _source(source: str | Path | np.ndarray, frame_rate: float, inputs: dict[str, Any]) -> InputSpec | Video:
    """The input of :func:`encode`: an array of frames as a video, or a path as the CLI reads it."""
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim != 4 or source.shape[-1] != 3 or 0 in source.shape:
            raise UsageError(f"frames: expected a uint8 array T x H x W x 3, not {source.dtype} {source.shape}")
        if any(v is not None for v in inputs.values()):
            raise UsageError(f"{', '.join(k for k, v in inputs.items() if v is not None)}: options of a file input")
        return Video(np.ascontiguousarray(source), Fraction(frame_rate).limit_denominator(1001), "frames")
    path, raw = Path(source), (inputs["size"], inputs["fps"], inputs["pix_fmt"])
    form = raw_format(path, *raw) if is_raw(path) else None
    if form is None and any(raw):
        raise UsageError("size, fps and pix_fmt describe a raw .yuv input; other inputs say their own")
    crop = tuple(inputs["crop"]) if inputs["crop"] is not None else None
    return InputSpec(path, inputs["start"] or 0, inputs["frames"], crop, inputs["scale"], raw=form)  # type: ignore[arg-type]


def encode(
    source: str | Path | np.ndarray,
    output: str | Path,
    *,
    overwrite: bool = False,
    frame_rate: float = 25.0,
    segment: int | None = None,
    workers: int | None = None,
    **options: Any,
) -> EncodeReport:
    """Encode ``source`` (a video file, or uint8 frames T x H x W x 3 at ``frame_rate``) into the
    ``.nrv`` file ``output`` and return the report (the command line's JSON as ``report.to_json()``).

    ``options`` are the ``encode`` command's, by their :class:`~nvcodec.pipeline.EncodeOptions`
    names (``bpp=0.1``, ``model="hinerv"``, ``time="60s"``, ``seed=1``, ...) and the input's
    (:data:`INPUT_OPTIONS`); ``segment`` and ``workers`` as ``--segment`` and ``--workers``. An
    existing ``output`` is refused unless ``overwrite``."""
    inputs = {k: options.pop(k, None) for k in INPUT_OPTIONS}
    settings = _options(options)
    out, where = Path(output), _source(source, frame_rate, inputs)
    check_output(out, [where.path] if isinstance(where, InputSpec) and where.path else [], overwrite)
    if isinstance(where, Video):
        if segment is not None or workers is not None:
            raise UsageError("segment, workers: for a file input (frames in memory are coded as one network)")
        return pipeline.encode_video(where, out, settings)
    report = pipeline.encode_source(where, out, settings, Reporter(), segment, workers)
    if report is None:  # only a torchrun rank other than 0 reports nothing
        raise UsageError("encode: this process is not the rank that reports (run the API outside torchrun)")
    return report


def decode(path: str | Path, frames: tuple[int, int] | None = None, video: int = 0, device: str = "auto") -> np.ndarray:
    """The frames ``a:b`` (all when None) of video ``video`` of the ``.nrv`` file ``path``, as the
    ``decode`` command renders them: uint8 RGB, T x H x W x 3."""
    return pipeline.decode_frames(Path(path), frames, device, video)[1]


def decode_planes(
    path: str | Path, frames: tuple[int, int] | None = None, video: int = 0, device: str = "auto"
) -> tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The source's pixel format and the Y, U, V planes (each T x h x w; uint8, or uint16 at 10
    bits) of frames ``a:b`` of video ``video``, as a ``.y4m`` decode writes them: a video coded
    with ``yuv=True`` gives its planes exactly as decoded. An error for a file that names no planar
    source format (an RGB source)."""
    return pipeline.decode_planes(Path(path), frames, device, video)


def info(path: str | Path) -> dict[str, Any]:
    """What the ``info`` command prints as JSON: format version, videos, models, sections."""
    return pipeline.file_info(Path(path))
