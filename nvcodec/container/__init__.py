"""The ``.nrv`` file: magic, version, CRC-checked sections, typed records. Knows no models or tensors.

The byte layout is documented in ``docs/format.md``.
"""

from nvcodec.container.nrv import (
    FORMAT_MAJOR,
    FORMAT_MINOR,
    MAGIC,
    Section,
    read_nrv,
    write_atomic,
    write_nrv,
)
from nvcodec.container.record import decode_record, encode_record

__all__ = [
    "FORMAT_MAJOR",
    "FORMAT_MINOR",
    "MAGIC",
    "Section",
    "decode_record",
    "encode_record",
    "read_nrv",
    "write_atomic",
    "write_nrv",
]
