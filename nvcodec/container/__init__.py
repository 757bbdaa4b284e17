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
    SectionRef,
    index_nrv,
    pack_nrv,
    packed_size,
    parse_nrv,
    read_nrv,
    read_payloads,
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
    "SectionRef",
    "decode_record",
    "encode_record",
    "index_nrv",
    "pack_nrv",
    "packed_size",
    "parse_nrv",
    "read_nrv",
    "read_payloads",
    "read_version",
    "section_size",
    "write_nrv",
]
