"""Uniform quantization with one step per channel (or per tensor), zero exactly representable.

For each slice along the chosen axis the range ``[min(x, 0), max(x, 0)]`` is split into
``2**bits - 2`` steps (one spare level keeps every value within half a step after the integer
zero point is rounded). Symbols are signed integers ``round(x / step)``, so ``0`` stays ``0`` (pruned
weights) and the decoder needs only the steps: ``x_hat = symbol * step``. Steps are rounded *up* to
bfloat16, the precision in which the file stores them, before quantizing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

AXIS_FRACTION = 0.02


def to_bf16_up(x: np.ndarray) -> np.ndarray:
    """Round non-negative float32 values up to the nearest bfloat16 value (returned as float32)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bumped = np.where(bits & 0xFFFF, (bits | 0xFFFF) + 1, bits) & 0xFFFF0000
    return bumped.astype(np.uint32).view(np.float32)


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """The upper 16 bits of bfloat16-representable float32 values (what the file stores)."""
    return (np.ascontiguousarray(x, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)


def from_bf16_bits(b: np.ndarray) -> np.ndarray:
    """Inverse of :func:`bf16_bits`."""
    return (b.astype(np.uint32) << 16).view(np.float32)


class Coding(enum.Enum):
    """How a quantized tensor's integers are modelled (the format gives each its record layout)."""

    UNIFORM = "uniform"
    """Steps from the tensor's range at a bit depth (``bits`` 2..16), adaptive symbol coding."""
    LEARNED = "learned"
    """Steps learned by the rate–distortion fit, a Laplace of a learned scale per slice."""
    PREDICTED = "predicted"
    """As ``LEARNED``, coded as residuals from the previous entry along the first axis (the
    previous frame of an embedding)."""
    CONTEXT = "context"
    """A learned feature grid coded with the grid context model (scales predicted per value)."""


def frame_residuals(symbols: np.ndarray) -> np.ndarray:
    """``symbols`` minus the entry before along axis 0 (the first entry minus zero)."""
    return np.diff(symbols, axis=0, prepend=np.zeros_like(symbols[:1])) if symbols.ndim else symbols


@dataclass(frozen=True, eq=False)
class QTensor:
    """A quantized tensor: integer symbols in the tensor's shape and one step per slice of ``axis``,
    either uniform at a bit depth (``kind`` ``UNIFORM``, ``bits`` 2..16) or learned by the
    rate–distortion fit (``LEARNED``, ``PREDICTED``, ``CONTEXT``; ``bits`` 0, per-slice ``scales``).
    Immutable, compared by identity (a packer may cache its bytes by the object)."""

    symbols: np.ndarray
    steps: np.ndarray
    axis: int | None
    bits: int
    """The bit depth of a uniform tensor; 0 for learned kinds."""
    scales: np.ndarray | None = None
    """Per-slice Laplace scales of a learned tensor: its coded symbols (:meth:`coded`) use them; for a
    context-coded grid, the per-channel multipliers of the predicted scales."""
    context: Any = None
    """The :class:`~nvcodec.entropy.context.ContextNet` a context-coded grid is coded with."""
    kind: Coding = Coding.UNIFORM

    @property
    def learned(self) -> bool:
        """Whether the steps were learned (any kind but ``UNIFORM``)."""
        return self.kind is not Coding.UNIFORM

    def coded(self) -> np.ndarray:
        """The integers the entropy coder sees: the symbols, or their frame residuals (``PREDICTED``)."""
        return frame_residuals(self.symbols) if self.kind is Coding.PREDICTED else self.symbols

    def _bshape(self) -> tuple[int, ...]:
        shape = [1] * self.symbols.ndim
        if self.axis is not None:
            shape[self.axis] = -1
        return tuple(shape)

    def dequantize(self) -> np.ndarray:
        """Reconstructed float32 values: ``symbols * step``."""
        return (self.symbols.astype(np.float32) * self.steps.reshape(self._bshape())).astype(np.float32)


def quantize(x: np.ndarray, bits: int, axis: int | None) -> QTensor:
    """Quantize ``x`` to ``2**bits`` levels, one step per slice along ``axis`` (None: one step)."""
    if not 2 <= bits <= 16:
        raise ValueError(f"bits must be in 2..16, got {bits}")
    x = np.asarray(x, dtype=np.float32)
    moved = x.reshape(1, -1) if axis is None else np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    if moved.size == 0:
        return QTensor(np.zeros(x.shape, np.int64), np.zeros(moved.shape[0], np.float32), axis, bits)
    lo = np.minimum(moved.min(axis=1), 0.0).astype(np.float64)
    hi = np.maximum(moved.max(axis=1), 0.0).astype(np.float64)
    levels = (1 << bits) - 1
    step = to_bf16_up(((hi - lo) / (levels - 1)).astype(np.float32)).astype(np.float64)
    safe = np.where(step > 0, step, 1.0)
    zp = np.round(-lo / safe)
    q = np.round(moved / safe[:, None])
    q = np.clip(q, -zp[:, None], (levels - zp)[:, None] - 1)
    q[step == 0] = 0
    q = q.reshape((x.shape[axis],) + tuple(np.delete(x.shape, axis))) if axis is not None else q
    symbols = q.reshape(x.shape) if axis is None else np.moveaxis(q, 0, axis)
    return QTensor(symbols.astype(np.int64), step.astype(np.float32), axis, bits)


def candidate_axes(shape: tuple[int, ...]) -> list[int | None]:
    """Per tensor, plus every axis whose slice count is below 2% of the tensor's size."""
    numel = int(np.prod(shape)) if shape else 1
    axes: list[int | None] = [None]
    if len(shape) > 1:
        axes += [a for a, n in enumerate(shape) if 1 < n < AXIS_FRACTION * numel]
    return axes


def quantize_best_axis(x: np.ndarray, bits: int) -> QTensor:
    """Quantize with whichever candidate axis gives the lowest mean squared error."""
    x = np.asarray(x, dtype=np.float32)
    best, best_err = None, np.inf
    for axis in candidate_axes(x.shape):
        q = quantize(x, bits, axis)
        err = float(np.mean((q.dequantize() - x) ** 2)) if x.size else 0.0
        if err < best_err:
            best, best_err = q, err
    assert best is not None
    return best


class DepthCache:
    """Named arrays quantized at any bit depth on demand, each depth computed once; arrays named in
    ``min_bits`` never go below their floor (small embeddings such as SNeRV's LL ranges)."""

    def __init__(self, arrays: dict[str, np.ndarray], min_bits: dict[str, int] | None = None) -> None:
        self.arrays = arrays
        self.min_bits = min_bits or {}
        self._cache: dict[int, dict[str, QTensor]] = {}

    def at(self, bits: int) -> dict[str, QTensor]:
        """Every array quantized to ``bits`` (or its floor) on its best axis."""
        if bits not in self._cache:
            self._cache[bits] = {
                k: quantize_best_axis(v, max(bits, self.min_bits.get(k, 0))) for k, v in self.arrays.items()
            }
        return self._cache[bits]
