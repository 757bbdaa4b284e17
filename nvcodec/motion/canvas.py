"""A shot's canvas: the picture a motion-compensated model renders once per frame index, larger than
the frame, from which each frame is read through its own map (decoder side; no OpenCV).

The maps here send a frame's pixel (x, y), origin at its top-left pixel, to the canvas's pixel
coordinates, origin at the canvas's top-left pixel: ``canvas = A[:, :2] @ (x, y) + A[:, 2]``.
:func:`plan_canvas` makes them from the estimator's maps (frame t onto its shot's anchor, centred
coordinates, :mod:`nvcodec.motion.affine`): the canvas is drawn at the scale of the most zoomed-in
frame (no frame reads it below one canvas pixel per frame pixel) and is the bounding box of every
frame's footprint plus :data:`MARGIN` pixels, its pixels on the anchor frame's own (a camera that
moves by whole pixels reads canvas pixels exactly).

In the file (a model's ``motion`` config field) the maps are the fixed-point fields of
:func:`~nvcodec.motion.affine.quantize_affine`, six per frame, as second differences along time
(:func:`pack_fields`): a steady pan or zoom costs about a byte per field and frame.
:func:`unpack_fields` checks every value on the way back; :func:`sample_grid` turns maps into the
sampling points that training and decoding share (:func:`sample_points`, coordinates rounded to
``1 / 2**SHIFT_BITS`` px in float64) and reads the canvas there (:func:`read_canvas`, bilinear).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nvcodec.motion.affine import FIELD_LIMIT, FIELDS, SHIFT_BITS, compose, dequantize_affine, quantize_affine

MARGIN = 2
"""Canvas pixels beyond the frames' footprints on every side (room for the bilinear filter)."""
MAX_CANVAS_AREA = 4.0
"""Largest canvas area as a multiple of the frame's: beyond it the motion is not worth a canvas."""
DIFF_LIMIT = 4 * FIELD_LIMIT
"""Largest magnitude of a stored second difference (of fields within ``±FIELD_LIMIT``)."""


def plan_canvas(
    maps: np.ndarray, height: int, width: int, bits: int = SHIFT_BITS
) -> tuple[int, int, np.ndarray] | None:
    """Canvas height, width and the fixed-point-exact ``[T, 2, 3]`` maps (frame pixel -> canvas
    pixel, translations in steps of ``2 ** -bits`` px: :func:`quantize_affine`) for frames
    ``height`` x ``width`` moving by ``maps`` (frame t onto the anchor, centred); None when the
    canvas would exceed :data:`MAX_CANVAS_AREA` times the frame."""
    scales = np.sqrt(np.abs(np.linalg.det(maps[:, :, :2])))
    zoom = 1.0 / float(scales.min())  # anchor px -> canvas px: the finest frame at one to one
    centre = np.array([[1.0, 0.0, -(width - 1) / 2.0], [0.0, 1.0, -(height - 1) / 2.0]])
    onto = np.stack([compose(np.hstack([zoom * np.eye(2), np.zeros((2, 1))]), compose(m, centre)) for m in maps])
    corners = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [-0.5, height - 0.5], [width - 0.5, height - 0.5]])
    seen = np.concatenate([corners @ m[:, :2].T + m[:, 2] for m in onto])
    origin = zoom * np.array([(width - 1) / 2.0, (height - 1) / 2.0])  # the anchor's pixel grid, centred
    low = np.floor(seen.min(axis=0) + origin) - origin - MARGIN  # canvas pixels on the anchor's at one to one
    size = np.ceil(seen.max(axis=0) - low) + MARGIN
    canvas_w, canvas_h = int(size[0]), int(size[1])
    if canvas_w * canvas_h > MAX_CANVAS_AREA * height * width:
        return None
    onto[:, :, 2] -= low
    exact = dequantize_affine(np.stack([quantize_affine(m, bits) for m in onto]))
    return canvas_h, canvas_w, exact


def pack_fields(maps: np.ndarray) -> tuple[int, ...]:
    """The ``motion`` field of ``[T, 2, 3]`` maps: their fixed-point fields as second differences
    along time, frame by frame."""
    fields = np.stack([quantize_affine(m) for m in maps]).astype(np.int64)
    first = np.diff(fields, axis=0, prepend=0)
    return tuple(int(v) for v in np.diff(first, axis=0, prepend=0).reshape(-1))


def unpack_fields(motion: tuple[int, ...], frames: int) -> np.ndarray:
    """The ``[frames, 2, 3]`` maps of a ``motion`` field; :class:`ValueError` when it holds other
    than six values a frame, or a difference or a field out of range."""
    if len(motion) != len(FIELDS) * frames:
        raise ValueError(f"motion holds {len(motion)} values, not {len(FIELDS)} for each of {frames} frames")
    diffs = np.asarray(motion, dtype=np.int64).reshape(frames, len(FIELDS))
    if diffs.size and np.abs(diffs).max() > DIFF_LIMIT:
        raise ValueError(f"a motion difference is out of range (at most {DIFF_LIMIT})")
    fields = np.cumsum(np.cumsum(diffs, axis=0), axis=0)
    if fields.size and np.abs(fields).max() > FIELD_LIMIT:
        raise ValueError(f"a motion field is out of range (at most {FIELD_LIMIT} steps)")
    return dequantize_affine(fields)


def motion_bytes(motion: tuple[int, ...]) -> int:
    """Bytes the ``motion`` field's values take in the file (zig-zag LEB128, one per value at least)."""
    return sum(max(1, math.ceil((2 * abs(v) + (v < 0)).bit_length() / 7)) for v in motion)


def sample_points(maps: np.ndarray, height: int, width: int, canvas: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """Where frames of ``height`` x ``width`` read a canvas of ``canvas`` (height, width) pixels
    through ``maps`` (``[N, 2, 3]``): canvas coordinates in float64, rounded to
    ``1 / 2**SHIFT_BITS`` px and clamped to the canvas (its border pixels repeat outside it), as
    the flat indices of the four neighbours (``[N, H * W]`` each: top-left, top-right,
    bottom-left, bottom-right) and the horizontal and vertical weights of the right and lower
    ones (``[N, 1, H * W]``, exact multiples of the step)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.stack([xs, ys, np.ones_like(xs)], axis=-1).reshape(-1, 3)  # H*W x 3
    where = np.einsum("pk,nck->ncp", points, maps)  # N x 2 x H*W: canvas x, y
    where = np.ldexp(np.rint(np.ldexp(where, SHIFT_BITS)), -SHIFT_BITS)
    ch, cw = canvas
    x = np.clip(where[:, 0], 0, cw - 1)
    y = np.clip(where[:, 1], 0, ch - 1)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, cw - 1), np.minimum(y0 + 1, ch - 1)
    index = [torch.from_numpy(r * cw + c) for r, c in ((y0, x0), (y0, x1), (y1, x0), (y1, x1))]
    weights = [torch.from_numpy(f - np.floor(f)).float()[:, None] for f in (x, y)]
    return (*index, *weights)


def frame_points(
    maps: np.ndarray, index: torch.Tensor, height: int, width: int, canvas: tuple[int, int]
) -> tuple[torch.Tensor, ...]:
    """:func:`sample_points` of frames ``index`` (their rows of ``maps``); on PyTorch's ``meta``
    device (sizing counts operations, shapes only) any frames' points, on that device."""
    if index.device.type == "meta":
        rows = np.arange(index.shape[0]) % len(maps)
        return tuple(p.to("meta") for p in sample_points(maps[rows], height, width, canvas))
    return sample_points(maps[index.detach().cpu().numpy()], height, width, canvas)


def read_canvas(canvas: torch.Tensor, points: tuple[torch.Tensor, ...], height: int, width: int) -> torch.Tensor:
    """Frames (``[N, C, height, width]``) read from ``canvas`` (``[N, C, Hc, Wc]``) at ``points``
    (:func:`sample_points`), bilinearly: a point on a canvas pixel gives that pixel exactly."""
    n, c = canvas.shape[:2]
    flat = canvas.reshape(n, c, -1)
    i00, i01, i10, i11, wx, wy = (p.to(canvas.device) for p in points)
    wx, wy = wx.to(canvas.dtype), wy.to(canvas.dtype)
    at = lambda i: flat.gather(2, i[:, None, :].expand(n, c, -1))  # noqa: E731
    top = (1 - wx) * at(i00) + wx * at(i01)
    bottom = (1 - wx) * at(i10) + wx * at(i11)
    return ((1 - wy) * top + wy * bottom).reshape(n, c, height, width)


def read_window(
    points: tuple[torch.Tensor, ...], canvas: tuple[int, int], margin: int = 0
) -> tuple[tuple[int, int, int, int], tuple[torch.Tensor, ...]]:
    """The part of a ``canvas`` (height, width) that :func:`read_canvas` reads at ``points``, as
    rows ``r0:r1`` and columns ``c0:c1`` widened by ``margin`` pixels (within the canvas), and the
    points re-indexed into that window: reading the window there gives the same frames as reading
    the whole canvas. A fit renders only the window of each step's frames."""
    ch, cw = canvas
    rows = [p // cw for p in points[:4]]
    cols = [p - r * cw for p, r in zip(points[:4], rows, strict=True)]
    # the top-left neighbours hold the least row and column, the bottom-right ones the greatest
    r0, r1 = max(int(rows[0].min()) - margin, 0), min(int(rows[3].max()) + 1 + margin, ch)
    c0, c1 = max(int(cols[0].min()) - margin, 0), min(int(cols[3].max()) + 1 + margin, cw)
    width = c1 - c0
    moved = tuple((r - r0) * width + (c - c0) for r, c in zip(rows, cols, strict=True))
    return (r0, r1, c0, c1), (*moved, *points[4:])
