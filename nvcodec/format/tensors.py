"""Tensor records: a :class:`QTensor` whose shape the reader already knows, as bytes.

Layouts, told apart by the first byte (the record tag: a bit depth, or :data:`TAG_LEARNED`,
:data:`TAG_PREDICTED`, :data:`TAG_CONTEXT`; the tensor's :class:`~nvcodec.compress.Coding` picks it):

* uniform (``bits`` 2..16): ``u8 bits | u8 axis (255 = per tensor) | steps (bfloat16, u16 each,
  one per slice) | entropy-coded symbols`` (:mod:`nvcodec.entropy.coder`);
* learned (``bits`` 0, format 2.0): ``u8 0 | u8 axis | steps (bfloat16 per slice) | Laplace scales
  (bfloat16 per slice) | per-slice Laplace payload`` (:mod:`nvcodec.entropy.laplace`);
* predicted (``bits`` 1, format 3.0): the learned layout with ``u8 1``, whose payload holds the
  residuals of the symbols from the previous entry along the first axis (the previous frame);
* context-coded grid (``bits`` 17, format 4.0): ``u8 17 | u8 0 | steps (bfloat16 per channel) |
  scale multipliers (bfloat16 per channel) | context payload`` (:mod:`nvcodec.entropy.context`),
  for a channels x time x height x width grid; the predictor's weights are the entry's ``GCTX``.
"""

from __future__ import annotations

import weakref

import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.compress.quantize import Coding, QTensor, bf16_bits, from_bf16_bits
from nvcodec.container import SECTION_FRAMING
from nvcodec.entropy import decode_symbols, encode_symbols
from nvcodec.entropy.context import TAPS, WEIGHT_LIMIT, ContextNet, decode_context, encode_context
from nvcodec.entropy.laplace import MIN_SCALE, decode_laplace, encode_laplace

PER_TENSOR = 255
MAX_LEARNED_SYMBOL = 1 << 15
TAG_LEARNED, TAG_PREDICTED, TAG_CONTEXT = 0, 1, 17
"""Record tags of the learned kinds (a uniform tensor's tag is its bit depth, 2..16)."""
_TAGS = {Coding.LEARNED: TAG_LEARNED, Coding.PREDICTED: TAG_PREDICTED, Coding.CONTEXT: TAG_CONTEXT}
_KINDS = {tag: kind for kind, tag in _TAGS.items()}
STEP_BYTES = SCALE_BYTES = 2
"""A step and a Laplace scale (or scale multiplier) are stored as bfloat16, per slice."""
RECORD_HEAD_BYTES = 2
"""The tag and axis bytes of every record."""
PAYLOAD_FRAMING_BYTES = 4
"""About what a learned record's payload spends besides its symbols (symbol range, lengths)."""
_RECORDS: weakref.WeakKeyDictionary[QTensor, bytes] = weakref.WeakKeyDictionary()
"""Coded records by tensor: rate control packs the same quantized tensor into many candidate files."""


def context_net_bytes(hidden: int, bytes_per_weight: int = 2) -> int:
    """About the size of a ``GCTX`` section of width ``hidden``: framing, width byte, weights."""
    return SECTION_FRAMING + 1 + bytes_per_weight * (hidden * TAPS + hidden + 2 * hidden + 2)


def _slices(shape: tuple[int, ...], axis: int | None) -> tuple[int, int]:
    count = int(np.prod(shape)) if shape else 1
    n = 1 if axis is None else shape[axis]
    return n, count // n if n else 0


def _as_slices(symbols: np.ndarray, axis: int | None) -> np.ndarray:
    return symbols.reshape(1, -1) if axis is None else np.moveaxis(symbols, axis, 0).reshape(symbols.shape[axis], -1)


def tensor_record(q: QTensor) -> bytes:
    """The bytes of ``q``'s record (without its shape), coded once per tensor (:data:`_RECORDS`)."""
    record = _RECORDS.get(q)
    if record is None:
        w = ByteWriter()
        w.u8(_TAGS.get(q.kind, q.bits))
        w.u8(PER_TENSOR if q.axis is None else q.axis)
        w.raw(bf16_bits(q.steps).astype("<u2").tobytes())
        if q.learned:
            if q.scales is None:
                raise ValueError("a learned tensor without its scales")
            w.raw(bf16_bits(q.scales).astype("<u2").tobytes())
            if q.kind is Coding.CONTEXT:
                w.raw(encode_context(q.symbols, q.context, q.scales))
            else:
                w.raw(encode_laplace(_as_slices(q.coded(), q.axis), q.scales))
        else:
            w.raw(encode_symbols(q.symbols))
        record = _RECORDS[q] = w.getvalue()
    return record


def write_qtensor(w: ByteWriter, q: QTensor) -> None:
    """Append ``q`` (without its shape) to ``w``."""
    w.raw(tensor_record(q))


def _bf16_array(r: ByteReader, n: int, what: str, floor: float) -> np.ndarray:
    values = from_bf16_bits(np.frombuffer(r.raw(2 * n), dtype="<u2")).copy()
    if not np.all(np.isfinite(values)) or np.any(values < floor):
        raise ReadError(f"invalid {what}")
    return values


def read_qtensor(r: ByteReader, shape: tuple[int, ...], context: ContextNet | None = None) -> QTensor:
    """Read a tensor of the given shape written by :func:`write_qtensor` (``context``: the entry's
    context model, which a context-coded grid needs)."""
    bits = r.u8()
    axis_byte = r.u8()
    kind = _KINDS.get(bits, Coding.UNIFORM)
    if kind is Coding.CONTEXT:
        return _read_context(r, shape, axis_byte, context)
    if kind is Coding.UNIFORM and not 2 <= bits <= 16:
        raise ReadError(f"invalid bit depth {bits}")
    if axis_byte != PER_TENSOR and axis_byte >= len(shape):
        raise ReadError(f"quantization axis {axis_byte} out of range for shape {shape}")
    if kind is Coding.PREDICTED and (not shape or axis_byte == 0):
        raise ReadError("a predicted tensor needs a first axis apart from its slices")
    axis = None if axis_byte == PER_TENSOR else axis_byte
    n, per_slice = _slices(shape, axis)
    steps = _bf16_array(r, n, "quantization step", 0.0)
    if kind is not Coding.UNIFORM:
        return _read_learned(r, shape, axis, kind, steps)
    count = int(np.prod(shape)) if shape else 1
    symbols = decode_symbols(r, count).reshape(shape)
    limit = 1 << bits
    if symbols.size and (symbols.min() <= -limit or symbols.max() >= limit):
        raise ReadError("symbol outside the range of its bit depth")
    return QTensor(symbols, steps, axis, bits)


def _read_learned(r: ByteReader, shape: tuple[int, ...], axis: int | None, kind: Coding, steps: np.ndarray) -> QTensor:
    """The rest of a learned or predicted record: scales, then the per-slice Laplace payload."""
    n, per_slice = _slices(shape, axis)
    scales = _bf16_array(r, n, "Laplace scale", MIN_SCALE)
    flat = decode_laplace(r, (n, per_slice), scales)
    moved = (shape[axis], *shape[:axis], *shape[axis + 1 :]) if axis is not None else shape
    symbols = flat.reshape(moved) if axis is None else np.moveaxis(flat.reshape(moved), 0, axis)
    if kind is Coding.PREDICTED:
        if symbols.size and np.abs(symbols).max() >= 2 * MAX_LEARNED_SYMBOL:
            raise ReadError("residual outside the range of a predicted tensor")
        symbols = np.cumsum(symbols, axis=0)
    if symbols.size and np.abs(symbols).max() >= MAX_LEARNED_SYMBOL:
        raise ReadError("symbol outside the range of a learned tensor")
    return QTensor(symbols, steps, axis, 0, scales, kind=kind)


def _read_context(r: ByteReader, shape: tuple[int, ...], axis_byte: int, context: ContextNet | None) -> QTensor:
    """The rest of a context-coded grid record."""
    if context is None:
        raise ReadError("a context-coded tensor without the entry's context model")
    if len(shape) != 4 or axis_byte != 0:
        raise ReadError(f"a context-coded tensor must be a grid with channels on axis 0, not shape {shape}")
    steps = _bf16_array(r, shape[0], "quantization step", 0.0)
    multipliers = _bf16_array(r, shape[0], "scale multiplier", 0.0)
    symbols = decode_context(r, shape, context, multipliers)
    if symbols.size and np.abs(symbols).max() >= MAX_LEARNED_SYMBOL:
        raise ReadError("symbol outside the range of a learned tensor")
    return QTensor(symbols, steps, 0, 0, multipliers, context, Coding.CONTEXT)


MAX_HIDDEN = 64


def pack_context_net(net: ContextNet) -> bytes:
    """The ``GCTX`` payload: ``u8 hidden width``, then every fixed-point weight as an svarint."""
    w = ByteWriter()
    w.u8(len(net.b1))
    for v in net.values():
        w.svarint(int(v))
    return w.getvalue()


def read_context_net(payload: bytes) -> ContextNet:
    """Parse a ``GCTX`` payload."""
    r = ByteReader(payload)
    hidden = r.u8()
    if not 1 <= hidden <= MAX_HIDDEN:
        raise ReadError(f"context model width {hidden} outside 1..{MAX_HIDDEN}")
    count = hidden * TAPS + hidden + 2 * hidden + 2
    values = [r.svarint(WEIGHT_LIMIT) for _ in range(count)]
    r.expect_end()
    return ContextNet.from_values(np.array(values, dtype=np.int64), hidden)
