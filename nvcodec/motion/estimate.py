"""Classical global-motion estimation (encoder side only; the decoder never imports OpenCV).

Each frame is aligned to the one before it: corners tracked with pyramidal Lucas–Kanade from the
frame to its predecessor are fitted by the model's map with RANSAC (and a least-squares refinement
on the corners that agree); chaining those pairwise maps sends every frame onto its shot's first
frame (its anchor). A pair that cannot be aligned (too few corners tracked or agreeing, or the
frame correlating below :data:`CUT_CORRELATION` with its predecessor read through the map) starts
a new shot: a scene cut is where alignment fails. (OpenCV's ECC refinement was tried and dropped:
on textured test clips it stopped 0.1 px off a shift the tracked corners had within 0.02 px.)
Classical estimators (phase correlation, ECC, tracked corners) took about 0.5 to 15 ms a frame pair
on the project's 2-core CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nvcodec.motion.affine import centred, compose, identity


def opencv() -> Any:
    """OpenCV, imported on first use (the decoder never needs it) and kept to one thread: its
    worker pool otherwise goes on competing with PyTorch's threads after the estimate. A ``--time
    30s`` encode of a 30-frame 144x176 clip (qcif, 0.1 bpp, 2 cores) ran 28-29 epochs after the
    camera analysis of ``--model auto`` against 34-37 for ``--model hnerv``, and 34-36 with
    OpenCV on one thread; the estimate itself takes about 0.3 s there."""
    import cv2

    cv2.setNumThreads(1)
    return cv2


MODELS = ("translation", "rotzoom", "affine")
"""Motion models, fewest parameters first: a shift; a shift, zoom and rotation; a general affine map."""
CUT_CORRELATION = 0.6
"""Correlation below which two neighbouring frames, aligned, are taken to show different scenes."""
MIN_AGREEING = 0.5
"""Share of tracked corners that must agree with the RANSAC map for the first guess to count."""
CORNERS = 300
"""Corners tracked per frame pair."""
PASSES = 2
"""Track-and-fit passes per frame pair (the second removes the bias a zoom or rotation gives the first)."""


@dataclass(frozen=True)
class Motion:
    """A clip's estimated global motion.

    Attributes:
        maps: ``[T, 2, 3]`` float64, centred coordinates (:mod:`nvcodec.motion.affine`): frame t
            onto the first frame of its shot.
        shots: the first frame of each shot (0 first).
        correlation: ``[T]``, the correlation of frame t with frame t - 1 read through their map
            (1 at the clip's first frame; a shot's first frame keeps the value that cut it).
    """

    maps: np.ndarray
    shots: tuple[int, ...]
    correlation: np.ndarray


def luma(frame: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB uint8 frame as float32 (0..255)."""
    rgb = frame.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def estimate_motion(frames: np.ndarray, model: str = "affine") -> Motion:
    """The global motion of ``frames`` (``[T, H, W, 3]`` uint8 RGB) under ``model`` (one of
    :data:`MODELS`)."""
    if model not in MODELS:
        raise ValueError(f"motion model {model!r}: choose one of {', '.join(MODELS)}")
    t, h, w = frames.shape[:3]
    maps, correlation, shots = np.empty((t, 2, 3)), np.ones(t), [0]
    maps[0] = identity()
    previous = luma(frames[0])
    for k in range(1, t):
        current = luma(frames[k])
        pair, correlation[k] = align_pair(previous, current, model)
        if pair is None or correlation[k] < CUT_CORRELATION:
            shots.append(k)
            maps[k] = identity()
        else:
            maps[k] = compose(maps[k - 1], centred(pair, h, w))
        previous = current
    return Motion(maps, tuple(shots), correlation)


def align_pair(previous: np.ndarray, current: np.ndarray, model: str) -> tuple[np.ndarray | None, float]:
    """The map (2x3, top-left pixel coordinates) from ``current``'s pixels to ``previous``'s, fitted
    to corners tracked between them, and the correlation of ``current`` with ``previous`` read
    through it (inside a margin); None (and 0) when the frames cannot be aligned."""
    cv2 = opencv()

    matrix, h, w = np.hstack([np.eye(2), np.zeros((2, 1))]), *current.shape
    for _ in range(PASSES):  # each pass tracks what is left once `previous` is read through the map so far
        aligned = cv2.warpAffine(
            previous,
            matrix.astype(np.float32),
            (w, h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )
        step = _fitted(aligned, current, model)
        if step is None:
            return None, 0.0
        matrix = compose(matrix, step)
    return matrix, correlation(previous, current, matrix)


def _fitted(previous: np.ndarray, current: np.ndarray, model: str) -> np.ndarray | None:
    """``model``'s map from ``current``'s pixels to ``previous``'s fitted (RANSAC, then least
    squares on the corners that agree) to tracked corners, or None when too few are tracked or agree."""
    cv2 = opencv()

    tracked = _tracked(previous, current)
    if tracked is None:
        return None
    source, target = tracked
    fit = cv2.estimateAffine2D if model == "affine" else cv2.estimateAffinePartial2D
    matrix, inliers = fit(source, target, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if matrix is None or inliers is None or inliers.mean() < MIN_AGREEING:
        return None
    if model == "translation":
        agreeing = inliers.reshape(-1) == 1
        shift = np.median((target - source).reshape(-1, 2)[agreeing], axis=0)
        matrix = np.hstack([np.eye(2), shift[:, None]])
    return matrix.astype(np.float64)


def _tracked(previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Corners of ``current`` and where pyramidal Lucas–Kanade finds them in ``previous``, or None
    when fewer than 8 are found."""
    cv2 = opencv()

    cur8, prev8 = np.clip(current, 0, 255).astype(np.uint8), np.clip(previous, 0, 255).astype(np.uint8)
    points = cv2.goodFeaturesToTrack(cur8, CORNERS, 0.01, 5)
    if points is None or len(points) < 8:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(cur8, prev8, points, points.copy(), winSize=(21, 21), maxLevel=3)
    found = status.reshape(-1) == 1
    return (points[found], moved[found]) if found.sum() >= 8 else None


def correlation(previous: np.ndarray, current: np.ndarray, matrix: np.ndarray) -> float:
    """Pearson correlation of ``current`` with ``previous`` read at ``matrix`` (current -> previous
    pixels), over the pixels an eighth of the frame away from its edges."""
    cv2 = opencv()

    h, w = current.shape
    warped = cv2.warpAffine(previous, matrix.astype(np.float32), (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    inner = np.s_[h // 8 : h - h // 8, w // 8 : w - w // 8]
    a, b = warped[inner].ravel().astype(np.float64), current[inner].ravel().astype(np.float64)
    if a.std() < 1e-6 or b.std() < 1e-6:
        return 1.0 if np.allclose(a, b, atol=1.0) else 0.0
    return float(np.corrcoef(a, b)[0, 1])


def rotzoom(matrix: np.ndarray) -> np.ndarray:
    """The nearest map with a linear part of the form ``[[a, -b], [b, a]]`` (zoom and rotation)."""
    a = 0.5 * (matrix[0, 0] + matrix[1, 1])
    b = 0.5 * (matrix[1, 0] - matrix[0, 1])
    return np.array([[a, -b, matrix[0, 2]], [b, a, matrix[1, 2]]])
