"""Typed name/value records: how a model's config travels in the file without pickle or eval.

Layout: ``uvarint count``, then per field ``blob name (UTF-8) | u8 type | value`` where type is
0 bool (u8), 1 int (zig-zag varint), 2 float (f64), 3 str (blob UTF-8), 4 int tuple
(uvarint length + zig-zag varints).
"""

from __future__ import annotations

from typing import Any

from nvcodec.bitio import ByteReader, ByteWriter, ReadError

T_BOOL, T_INT, T_FLOAT, T_STR, T_INTS = 0, 1, 2, 3, 4
MAX_FIELDS = 256
MAX_TUPLE = 6 << 12
"""Most ints in a tuple field: a motion field's six a frame for 4,096 frames (a segment is at most 600)."""


def _write_value(w: ByteWriter, value: Any) -> None:
    if isinstance(value, bool):
        w.u8(T_BOOL)
        w.u8(int(value))
    elif isinstance(value, int):
        w.u8(T_INT)
        w.svarint(value)
    elif isinstance(value, float):
        w.u8(T_FLOAT)
        w.f64(value)
    elif isinstance(value, str):
        w.u8(T_STR)
        w.blob(value.encode("utf-8"))
    elif isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        w.u8(T_INTS)
        w.uvarint(len(value))
        for v in value:
            w.svarint(v)
    else:
        raise TypeError(f"cannot store {type(value).__name__} in a record")


def encode_record(fields: dict[str, Any]) -> bytes:
    """Serialize a flat dict of bool/int/float/str/int-tuple values."""
    w = ByteWriter()
    w.uvarint(len(fields))
    for name, value in fields.items():
        w.blob(name.encode("utf-8"))
        _write_value(w, value)
    return w.getvalue()


def _read_value(r: ByteReader) -> Any:
    kind = r.u8()
    if kind == T_BOOL:
        return bool(r.u8())
    if kind == T_INT:
        return r.svarint()
    if kind == T_FLOAT:
        return r.f64()
    if kind == T_STR:
        return r.blob(4096).decode("utf-8")
    if kind == T_INTS:
        return tuple(r.svarint() for _ in range(r.uvarint(MAX_TUPLE)))
    raise ReadError(f"unknown field type {kind}")


def decode_record(r: ByteReader) -> dict[str, Any]:
    """Read a record written by :func:`encode_record`."""
    out: dict[str, Any] = {}
    for _ in range(r.uvarint(MAX_FIELDS)):
        try:
            name = r.blob(128).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ReadError("field name is not UTF-8") from exc
        out[name] = _read_value(r)
    return out
