"""The .nrv container: round trip, truncation and bit flips detected, version and magic checked."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from helpers import with_version

from nvcodec.bitio import ByteReader
from nvcodec.container import MAGIC, Section, decode_record, encode_record, read_nrv, write_nrv
from nvcodec.container.nrv import pack_nrv, parse_nrv
from nvcodec.errors import CorruptFileError, NvcError

SECTIONS = [Section(b"VHDR", 0, b"\x01" * 20), Section(b"PARM", 0, bytes(range(200))), Section(b"EMBD", 1, b"")]


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "a.nrv"
    size = write_nrv(path, SECTIONS)
    assert size == path.stat().st_size
    assert read_nrv(path) == SECTIONS
    assert path.read_bytes()[:8] == MAGIC


def test_every_truncation_is_detected() -> None:
    data = pack_nrv(SECTIONS)
    for n in range(len(data)):
        with pytest.raises(NvcError):
            parse_nrv(data[:n], "x.nrv")


def test_every_byte_flip_is_detected() -> None:
    data = pack_nrv(SECTIONS)
    for i in range(12, len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x10
        with pytest.raises(CorruptFileError):
            parse_nrv(bytes(flipped), "x.nrv")


def test_trailing_garbage_is_detected() -> None:
    with pytest.raises(CorruptFileError, match="after the END"):
        parse_nrv(pack_nrv(SECTIONS) + b"\x00", "x.nrv")


def test_newer_major_version_is_refused() -> None:
    with pytest.raises(NvcError, match="newer than this decoder"):
        parse_nrv(with_version(pack_nrv(SECTIONS), 99, 0), "x.nrv")


@pytest.mark.parametrize(("offset", "value"), [(8, 7), (10, 9), (8, 1)])
def test_damaged_version_field_is_damage_not_a_newer_file(offset: int, value: int) -> None:
    data = bytearray(pack_nrv(SECTIONS))
    struct.pack_into("<H", data, offset, value)
    with pytest.raises(CorruptFileError, match="version"):
        parse_nrv(bytes(data), "x.nrv")


def test_version_1_0_files_still_read() -> None:
    old = with_version(pack_nrv(SECTIONS), 1, 0, legacy_end=True)
    assert len(old) == len(pack_nrv(SECTIONS)) - 4
    assert parse_nrv(old, "old.nrv") == SECTIONS
    with pytest.raises(CorruptFileError, match="END"):  # a 1.1 file must carry the header CRC
        parse_nrv(with_version(pack_nrv(SECTIONS), 1, 1, legacy_end=True), "x.nrv")


def test_not_an_nrv_file() -> None:
    with pytest.raises(NvcError, match="not a .nrv file"):
        parse_nrv(b"RIFF" + b"\x00" * 100, "x.wav")


def test_record_round_trip() -> None:
    fields = {"height": 640, "strides": (5, 4, 4, 2, 2), "reduce": 1.2, "flag": True, "name": "gelu", "neg": -3}
    r = ByteReader(encode_record(fields))
    assert decode_record(r) == fields
    assert r.remaining == 0
