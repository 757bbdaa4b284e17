"""Code integer symbols in slices, each slice with a zero-mean discretized Laplace of its own scale.

This is the entropy model the rate–distortion fit trains against: the fit's rate term is the
same probability, ``P(q) = F(q + 1/2) - F(q - 1/2)`` with ``F`` the Laplace CDF of scale ``b``, so
the bits it estimates are the bits written. The scales travel with the data (the caller stores
them); here they arrive as float32 values that encoder and decoder share exactly.

Payload: ``svarint lo | uvarint (hi - lo) | blob (ANS words)``; constriction's
``QuantizedLaplace`` over ``[lo, hi]`` with one scale per symbol (an empty blob when ``lo == hi``).
"""

from __future__ import annotations

import constriction
import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.entropy.coder import SpanError

MAX_SPAN = 1 << 16
MIN_SCALE = 0.05
"""Smallest scale: a slice of zeros then costs about 2e-9 bits a symbol, and the CDF stays finite."""


def _per_symbol(scales: np.ndarray, per_slice: int) -> np.ndarray:
    return np.repeat(np.asarray(scales, dtype=np.float64), per_slice)


def encode_laplace(symbols: np.ndarray, scales: np.ndarray) -> bytes:
    """Code ``symbols`` (slices x n, integers) with one Laplace scale per slice (float32, >= MIN_SCALE)."""
    symbols = np.asarray(symbols, dtype=np.int64)
    if symbols.ndim != 2 or symbols.shape[0] != len(scales):
        raise ValueError("symbols must be slices x n with one scale per slice")
    if np.any(~np.isfinite(scales)) or np.any(np.asarray(scales) < MIN_SCALE):
        raise ValueError(f"scales must be finite and at least {MIN_SCALE}")
    w = ByteWriter()
    lo = int(symbols.min()) if symbols.size else 0
    hi = int(symbols.max()) if symbols.size else 0
    if hi - lo + 1 > MAX_SPAN:
        raise SpanError(f"symbol span {hi - lo + 1} exceeds {MAX_SPAN}")
    w.svarint(lo)
    w.uvarint(hi - lo)
    coder = constriction.stream.stack.AnsCoder()
    if symbols.size and hi > lo:  # one value only: nothing to code
        model = constriction.stream.model.QuantizedLaplace(lo, hi)
        means = np.zeros(symbols.size, dtype=np.float64)
        coder.encode_reverse(symbols.ravel().astype(np.int32), model, means, _per_symbol(scales, symbols.shape[1]))
    w.blob(coder.get_compressed().astype("<u4").tobytes())
    return w.getvalue()


def decode_laplace(r: ByteReader, shape: tuple[int, int], scales: np.ndarray) -> np.ndarray:
    """Read ``shape`` (slices x n) symbols written by :func:`encode_laplace` with the same scales."""
    lo = r.svarint(1 << 40)
    span = r.uvarint(MAX_SPAN - 1) + 1
    payload = r.blob()
    if len(payload) % 4:
        raise ReadError("entropy payload is not a whole number of 32-bit words")
    count = shape[0] * shape[1]
    if count == 0 or span == 1:
        return np.full(shape, lo, dtype=np.int64)
    words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
    try:
        model = constriction.stream.model.QuantizedLaplace(lo, lo + span - 1)
        means = np.zeros(count, dtype=np.float64)
        out = constriction.stream.stack.AnsCoder(words).decode(model, means, _per_symbol(scales, shape[1]))
    except Exception as exc:  # constriction raises plain exceptions on a broken stream
        raise ReadError(f"entropy payload does not decode: {exc}") from None
    return out.astype(np.int64).reshape(shape)


def laplace_bits(symbols: np.ndarray, scales: np.ndarray) -> float:
    """Ideal code length in bits of ``symbols`` (slices x n) under the per-slice Laplace models."""
    q = np.abs(np.asarray(symbols, dtype=np.float64))
    b = np.asarray(scales, dtype=np.float64)[:, None]
    zero = 1.0 - np.exp(-0.5 / b)
    tail = 0.5 * np.exp(-(q - 0.5) / b) * (1.0 - np.exp(-1.0 / b))
    p = np.where(q < 0.5, zero, tail)
    return float(-np.log2(np.maximum(p, 1e-300)).sum())
