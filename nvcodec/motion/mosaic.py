"""A shot's mosaic and how well one still canvas can show it (encoder side only, with OpenCV).

Every frame is carried onto the canvas through its map (bilinear) and the canvas pixels average
what lands on them: the picture a still scene under the camera would leave. Reading the frames
back from it through the decoder's own reader (:func:`nvcodec.motion.canvas.read_canvas`) gives
the ceiling of a still canvas: what moves in the scene, parallax, lighting and noise are what it
cannot hold, and they lower that PSNR. The mosaics of shorter runs of frames give the ceiling of
a canvas with that many time steps.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nvcodec.motion.canvas import read_canvas, sample_points
from nvcodec.motion.estimate import opencv


def mosaic(frames: np.ndarray, maps: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """The mean of ``frames`` (T x H x W x 3 uint8) carried onto a ``canvas`` (height, width)
    through ``maps`` (``[T, 2, 3]``, frame pixel -> canvas pixel): ``canvas`` x 3 float32 in
    [0, 1] (zero where no frame lands)."""
    cv2 = opencv()

    ch, cw = canvas
    total = np.zeros((ch, cw, 3), np.float64)
    weight = np.zeros((ch, cw), np.float64)
    ones = np.ones(frames.shape[1:3], np.float32)
    for frame, m in zip(frames, maps, strict=True):
        total += cv2.warpAffine(frame.astype(np.float32) / 255.0, m, (cw, ch), flags=cv2.INTER_LINEAR)
        weight += cv2.warpAffine(ones, m, (cw, ch), flags=cv2.INTER_LINEAR)
    return (total / np.maximum(weight, 1e-6)[..., None]).astype(np.float32)


def mosaic_psnr(frames: np.ndarray, maps: np.ndarray, canvas: tuple[int, int], steps: int = 1) -> float:
    """Mean PSNR (dB, 8-bit RGB) of ``frames`` read back through ``maps`` from the mosaics of
    ``steps`` runs of consecutive frames (each run its own :func:`mosaic`): the best a canvas of
    that many time steps could do for them, near enough (the model interpolates between steps)."""
    t, h, w = frames.shape[:3]
    scores = []
    for run in np.array_split(np.arange(t), min(steps, t)):
        picture = torch.from_numpy(mosaic(frames[run], maps[run], canvas)).permute(2, 0, 1)[None]
        for i in run:
            out = read_canvas(picture, sample_points(maps[i : i + 1], h, w, canvas), h, w)
            out = (out.clamp(0, 1) * 255).round()
            mse = float(torch.mean((out[0].permute(1, 2, 0) - torch.from_numpy(frames[i]).float()) ** 2))
            scores.append(10 * math.log10(255.0**2 / max(mse, 1e-10)))
    return float(np.mean(scores))
