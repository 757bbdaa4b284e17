"""The ``.nrv`` file: magic, version, CRC-checked sections, typed records. Knows no models or tensors.

The byte layout is documented in ``docs/format.md``.
"""

from nvcodec.container.nrv import (
    FILE_FRAMING,
    FORMAT_MAJOR,
    FORMAT_MINOR,
    MAGIC,
    SECTION_FRAMING,
    Section,
    pack_nrv,
    packed_size,
    parse_nrv,
    read_nrv,
    read_version,
    section_size,
    write_nrv,
)
from nvcodec.container.record import decode_record, encode_record

__all__ = [
    "FILE_FRAMING",
    "FORMAT_MAJOR",
    "FORMAT_MINOR",
    "MAGIC",
    "SECTION_FRAMING",
    "Section",
    "decode_record",
    "encode_record",
    "pack_nrv",
    "packed_size",
    "parse_nrv",
    "read_nrv",
    "read_version",
    "section_size",
    "write_nrv",
]
