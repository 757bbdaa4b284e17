"""Byte-level helpers shared by the entropy coder and the container: varints and a bounds-checked reader.

Everything here is plain Python over ``bytes``; it knows nothing of tensors, models or files.
"""

from __future__ import annotations

import struct


class ReadError(ValueError):
    """Raised when a read would run past the end of the buffer or meets an invalid value."""


class ByteWriter:
    """Appends little-endian integers, floats, varints and raw bytes to a growing buffer."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, data: bytes) -> None:
        """Append ``data`` as is."""
        self._parts.append(bytes(data))

    def u8(self, v: int) -> None:
        """Append an unsigned 8-bit integer."""
        self._parts.append(struct.pack("<B", v))

    def u16(self, v: int) -> None:
        """Append an unsigned 16-bit little-endian integer."""
        self._parts.append(struct.pack("<H", v))

    def u32(self, v: int) -> None:
        """Append an unsigned 32-bit little-endian integer."""
        self._parts.append(struct.pack("<I", v))

    def f32(self, v: float) -> None:
        """Append an IEEE-754 binary32 little-endian float."""
        self._parts.append(struct.pack("<f", v))

    def f64(self, v: float) -> None:
        """Append an IEEE-754 binary64 little-endian float."""
        self._parts.append(struct.pack("<d", v))

    def uvarint(self, v: int) -> None:
        """Append a non-negative integer as LEB128 (7 bits a byte, high bit = more follows)."""
        if v < 0:
            raise ValueError("uvarint needs a non-negative value")
        out = bytearray()
        while True:
            byte = v & 0x7F
            v >>= 7
            if v:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                break
        self._parts.append(bytes(out))

    def svarint(self, v: int) -> None:
        """Append a signed integer as a zig-zag LEB128 varint."""
        self.uvarint((v << 1) if v >= 0 else ((-v << 1) - 1))

    def blob(self, data: bytes) -> None:
        """Append a uvarint length followed by ``data``."""
        self.uvarint(len(data))
        self.raw(data)

    def getvalue(self) -> bytes:
        """Return everything written so far."""
        return b"".join(self._parts)


class ByteReader:
    """Reads what :class:`ByteWriter` writes, refusing to read past the end of the buffer."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = memoryview(data)
        self.pos = offset

    @property
    def remaining(self) -> int:
        """Bytes left after the current position."""
        return len(self._data) - self.pos

    def raw(self, n: int) -> bytes:
        """Read exactly ``n`` bytes."""
        if n < 0 or n > self.remaining:
            raise ReadError(f"needs {n} bytes at offset {self.pos}, {self.remaining} left")
        out = bytes(self._data[self.pos : self.pos + n])
        self.pos += n
        return out

    def _unpack(self, fmt: str, size: int) -> int | float:
        return struct.unpack(fmt, self.raw(size))[0]

    def u8(self) -> int:
        """Read an unsigned 8-bit integer."""
        return int(self._unpack("<B", 1))

    def u16(self) -> int:
        """Read an unsigned 16-bit integer."""
        return int(self._unpack("<H", 2))

    def u32(self) -> int:
        """Read an unsigned 32-bit integer."""
        return int(self._unpack("<I", 4))

    def f32(self) -> float:
        """Read a binary32 float."""
        return float(self._unpack("<f", 4))

    def f64(self) -> float:
        """Read a binary64 float."""
        return float(self._unpack("<d", 8))

    def uvarint(self, limit: int = 1 << 63) -> int:
        """Read a LEB128 varint and check that it is at most ``limit``."""
        value, shift = 0, 0
        while True:
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift > 63:
                raise ReadError("varint longer than 64 bits")
        if value > limit:
            raise ReadError(f"value {value} exceeds the limit {limit}")
        return value

    def svarint(self, limit: int = 1 << 62) -> int:
        """Read a zig-zag varint and check that its magnitude is at most ``limit``."""
        z = self.uvarint(2 * limit + 1)
        return (z >> 1) if not z & 1 else -((z + 1) >> 1)

    def blob(self, limit: int | None = None) -> bytes:
        """Read a uvarint length (at most ``limit``, and at most what is left) and that many bytes."""
        n = self.uvarint(self.remaining if limit is None else min(limit, self.remaining))
        return self.raw(n)

    def expect_end(self) -> None:
        """Fail unless every byte was consumed."""
        if self.remaining:
            raise ReadError(f"{self.remaining} unexpected trailing bytes")
