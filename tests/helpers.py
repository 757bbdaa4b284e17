"""Helpers for tests that rewrite .nrv files as another encoder (older or newer) would have written them."""

from __future__ import annotations

import struct
import zlib

from nvcodec.container import MAGIC

END = 12 + 8 + 4  # END section of version 1.1: head, count and header CRC, CRC


def with_version(data: bytes, major: int, minor: int, legacy_end: bool = False) -> bytes:
    """``data`` (a version 1.1 file) as written with version ``major.minor``, every CRC valid;
    ``legacy_end`` gives it version 1.0's END (the section count alone, no header CRC)."""
    header = MAGIC + struct.pack("<HH", major, minor)
    body, end = data[12:-END], data[-END:]
    (count,) = struct.unpack_from("<I", end, 12)
    payload = struct.pack("<I", count) if legacy_end else struct.pack("<II", count, zlib.crc32(header))
    head = end[:8] + struct.pack("<I", len(payload))
    return header + body + head + payload + struct.pack("<I", zlib.crc32(head + payload))


def one_line(err: str) -> bool:
    """Whether ``err`` is a single line with no traceback (how every nvcodec error must look)."""
    return "Traceback" not in err and len(err.strip().splitlines()) == 1
