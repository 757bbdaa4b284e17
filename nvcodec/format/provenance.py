"""The provenance section (``PROV``, format 4.2): how a video entry was made. A typed record
(:mod:`nvcodec.container.record`) of at most :data:`MAX_FIELDS` fields, each a bool, int, finite
float or printable string, in at most :data:`MAX_BYTES` bytes; the decoder never needs it, ``info``
shows it. The encoder writes the fields of :data:`WRITTEN`; a reader keeps any field name it finds
(a later writer may add some) but refuses a section beyond these bounds, a control character in a
name or a string (``info`` prints them), and any other value type.
"""

from __future__ import annotations

import math
from typing import Any

from nvcodec.bitio import ByteReader, ReadError
from nvcodec.container import decode_record, encode_record

TAG = b"PROV"
MAX_BYTES = 2048
"""Largest ``PROV`` payload (real sections: about 70-100 bytes)."""
MAX_FIELDS = 32
MAX_NAME = 32
"""Longest field name, in characters."""
MAX_TEXT = 512
"""Longest string value, in characters."""
WRITTEN = {
    "encoder": "the writer, its version, the PyTorch version and the device that fitted the network",
    "command": "the ``encode`` options that made the entry, as a command line without input and output",
}
"""The fields this encoder writes, and what each says."""


def _check(fields: dict[str, Any]) -> None:
    """Raise :class:`ValueError` for a record this section cannot hold."""
    if len(fields) > MAX_FIELDS:
        raise ValueError(f"{len(fields)} provenance fields (at most {MAX_FIELDS})")
    for name, value in fields.items():
        if not (0 < len(name) <= MAX_NAME and name.isascii() and name.isprintable()):
            raise ValueError(f"provenance field name {name[:MAX_NAME]!r} is not printable ASCII of 1..{MAX_NAME}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"provenance field {name} is not finite")
        if isinstance(value, str) and not (len(value) <= MAX_TEXT and value.isprintable()):
            raise ValueError(f"provenance field {name} is not printable text of at most {MAX_TEXT} characters")
        if not isinstance(value, bool | int | float | str):
            raise ValueError(f"provenance field {name} is a {type(value).__name__}")


def pack_provenance(fields: dict[str, Any]) -> bytes:
    """The ``PROV`` payload of ``fields`` (:class:`ValueError` beyond this section's bounds)."""
    _check(fields)
    payload = encode_record(fields)
    if len(payload) > MAX_BYTES:
        raise ValueError(f"provenance of {len(payload)} bytes (at most {MAX_BYTES})")
    return payload


def read_provenance(payload: bytes) -> dict[str, Any]:
    """The fields of a ``PROV`` payload (:class:`ReadError` for one out of bounds)."""
    if len(payload) > MAX_BYTES:
        raise ReadError(f"provenance section of {len(payload)} bytes (at most {MAX_BYTES})")
    r = ByteReader(payload)
    try:
        fields = decode_record(r)
        r.expect_end()
        _check(fields)
    except ReadError:
        raise
    except ValueError as exc:  # a string that is not UTF-8, or a field out of bounds
        raise ReadError(str(exc)) from None
    return fields
