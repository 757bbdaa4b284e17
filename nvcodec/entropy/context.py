"""Code a grid (channels x time steps x height x width of integers) with the context model:
each value's Laplace mean and scale predicted, in integer arithmetic, from already-coded neighbours.

The predictor and its fixed-point units (the contract between the file and the fit) are defined
here; :mod:`nvcodec.fit.context` trains the same function in floating point with the weights
rounded to these units. Here it is evaluated in int64, which gives the same integers on every
machine, so the encoder's and the decoder's probability models are identical. The value at
``(c, t, y, x)`` is predicted from :data:`TAPS` = 12 neighbours of the same channel: the 3x3 window
around ``(y, x)`` at ``t - 1`` and the three values above it at ``t``; taps clipped to
``±TAP_CLIP``; ``h = max(0, W1 · taps + b1)`` with ``W1``, ``b1`` in units of ``2^-FRAC``;
``(m, s) = W2 · h + b2`` with ``W2`` in units of ``2^-FRAC`` and ``b2`` in ``2^-2FRAC``; the scale is
``2^(k / SCALE_STEPS)``, ``k`` the nearest integer to ``s · SCALE_STEPS / 2^(2 FRAC)`` clamped to
``SCALE_INDEX``, times the channel's multiplier.
The only floating-point values handed to the coder are the mean ``m / 2^(2 FRAC)`` (exact), the
table scale ``2^(k / SCALE_STEPS)`` (built from eight float64 literals by exact powers of two) and
its product with the channel's multiplier (one IEEE multiplication).

Values are coded row by row: time step ``t`` outer, row ``y`` inner, and within a row every channel,
then every column. The decoder predicts a whole row from the rows before it, then decodes it.

Payload: ``svarint lo | uvarint (hi - lo) | blob (ANS words)``; constriction's ``QuantizedLaplace``
over ``[lo, hi]`` with one mean and one scale per value (an empty blob when ``lo == hi``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import constriction
import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.entropy.coder import SpanError

TAPS = 12
"""Neighbours a value is predicted from: 9 in the previous time step, 3 in the row above."""
HIDDEN = 8
"""Width of the predictor's hidden layer."""
FRAC = 8
"""Fractional bits of the fixed-point weights."""
TAP_CLIP = 1023
"""Taps are clipped to this magnitude before the predictor sees them."""
SCALE_STEPS = 8
"""Scale indices per octave."""
SCALE_INDEX = (-40, 120)
"""Smallest and largest scale index (scales 2^-5 .. 2^15 before the channel multiplier)."""
MIN_SCALE = 0.05
"""Smallest scale used for coding (as :mod:`nvcodec.entropy.laplace`)."""
WEIGHT_LIMIT = 1 << 20
"""Largest magnitude of a fixed-point weight the format accepts."""


@dataclass(frozen=True)
class ContextNet:
    """The predictor's fixed-point weights (int64): ``w1`` HIDDEN x TAPS, ``b1`` HIDDEN,
    ``w2`` 2 x HIDDEN, ``b2`` 2 (units in the module docstring)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def values(self) -> np.ndarray:
        """Every weight, flattened in the stored order (w1, b1, w2, b2)."""
        return np.concatenate([self.w1.ravel(), self.b1, self.w2.ravel(), self.b2]).astype(np.int64)

    @classmethod
    def from_values(cls, values: np.ndarray, hidden: int) -> ContextNet:
        """The inverse of :meth:`values` for a hidden width."""
        v = np.asarray(values, dtype=np.int64)
        sizes = np.cumsum([hidden * TAPS, hidden, 2 * hidden, 2])
        if len(v) != sizes[-1]:
            raise ValueError(f"a context net of width {hidden} has {sizes[-1]} weights, not {len(v)}")
        w1, b1, w2, b2 = np.split(v, sizes[:-1])
        return cls(w1.reshape(hidden, TAPS), b1, w2.reshape(2, hidden), b2)


MAX_SPAN = 1 << 16
_SHIFT = 2 * FRAC
assert SCALE_STEPS == 8, "the table below holds eighth-octave roots"
_ROOTS = tuple(
    float.fromhex(h)
    for h in (
        "0x1.0000000000000p+0",
        "0x1.172b83c7d517bp+0",
        "0x1.306fe0a31b715p+0",
        "0x1.4bfdad5362a27p+0",
        "0x1.6a09e667f3bcdp+0",
        "0x1.8ace5422aa0dbp+0",
        "0x1.ae89f995ad3adp+0",
        "0x1.d5818dcfba487p+0",
    )
)
"""2^(i/8), i = 0..7, as exact float64 literals: the scale table is the same on every machine."""
_TABLE = np.array(
    [math.ldexp(_ROOTS[k % SCALE_STEPS], k // SCALE_STEPS) for k in range(SCALE_INDEX[0], SCALE_INDEX[1] + 1)]
)


def all_taps(volume: np.ndarray) -> np.ndarray:
    """The causal neighbours of every value of ``volume`` (C x T x H x W, int64): C x T x H x W x TAPS."""
    _, t, h, w = volume.shape
    p = np.pad(volume, ((0, 0), (1, 0), (1, 1), (1, 1)))
    taps = [p[:, :t, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    taps += [p[:, 1:, 0:h, dx : dx + w] for dx in range(3)]
    return np.stack(taps, axis=-1)


def row_taps(volume: np.ndarray, t: int, y: int) -> np.ndarray:
    """The causal neighbours of row ``(t, y)`` of ``volume`` (only earlier rows are read): C x W x TAPS."""
    c, _, h, w = volume.shape
    prev = np.zeros((c, 3, w + 2), dtype=np.int64)
    if t > 0:
        lo, hi = max(y - 1, 0), min(y + 2, h)
        prev[:, lo - y + 1 : hi - y + 1, 1:-1] = volume[:, t - 1, lo:hi]
    above = np.zeros((c, w + 2), dtype=np.int64)
    if y > 0:
        above[:, 1:-1] = volume[:, t, y - 1]
    taps = [prev[:, dy, dx : dx + w] for dy in range(3) for dx in range(3)]
    taps += [above[:, dx : dx + w] for dx in range(3)]
    return np.stack(taps, axis=-1)


def predict(net: ContextNet, taps: np.ndarray, multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means and scales (float64) for neighbours ``taps`` (C x ... x TAPS) of channels with scale
    ``multipliers`` (C,), in integer arithmetic."""
    x = np.clip(taps, -TAP_CLIP, TAP_CLIP).astype(np.int64)
    h = np.maximum(x @ net.w1.T + net.b1, 0)
    out = h @ net.w2.T + net.b2
    mean = out[..., 0].astype(np.float64) / float(1 << _SHIFT)
    half = 1 << (_SHIFT - 1)
    index = np.clip((out[..., 1] * SCALE_STEPS + half) >> _SHIFT, *SCALE_INDEX)
    mult = np.asarray(multipliers, dtype=np.float64).reshape(-1, *([1] * (taps.ndim - 2)))
    scale = np.maximum(_TABLE[index - SCALE_INDEX[0]] * mult, MIN_SCALE)
    return mean, scale


def _order(a: np.ndarray) -> np.ndarray:
    """Per-value arrays (C x T x H x W) flattened in coding order (t, y, channel, x)."""
    return np.ascontiguousarray(a.transpose(1, 2, 0, 3)).ravel()


def _check(volume: np.ndarray, net: ContextNet, multipliers: np.ndarray) -> None:
    if volume.ndim != 4 or len(multipliers) != volume.shape[0] or net.w1.shape[1] != TAPS:
        raise ValueError("a context-coded grid is C x T x H x W with one multiplier per channel")


def encode_context(volume: np.ndarray, net: ContextNet, multipliers: np.ndarray) -> bytes:
    """The payload of ``volume`` (C x T x H x W integers) under ``net`` and the channel multipliers."""
    volume = np.asarray(volume, dtype=np.int64)
    _check(volume, net, multipliers)
    lo = int(volume.min()) if volume.size else 0
    hi = int(volume.max()) if volume.size else 0
    if hi - lo + 1 > MAX_SPAN:
        raise SpanError(f"symbol span {hi - lo + 1} exceeds {MAX_SPAN}")
    w = ByteWriter()
    w.svarint(lo)
    w.uvarint(hi - lo)
    coder = constriction.stream.stack.AnsCoder()
    if hi > lo:
        mean, scale = predict(net, all_taps(volume), multipliers)
        model = constriction.stream.model.QuantizedLaplace(lo, hi)
        coder.encode_reverse(_order(volume).astype(np.int32), model, _order(mean), _order(scale))
    w.blob(coder.get_compressed().astype("<u4").tobytes())
    return w.getvalue()


def decode_context(r: ByteReader, shape: tuple[int, ...], net: ContextNet, multipliers: np.ndarray) -> np.ndarray:
    """Read a grid of ``shape`` (C x T x H x W) written by :func:`encode_context`."""
    lo = r.svarint(1 << 40)
    span = r.uvarint(MAX_SPAN - 1) + 1
    payload = r.blob()
    if len(payload) % 4:
        raise ReadError("entropy payload is not a whole number of 32-bit words")
    volume = np.full(shape, lo, dtype=np.int64)
    if volume.size == 0 or span == 1:
        return volume
    _check(volume, net, multipliers)
    coder = constriction.stream.stack.AnsCoder(np.frombuffer(payload, dtype="<u4").astype(np.uint32))
    model = constriction.stream.model.QuantizedLaplace(lo, lo + span - 1)
    c, t_steps, h, w = shape
    try:
        for t in range(t_steps):
            for y in range(h):
                mean, scale = predict(net, row_taps(volume, t, y), multipliers)
                volume[:, t, y] = coder.decode(model, mean.ravel(), scale.ravel()).reshape(c, w)
    except Exception as exc:  # constriction raises plain exceptions on a broken stream
        raise ReadError(f"entropy payload does not decode: {exc}") from None
    return volume


def context_bits(volume: np.ndarray, net: ContextNet, multipliers: np.ndarray) -> float:
    """Ideal code length in bits of ``volume`` under the context model."""
    volume = np.asarray(volume, dtype=np.int64)
    mean, b = predict(net, all_taps(volume), multipliers)
    d = np.abs(volume - mean)
    inner = 1 - 0.5 * (np.exp(-np.maximum(0.5 - d, 0) / b) + np.exp(-(0.5 + d) / b))
    tail = 0.5 * np.exp(-np.maximum(d - 0.5, 0) / b) * (1 - np.exp(-1 / b))
    return float(-np.log2(np.maximum(np.where(d < 0.5, inner, tail), 1e-300)).sum())
