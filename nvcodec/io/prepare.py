"""The one door for input: a path (or the sample clip) -> frames start .. start + N -> centre crop
-> integer box-downscale. The CLI, the bench and the benchmark scripts all come in through here."""

from __future__ import annotations

from pathlib import Path

from nvcodec.errors import NvcError
from nvcodec.io.sample import load_sample
from nvcodec.io.video import Video, area_downscale, center_crop, read_video

SAMPLE_CROP = (640, 1280)
"""The sample's centre crop (Bunny 1280x720 -> 640x1280, HNeRV's setting) unless one is given."""
SAMPLE_CPU_SCALE = 4
"""The sample's default downscale on the CPU (640x1280 -> 160x320); 1 on a GPU."""


def prepare_video(
    path: Path | str | None,
    start: int = 0,
    frames: int | None = None,
    crop: tuple[int, int] | None = None,
    scale: int | None = None,
    on_gpu: bool = False,
) -> Video:
    """Frames ``start .. start + frames`` of the video at ``path`` (the sample clip when None),
    centre-cropped to ``crop`` (height, width) and box-downscaled by ``scale``.

    ``scale`` None means 1, except for the sample on the CPU, which defaults to ``SAMPLE_CPU_SCALE``
    (and the sample's crop to ``SAMPLE_CROP``). ``Video.prepared`` says what was done.
    """
    if scale is not None and scale < 1:
        raise NvcError(f"--scale {scale}: must be a positive integer")
    if crop is not None and min(crop) < 1:
        raise NvcError(f"--crop {crop[0]}x{crop[1]}: both sides must be positive")
    if path is None:
        size = crop or SAMPLE_CROP
        factor = scale if scale is not None else (1 if on_gpu else SAMPLE_CPU_SCALE)
        video = load_sample(size, factor, frames, start)
        video.prepared = f"centre crop {size[0]}x{size[1]}, downscaled x{factor}"
        return video
    video = read_video(path, start=start, frames=frames)
    steps = []
    if crop is not None:
        video.frames = center_crop(video.frames, *crop)
        steps.append(f"centre crop {crop[0]}x{crop[1]}")
    if scale is not None and scale > 1:
        video.frames = area_downscale(video.frames, scale)
        steps.append(f"downscaled x{scale}")
    video.prepared = ", ".join(steps)
    return video
