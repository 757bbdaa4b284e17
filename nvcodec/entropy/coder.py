"""Code a flat array of signed integers with the cheapest of a few probability models.

Each coded array is ``kind byte | model parameters | ANS payload``. The kinds:

* ``CONST`` (0): every symbol equals one value (also used for empty arrays); no payload.
* ``HIST`` (1): an empirical histogram over ``[lo, lo + span)``, stored as frequencies that sum to
  about 2**12, one uvarint each.
* ``SPIKE_LAPLACE`` (2) / ``SPIKE_GAUSS`` (3): a point mass ``pi`` at zero (pruned and
  small weights) plus a discretized Laplace or Gaussian of mean ``mu`` and scale ``s`` over the
  other symbols of ``[lo, hi]``; ``pi``, ``mu`` and ``s`` are stored as float32.

The encoder estimates the size of every kind from the symbol counts and keeps the smallest.
The decoder recomputes the probability table from the stored parameters with the same float64
arithmetic, so the models on both sides are identical. The symbol count is not stored: the
caller knows it (from a tensor shape) and passes it to :func:`decode_symbols`.
"""

from __future__ import annotations

import math

import constriction
import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError

CONST, HIST, SPIKE_LAPLACE, SPIKE_GAUSS = 0, 1, 2, 3
HIST_TOTAL = 1 << 12
MAX_SPAN = 1 << 16


class SpanError(ValueError):
    """Symbols spread over more than :data:`MAX_SPAN` values: steps too fine for the coder (an
    encoder searching for steps treats such a file as too large)."""


_SCALE_FACTORS = (0.6, 0.8, 1.0, 1.25)


def _f32(x: float) -> float:
    """Round a Python float to the nearest binary32 value (what the file stores)."""
    return float(np.float32(x))


def _spike_table(kind: int, lo: int, hi: int, pi: float, mu: float, s: float) -> np.ndarray:
    """Probability table over ``lo..hi`` for the spike-plus-continuous models."""
    k = np.arange(lo, hi + 1, dtype=np.float64)
    upper, lower = k + 0.5 - mu, k - 0.5 - mu
    if kind == SPIKE_LAPLACE:
        cdf = lambda x: np.where(x < 0, 0.5 * np.exp(-np.abs(x) / s), 1.0 - 0.5 * np.exp(-np.abs(x) / s))  # noqa: E731
    else:
        erf = np.vectorize(math.erf, otypes=[np.float64])
        cdf = lambda x: 0.5 * (1.0 + erf(x / (s * math.sqrt(2.0))))  # noqa: E731
    mass = np.maximum(cdf(upper) - cdf(lower), 1e-300)
    if lo <= 0 <= hi:
        mass[-lo] = 0.0
        total = mass.sum()
        mass = (1.0 - pi) * mass / total if total > 0 else mass
        mass[-lo] = pi
    return mass


def _hist_freqs(counts: np.ndarray) -> np.ndarray:
    """Scale counts to integers summing to about HIST_TOTAL, keeping every used symbol above 0."""
    scaled = np.round(counts * (HIST_TOTAL / counts.sum())).astype(np.int64)
    scaled[(counts > 0) & (scaled == 0)] = 1
    return scaled


def _cross_entropy(counts: np.ndarray, probs: np.ndarray) -> float:
    """Bits needed to code ``counts`` under ``probs`` (normalized here)."""
    p = probs / probs.sum()
    used = counts > 0
    return float(-(counts[used] * np.log2(np.maximum(p[used], 2.0**-24))).sum())


def _uvarint_len(v: int) -> int:
    return max(1, (int(v).bit_length() + 6) // 7)


def _candidates(counts: np.ndarray, lo: int, hi: int, values: np.ndarray) -> list[tuple]:
    """(estimated bits, kind, params) for every model kind worth trying."""
    n = counts.sum()
    freqs = _hist_freqs(counts)
    side = 8 * sum(_uvarint_len(f) for f in freqs)
    out = [(_cross_entropy(counts, freqs.astype(np.float64)) + side, HIST, (freqs,))]
    nz = values[values != 0].astype(np.float64)
    pi = _f32(1.0 - nz.size / n) if lo <= 0 <= hi else 0.0
    if nz.size == 0:
        return out
    mu = _f32(nz.mean())
    for kind, base in ((SPIKE_LAPLACE, np.abs(nz - mu).mean()), (SPIKE_GAUSS, nz.std())):
        for f in _SCALE_FACTORS:
            s = _f32(max(base * f, 0.05))
            table = _spike_table(kind, lo, hi, pi, mu, s)
            out.append((_cross_entropy(counts, table) + 96, kind, (pi, mu, s)))
    return out


def _ans_encode(indices: np.ndarray, probs: np.ndarray) -> bytes:
    model = constriction.stream.model.Categorical(probs, perfect=False)
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(indices.astype(np.int32), model)
    return coder.get_compressed().astype("<u4").tobytes()


def encode_symbols(symbols: np.ndarray) -> bytes:
    """Code an integer array (any shape, read flat) into a self-describing byte string."""
    values = np.asarray(symbols, dtype=np.int64).ravel()
    w = ByteWriter()
    if values.size == 0 or values.min() == values.max():
        w.u8(CONST)
        w.svarint(int(values[0]) if values.size else 0)
        return w.getvalue()
    lo, hi = int(values.min()), int(values.max())
    if hi - lo + 1 > MAX_SPAN:
        raise SpanError(f"symbol span {hi - lo + 1} exceeds {MAX_SPAN}")
    counts = np.bincount(values - lo, minlength=hi - lo + 1).astype(np.float64)
    _, kind, params = min(_candidates(counts, lo, hi, values), key=lambda c: c[0])
    w.u8(kind)
    w.svarint(lo)
    w.uvarint(hi - lo)
    if kind == HIST:
        for f in params[0]:
            w.uvarint(int(f))
        probs = params[0].astype(np.float64)
    else:
        for p in params:
            w.f32(p)
        probs = _spike_table(kind, lo, hi, *params)
    w.blob(_ans_encode(values - lo, probs))
    return w.getvalue()


def _read_model(r: ByteReader, kind: int) -> tuple[int, np.ndarray]:
    """Read a model's parameters; return (lo, probability table)."""
    lo = r.svarint(1 << 40)
    span = r.uvarint(MAX_SPAN - 1) + 1
    if kind == HIST:
        probs = np.array([r.uvarint(HIST_TOTAL * 2) for _ in range(span)], dtype=np.float64)
        if probs.sum() <= 0:
            raise ReadError("empty histogram")
        return lo, probs
    pi, mu, s = r.f32(), r.f32(), r.f32()
    if not (0.0 <= pi <= 1.0 and math.isfinite(mu) and math.isfinite(s) and s > 0):
        raise ReadError("invalid probability model parameters")
    return lo, _spike_table(kind, lo, lo + span - 1, pi, mu, s)


def decode_symbols(r: ByteReader, count: int) -> np.ndarray:
    """Decode ``count`` symbols coded by :func:`encode_symbols` from ``r`` (int64, flat)."""
    kind = r.u8()
    if kind == CONST:
        return np.full(count, r.svarint(1 << 40), dtype=np.int64)
    if kind not in (HIST, SPIKE_LAPLACE, SPIKE_GAUSS):
        raise ReadError(f"unknown probability model {kind}")
    try:
        lo, probs = _read_model(r, kind)
    except (ValueError, OverflowError, FloatingPointError) as exc:  # a table that makes no distribution
        if isinstance(exc, ReadError):
            raise
        raise ReadError(f"invalid probability table ({exc})") from None
    payload = r.blob()
    if len(payload) % 4:
        raise ReadError("entropy payload is not a whole number of 32-bit words")
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
    try:
        model = constriction.stream.model.Categorical(probs, perfect=False)
        out = constriction.stream.stack.AnsCoder(words).decode(model, count)
    except Exception as exc:  # constriction raises plain exceptions on a broken stream
        raise ReadError(f"entropy payload does not decode: {exc}") from exc
    return out.astype(np.int64) + lo
