"""Per-frame affine maps and their fixed-point form, shared by the encoder and the decoder.

Coordinates are pixels with the origin at the frame's centre (``x - (W - 1) / 2``,
``y - (H - 1) / 2``, x to the right, y down), so that the linear part of a map is a zoom and a
rotation about the centre and a rounding error in it moves the frame's edges by at most half the
frame size times that error. A map ``A`` (2x3, float64) sends a point of frame t to the point of
its shot's anchor frame that shows the same scene point: ``anchor = A[:, :2] @ p + A[:, 2]``.

The file carries six integers per frame (:func:`quantize_affine`): the translation in
``1 / 2**SHIFT_BITS`` px and the linear part minus the identity in ``2**-LINEAR_BITS`` steps,
each within ``±FIELD_LIMIT``. :func:`dequantize_affine` turns them back into the same floats on
every machine (power-of-two scaling of small integers is exact in float64 and float32).
"""

from __future__ import annotations

import numpy as np

from nvcodec.errors import NvcError

SHIFT_BITS = 6
"""Translation step: 1/64 px (AV1 and Cool-chic's motion precision)."""
LINEAR_BITS = 16
"""Linear-part step: 2**-16, which moves the corner of a 1920-px-wide frame by under 1/64 px."""
FIELD_LIMIT = 1 << 20
"""Largest magnitude of a field: ±16384 px of translation, linear terms within ±16 of the identity's."""
FIELDS = ("tx", "ty", "a00", "a01", "a10", "a11")
"""The six fields in file order: translation, then the linear part minus the identity, row by row."""


def identity() -> np.ndarray:
    """The map of a frame onto itself."""
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def quantize_affine(matrix: np.ndarray, bits: int = SHIFT_BITS) -> np.ndarray:
    """The six int32 fields nearest to ``matrix`` (2x3) on a grid ``2 ** (SHIFT_BITS - bits)``
    times the file's steps (``bits`` fractional bits of translation, 0 to :data:`SHIFT_BITS`; the
    linear part's step coarsened alike); :class:`NvcError` when one is out of range."""
    if not 0 <= bits <= SHIFT_BITS:
        raise ValueError(f"motion precision of {bits} bits: use 0 to {SHIFT_BITS}")
    linear = (np.asarray(matrix, dtype=np.float64)[:, :2] - np.eye(2)).reshape(-1)
    shift = np.asarray(matrix, dtype=np.float64)[:, 2]
    coarse = SHIFT_BITS - bits
    fields = np.concatenate([np.rint(np.ldexp(shift, bits)), np.rint(np.ldexp(linear, LINEAR_BITS - coarse))])
    fields = np.ldexp(fields, coarse)
    if not np.all(np.isfinite(fields)) or np.abs(fields).max() > FIELD_LIMIT:
        raise NvcError(f"a motion field is out of range (at most {FIELD_LIMIT} steps): {fields.tolist()}")
    return fields.astype(np.int32)


def check_fields(fields: np.ndarray) -> None:
    """:class:`NvcError` unless ``fields`` is ``[..., 6]`` integers within ``±FIELD_LIMIT``."""
    fields = np.asarray(fields)
    if fields.shape[-1:] != (len(FIELDS),) or not np.issubdtype(fields.dtype, np.integer):
        raise NvcError(f"motion fields must be integers, {len(FIELDS)} per frame; got {fields.dtype} {fields.shape}")
    if fields.size and np.abs(fields.astype(np.int64)).max() > FIELD_LIMIT:
        raise NvcError(f"a motion field is out of range (at most {FIELD_LIMIT} steps)")


def dequantize_affine(fields: np.ndarray) -> np.ndarray:
    """The 2x3 map of six checked fields (``[..., 6]`` gives ``[..., 2, 3]``), exactly."""
    check_fields(fields)
    values = np.asarray(fields, dtype=np.float64)
    shift = np.ldexp(values[..., :2], -SHIFT_BITS)
    linear = np.ldexp(values[..., 2:], -LINEAR_BITS).reshape(*values.shape[:-1], 2, 2) + np.eye(2)
    return np.concatenate([linear, shift[..., :, None]], axis=-1)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The map ``outer(inner(p))`` of two 2x3 maps."""
    linear = outer[:, :2] @ inner[:, :2]
    return np.concatenate([linear, (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]], axis=1)


def invert(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a 2x3 map (its linear part must be invertible)."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([linear, (-linear @ matrix[:, 2])[:, None]], axis=1)


def centred(matrix_px: np.ndarray, height: int, width: int) -> np.ndarray:
    """A map between pixel coordinates with the origin at the top-left pixel (OpenCV's), both
    frames ``height`` x ``width``, expressed in centred coordinates."""
    c = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    shift = matrix_px[:, :2] @ c + matrix_px[:, 2] - c
    return np.concatenate([matrix_px[:, :2], shift[:, None]], axis=1)


def to_pixels(matrix: np.ndarray, height: int, width: int) -> np.ndarray:
    """The inverse of :func:`centred`: a centred map in top-left pixel coordinates."""
    c = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    shift = matrix[:, 2] + c - matrix[:, :2] @ c
    return np.concatenate([matrix[:, :2], shift[:, None]], axis=1)


def corner_error(a: np.ndarray, b: np.ndarray, height: int, width: int) -> float:
    """Largest distance in px between where two centred maps send the frame's four corners."""
    hx, hy = (width - 1) / 2.0, (height - 1) / 2.0
    corners = np.array([[-hx, -hy], [hx, -hy], [-hx, hy], [hx, hy]])
    pa = corners @ a[:, :2].T + a[:, 2]
    pb = corners @ b[:, :2].T + b[:, 2]
    return float(np.linalg.norm(pa - pb, axis=1).max())
