"""Tensor records: a :class:`QTensor` whose shape the reader already knows, as bytes.

Layout: ``u8 bits | u8 axis (255 = per tensor) | steps (bfloat16, u16 each, one per slice) |
entropy-coded symbols`` (see :mod:`nvcodec.entropy.coder`).
"""

from __future__ import annotations

import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.compress.quantize import QTensor, bf16_bits, from_bf16_bits
from nvcodec.entropy import decode_symbols, encode_symbols

PER_TENSOR = 255


def tensor_record(q: QTensor) -> bytes:
    """The bytes of ``q``'s record (without its shape). They are coded once per tensor and kept on
    it: rate control packs the same quantized tensor into many candidate files."""
    record = q.__dict__.get("_record")
    if record is None:
        w = ByteWriter()
        w.u8(q.bits)
        w.u8(PER_TENSOR if q.axis is None else q.axis)
        w.raw(bf16_bits(q.steps).astype("<u2").tobytes())
        w.raw(encode_symbols(q.symbols))
        record = q.__dict__["_record"] = w.getvalue()
    return record


def write_qtensor(w: ByteWriter, q: QTensor) -> None:
    """Append ``q`` (without its shape) to ``w``."""
    w.raw(tensor_record(q))


def read_qtensor(r: ByteReader, shape: tuple[int, ...]) -> QTensor:
    """Read a tensor of the given shape written by :func:`write_qtensor`."""
    bits = r.u8()
    axis_byte = r.u8()
    if not 2 <= bits <= 16:
        raise ReadError(f"invalid bit depth {bits}")
    if axis_byte != PER_TENSOR and axis_byte >= len(shape):
        raise ReadError(f"quantization axis {axis_byte} out of range for shape {shape}")
    axis = None if axis_byte == PER_TENSOR else axis_byte
    n = 1 if axis is None else shape[axis]
    steps = from_bf16_bits(np.frombuffer(r.raw(2 * n), dtype="<u2"))
    if not np.all(np.isfinite(steps)) or np.any(steps < 0):
        raise ReadError("invalid quantization step")
    count = int(np.prod(shape)) if shape else 1
    symbols = decode_symbols(r, count).reshape(shape)
    limit = 1 << bits
    if symbols.size and (symbols.min() <= -limit or symbols.max() >= limit):
        raise ReadError("symbol outside the range of its bit depth")
    return QTensor(symbols, steps.copy(), axis, bits)
