"""Global-motion estimation recovers known camera motion (shift, zoom, rotation) on clips made by
warping a still image, finds a cut, and its fixed-point form round-trips exactly and is range-checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nvcodec.errors import NvcError
from nvcodec.motion import dequantize_affine, estimate_motion, quantize_affine
from nvcodec.motion.affine import FIELD_LIMIT, SHIFT_BITS, centred, compose, corner_error, invert
from nvcodec.motion.canvas import pack_fields, plan_canvas, unpack_fields

H, W, FRAMES = 96, 128, 8
TOLERANCE_PX = {"translation": 0.25, "rotzoom": 0.25, "affine": 0.5}
"""Largest error allowed, by model, where a frame's corners land on the first frame (8 frames, 96x128:
measured 0.07, 0.08 and 0.34 px at most)."""


def _still(seed: int, size: tuple[int, int] = (256, 320)) -> np.ndarray:
    """A textured RGB image: smoothed noise at a few scales (every region has corners to track)."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.zeros((*size, 3), np.float32)
    for scale in (4, 16, 48):
        noise = rng.normal(size=(size[0] // scale + 2, size[1] // scale + 2, 3)).astype(np.float32)
        image += cv2.resize(noise, (size[1], size[0]), interpolation=cv2.INTER_CUBIC) * scale
    image = (image - image.min()) / (image.max() - image.min()) * 255
    return image.astype(np.uint8)


def _camera(kind: str, k: int) -> np.ndarray:
    """Frame ``k``'s map (centred coordinates) onto the still's centre: a pan, a zoom or a rotation."""
    if kind == "shift":
        return np.array([[1.0, 0, 2.3 * k], [0, 1.0, -1.1 * k]])
    if kind == "zoom":
        s = 1.02**-k  # zooming in: a frame shows a smaller part of the still
        return np.array([[s, 0, 0.5 * k], [0, s, 0.0]])
    a = math.radians(0.8 * k)
    return np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.3 * k]])


def _film(still: np.ndarray, kind: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Frames of ``still`` seen through :func:`_camera`, and each frame's true map onto frame 0."""
    import cv2

    sh, sw = still.shape[:2]
    frames, truth = [], []
    for k in range(FRAMES):
        to_still = _camera(kind, k)
        shift = to_still[:, :2] @ [-(W - 1) / 2, -(H - 1) / 2] + to_still[:, 2] + [(sw - 1) / 2, (sh - 1) / 2]
        pixels = np.concatenate([to_still[:, :2], shift[:, None]], axis=1)  # frame pixel -> still pixel
        frames.append(cv2.warpAffine(still, pixels, (W, H), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP))
        truth.append(compose(invert(_camera(kind, 0)), to_still))
    return np.stack(frames), truth


@pytest.mark.parametrize(
    ("kind", "model"), [("shift", "translation"), ("zoom", "rotzoom"), ("rotation", "rotzoom"), ("shift", "affine")]
)
def test_known_camera_motion_is_recovered(kind: str, model: str) -> None:
    frames, truth = _film(_still(1), kind)
    motion = estimate_motion(frames, model)
    assert motion.shots == (0,) and motion.correlation.min() > 0.99
    errors = [corner_error(motion.maps[k], truth[k], H, W) for k in range(FRAMES)]
    assert max(errors) < TOLERANCE_PX[model], errors


def test_a_cut_starts_a_shot() -> None:
    first, _ = _film(_still(1), "shift")
    second, _ = _film(_still(2), "shift")
    motion = estimate_motion(np.concatenate([first[:4], second[:4]]))
    assert motion.shots == (0, 4)
    assert corner_error(motion.maps[4], np.array([[1.0, 0, 0], [0, 1.0, 0]]), H, W) == 0


def test_fixed_point_maps_round_trip_and_are_range_checked() -> None:
    matrix = np.array([[1.0312, -0.0205, 17.3], [0.0191, 0.9874, -4.71]])
    fields = quantize_affine(matrix)
    assert fields.dtype == np.int32 and np.array_equal(quantize_affine(dequantize_affine(fields)), fields)
    assert corner_error(dequantize_affine(fields), matrix, 1080, 1920) < 1 / 64
    with pytest.raises(NvcError, match="out of range"):
        quantize_affine(np.array([[1.0, 0, 1e6], [0, 1.0, 0]]))
    with pytest.raises(NvcError, match="out of range"):
        dequantize_affine(np.array([0, 0, FIELD_LIMIT + 1, 0, 0, 0], np.int32))
    with pytest.raises(NvcError, match="integers"):
        dequantize_affine(np.zeros(6, np.float32))


def test_coarser_maps_sit_on_a_coarser_grid() -> None:
    matrix = np.array([[1.0312, -0.0205, 17.3], [0.0191, 0.9874, -4.71]])
    for bits in range(SHIFT_BITS + 1):
        fields = quantize_affine(matrix, bits)
        assert np.all(fields % (1 << (SHIFT_BITS - bits)) == 0)  # the file's units, on the coarser grid
        # per axis: half a translation step, and half a linear step times the corner's |x| + |y| (88 + 72 px)
        bound = math.sqrt(2) * (2.0**-bits / 2 + 160 * 2.0 ** -(bits + 10) / 2)
        assert corner_error(dequantize_affine(fields), matrix, 144, 176) <= bound
    assert np.array_equal(quantize_affine(matrix, SHIFT_BITS), quantize_affine(matrix))
    with pytest.raises(ValueError, match="0 to 6"):
        quantize_affine(matrix, SHIFT_BITS + 1)
    drift = np.stack(
        [np.array([[1.0 + 0.0013 * t, 0.0, 3.37 * t], [0.0, 1.0 + 0.0013 * t, 0.21 * t]]) for t in range(12)]
    )
    for bits in (SHIFT_BITS, 2, 0):
        plan = plan_canvas(drift, 48, 80, bits)
        assert plan is not None
        assert np.all(np.ldexp(plan[2][:, :, 2], bits) % 1 == 0)  # translations in 2^-bits px
        assert unpack_fields(pack_fields(plan[2]), 12).tolist() == plan[2].tolist()


def test_centred_and_pixel_maps_agree() -> None:
    from nvcodec.motion.affine import to_pixels

    matrix = np.array([[1.01, 0.02, 3.0], [-0.02, 0.99, -1.5]])
    assert np.allclose(centred(to_pixels(matrix, H, W), H, W), matrix)
