"""Read and write the section list of a ``.nrv`` file, with CRC32 per section and atomic writes.

Layout (all integers little-endian; see ``docs/format.md``)::

    magic      8 bytes  89 4E 52 56 0D 0A 1A 0A
    major      u16      a reader refuses a file whose major is newer than its own
    minor      u16      additions that older readers of the same major can ignore
    section*   tag[4] | video u16 | flags u16 | length u32 | payload[length] | crc32 u32
    'END '     payload = u32 number of sections before it, u32 CRC-32 of the 12 bytes of magic
               and version (video 0xFFFF); version 1.0 files have only the count

``video`` numbers the video a section belongs to, so one file can hold several videos.
The CRC covers the section's tag, video, flags, length and payload.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nvcodec.errors import CorruptFileError, NvcError
from nvcodec.files import write_atomic

MAGIC = b"\x89NRV\r\n\x1a\n"
FORMAT_MAJOR = 5
FORMAT_MINOR = 0
END_TAG = b"END "
END_VIDEO = 0xFFFF
MAX_SECTIONS = 1 << 16
_SECTION_HEAD = struct.Struct("<4sHHI")
SECTION_FRAMING = _SECTION_HEAD.size + 4
"""Bytes a section adds around its payload: tag, video, flags and length before it, CRC-32 after it."""
HEADER_SIZE = len(MAGIC) + 4
FILE_FRAMING = HEADER_SIZE + SECTION_FRAMING + 8
"""Bytes of a file around its sections: magic, version, and the END section (whose payload is 8 bytes)."""


@dataclass(frozen=True)
class Section:
    """One section: a 4-byte ASCII tag, the index of the video it belongs to, and its payload."""

    tag: bytes
    video: int
    payload: bytes
    flags: int = 0


def _pack_section(s: Section) -> bytes:
    if len(s.tag) != 4:
        raise ValueError("a section tag is 4 bytes")
    head = _SECTION_HEAD.pack(s.tag, s.video, s.flags, len(s.payload))
    return head + s.payload + struct.pack("<I", zlib.crc32(head + s.payload))


def pack_nrv(sections: Iterable[Section]) -> bytes:
    """Serialize sections (plus the header and the END trailer) to bytes."""
    body = [_pack_section(s) for s in sections]
    header = MAGIC + struct.pack("<HH", FORMAT_MAJOR, FORMAT_MINOR)
    end = _pack_section(Section(END_TAG, END_VIDEO, struct.pack("<II", len(body), zlib.crc32(header))))
    return header + b"".join(body) + end


def section_size(section: Section) -> int:
    """Bytes ``section`` takes in a file: its payload and its framing."""
    return len(section.payload) + SECTION_FRAMING


def packed_size(sections: Iterable[Section]) -> int:
    """Bytes of the file :func:`pack_nrv` would make of ``sections``, without making it."""
    return FILE_FRAMING + sum(section_size(s) for s in sections)


def version_of(data: bytes) -> tuple[int, int]:
    """The (major, minor) format version a parsed file's header states."""
    return struct.unpack_from("<HH", data, len(MAGIC))


def write_nrv(path: Path, sections: Iterable[Section]) -> int:
    """Write a ``.nrv`` file atomically; return its size in bytes."""
    data = pack_nrv(sections)
    write_atomic(Path(path), lambda tmp: tmp.write_bytes(data))
    return len(data)


def _sections(data: bytes, name: str) -> tuple[list[Section], bytes]:
    """Every section after the header, CRCs checked, and the END section's payload."""
    pos, sections = HEADER_SIZE, []
    while True:
        if pos + _SECTION_HEAD.size > len(data):
            raise CorruptFileError(name, f"truncated at byte {pos} (no END section)")
        tag, video, flags, length = _SECTION_HEAD.unpack_from(data, pos)
        label = tag.decode("ascii", "replace")
        end = pos + _SECTION_HEAD.size + length
        if end + 4 > len(data):
            raise CorruptFileError(name, f"section {label!r} at byte {pos} runs past the end of the file")
        (crc,) = struct.unpack_from("<I", data, end)
        if zlib.crc32(data[pos:end]) != crc:
            raise CorruptFileError(name, f"CRC mismatch in section {label!r} at byte {pos}")
        payload = data[pos + _SECTION_HEAD.size : end]
        pos = end + 4
        if tag == END_TAG:
            break
        sections.append(Section(tag, video, payload, flags))
        if len(sections) > MAX_SECTIONS:
            raise CorruptFileError(name, "too many sections")
    if pos != len(data):
        raise CorruptFileError(name, f"{len(data) - pos} bytes after the END section")
    return sections, payload


def _newer(name: str, major: int, minor: int) -> NvcError:
    return NvcError(
        f"{name}: .nrv format version {major}.{minor} is newer than this decoder "
        f"({FORMAT_MAJOR}.{FORMAT_MINOR}); upgrade nvcodec"
    )


def parse_nrv(data: bytes, name: str = "<bytes>") -> list[Section]:
    """Parse and verify a whole ``.nrv`` byte string; raise :class:`CorruptFileError` on any fault.

    The version is covered by the CRC-32 in the END section (since 1.1): a damaged version field is
    reported as damage, a genuinely newer major version as such. Version 1.x files are read as
    before (1.0 has no header CRC); 2.0 added learned tensor records, 3.0 predicted ones (see
    ``docs/format.md``)."""
    if len(data) < HEADER_SIZE or data[: len(MAGIC)] != MAGIC:
        if data[:4] == MAGIC[:4] or len(data) < len(MAGIC):
            raise CorruptFileError(name, "truncated or damaged file header")
        raise NvcError(f"{name}: not a .nrv file (bad magic)")
    major, minor = version_of(data)
    try:
        sections, end = _sections(data, name)
    except CorruptFileError:
        if major > FORMAT_MAJOR:
            raise _newer(name, major, minor) from None
        raise
    if len(end) == 8:
        count, header_crc = struct.unpack("<II", end)
        if header_crc != zlib.crc32(data[:HEADER_SIZE]):
            raise CorruptFileError(name, "damaged version field (header CRC mismatch)")
    elif len(end) == 4 and (major, minor) == (1, 0):
        (count,) = struct.unpack("<I", end)
    else:
        raise CorruptFileError(name, "END section does not match the version")
    if major > FORMAT_MAJOR:
        raise _newer(name, major, minor)
    if count != len(sections):
        raise CorruptFileError(name, "END section does not match the section count")
    return sections


def read_nrv(path: Path) -> list[Section]:
    """Read and verify a ``.nrv`` file from disk."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NvcError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise NvcError(f"{path}: is a directory") from None
    except OSError as exc:
        raise NvcError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_nrv(data, str(path))


@dataclass(frozen=True)
class SectionRef:
    """Where a section's payload sits in a file, found without reading it (see :func:`index_nrv`)."""

    tag: bytes
    video: int
    offset: int
    length: int
    flags: int = 0


def index_nrv(path: Path) -> list[SectionRef]:
    """The sections of the ``.nrv`` file at ``path`` from their 12-byte heads alone (payloads are
    skipped, not read or CRC-checked: :func:`read_payloads` does that for the ones needed). The
    header, the framing and the END section are checked as :func:`parse_nrv` checks them."""
    path = Path(path)
    name, size = str(path), _size_of(path)
    with open(path, "rb") as f:
        header = f.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or header[: len(MAGIC)] != MAGIC:
            parse_nrv(header, name)  # raises the bad-magic or truncated-header error
        refs, pos = [], HEADER_SIZE
        while True:
            f.seek(pos)
            head = f.read(_SECTION_HEAD.size)
            if len(head) < _SECTION_HEAD.size:
                raise CorruptFileError(name, f"truncated at byte {pos} (no END section)")
            tag, video, flags, length = _SECTION_HEAD.unpack(head)
            end = pos + _SECTION_HEAD.size + length
            if end + 4 > size:
                label = tag.decode("ascii", "replace")
                raise CorruptFileError(name, f"section {label!r} at byte {pos} runs past the end of the file")
            if tag == END_TAG:
                break
            refs.append(SectionRef(tag, video, pos, length, flags))
            if len(refs) > MAX_SECTIONS:
                raise CorruptFileError(name, "too many sections")
            pos = end + 4
    _check_end(path, header, pos, length, len(refs), size)
    return refs


def _size_of(path: Path) -> int:
    """The size of the file at ``path`` (one-line errors for a missing file or a directory)."""
    try:
        if path.is_dir():
            raise NvcError(f"{path}: is a directory")
        return path.stat().st_size
    except FileNotFoundError:
        raise NvcError(f"{path}: no such file") from None


def _read_at(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def _check_end(path: Path, header: bytes, pos: int, length: int, count: int, size: int) -> None:
    """The END section at ``pos``: its CRC, the header CRC, the section count, nothing after it."""
    name = str(path)
    major, minor = version_of(header)
    raw = _read_at(path, pos, _SECTION_HEAD.size + length + 4)
    (crc,) = struct.unpack_from("<I", raw, len(raw) - 4)
    if zlib.crc32(raw[:-4]) != crc:
        raise CorruptFileError(name, f"CRC mismatch in section 'END ' at byte {pos}")
    payload = raw[_SECTION_HEAD.size : -4]
    if major > FORMAT_MAJOR:
        raise _newer(name, major, minor)
    old = len(payload) == 4 and (major, minor) == (1, 0)
    if not old and (len(payload) != 8 or struct.unpack("<I", payload[4:])[0] != zlib.crc32(header)):
        raise CorruptFileError(name, "damaged version field or END section")
    if struct.unpack("<I", payload[:4])[0] != count:
        raise CorruptFileError(name, "END section does not match the section count")
    if pos + len(raw) != size:
        raise CorruptFileError(name, f"{size - pos - len(raw)} bytes after the END section")


def read_payloads(path: Path, refs: Iterable[SectionRef]) -> list[Section]:
    """The sections ``refs`` of the file at ``path`` (from :func:`index_nrv`), read and CRC-checked;
    nothing else of the file is read."""
    out = []
    with open(path, "rb") as f:
        for ref in refs:
            f.seek(ref.offset)
            raw = f.read(_SECTION_HEAD.size + ref.length + 4)
            (crc,) = struct.unpack_from("<I", raw, len(raw) - 4)
            if zlib.crc32(raw[:-4]) != crc:
                label = ref.tag.decode("ascii", "replace")
                raise CorruptFileError(str(path), f"CRC mismatch in section {label!r} at byte {ref.offset}")
            out.append(Section(ref.tag, ref.video, raw[_SECTION_HEAD.size : -4], ref.flags))
    return out


def read_version(path: Path) -> tuple[int, int]:
    """The (major, minor) version of the ``.nrv`` file at ``path`` (read it with :func:`read_nrv` first)."""
    with open(path, "rb") as f:
        return version_of(f.read(HEADER_SIZE))
