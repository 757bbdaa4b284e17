"""The one door for input: a path (or the sample clip) -> frames start .. start + N -> centre crop
-> integer box-downscale. The CLI, the bench and the benchmark scripts all come in through here."""

from __future__ import annotations

from pathlib import Path

from nvcodec.errors import UsageError
from nvcodec.io.raw import RawFormat
from nvcodec.io.sample import SAMPLE_CROP, load_sample
from nvcodec.io.video import Video, crop_and_downscale, read_video

SAMPLE_CPU_SCALE = 4
"""The sample's default downscale on the CPU (640x1280 -> 160x320); 1 on a GPU."""
MAX_SCALE = 64


def sample_scale(scale: int | None, on_gpu: bool) -> int:
    """The sample's downscale factor: ``scale`` if given, else 1 on a GPU and ``SAMPLE_CPU_SCALE`` on the CPU."""
    if scale is not None:
        return scale
    return 1 if on_gpu else SAMPLE_CPU_SCALE


def prepare_video(
    path: Path | str | None,
    start: int = 0,
    frames: int | None = None,
    crop: tuple[int, int] | None = None,
    scale: int | None = None,
    on_gpu: bool = False,
    name: str | None = None,
    raw: RawFormat | None = None,
) -> Video:
    """Frames ``start .. start + frames`` of the video at ``path`` (the sample clip when None),
    centre-cropped to ``crop`` (height, width) and box-downscaled by ``scale``.

    ``scale`` None means 1, except for the sample (see :func:`sample_scale`), whose crop defaults
    to ``SAMPLE_CROP``. ``Video.prepared`` says what was done, ``Video.notes`` what looked wrong;
    ``name`` is what messages call the input (default: its path); ``raw`` the format of a raw
    file. Cropped or scaled frames keep the source's pixel format but not its planes.
    """
    if scale is not None and not 1 <= scale <= MAX_SCALE:
        raise UsageError(f"--scale {scale}: must be an integer in 1..{MAX_SCALE}")
    if crop is not None and min(crop) < 1:
        raise UsageError(f"--crop {crop[0]}x{crop[1]}: both sides must be positive")
    if start < 0 or (frames is not None and frames < 1):
        raise UsageError(f"--start {start} --frames {frames}: the start must be >= 0 and the count >= 1")
    if path is None:
        return load_sample(crop or SAMPLE_CROP, sample_scale(scale, on_gpu), frames, start)
    video = read_video(path, start=start, frames=frames, name=name, raw=raw)
    video.frames, video.prepared = crop_and_downscale(video.frames, crop, scale or 1)
    if video.prepared:
        video.planes = None
    return video
