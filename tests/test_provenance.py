"""The provenance section (``PROV``, format 4.2): the fields round-trip, the encoder records its
version and settings, ``info`` shows them, and a crafted section beyond the bounds is refused in
one line by ``info`` and ``decode``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nvcodec
from nvcodec.bitio import ReadError
from nvcodec.container import Section, encode_record, pack_nrv, read_nrv
from nvcodec.format.provenance import MAX_BYTES, TAG, pack_provenance, read_provenance
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.provenance import command_line


def test_fields_round_trip() -> None:
    fields = {"encoder": "nvcodec 9.9 (torch 2, cpu)", "command": "encode --bpp 0.1", "n": -3, "x": 0.25, "b": True}
    assert read_provenance(pack_provenance(fields)) == fields


@pytest.mark.parametrize(
    "fields",
    [
        {"command": "x" * 513},
        {"escape": "\x1b[2J"},
        {"": "empty name"},
        {"motion": (1, 2, 3)},
        {"x": float("nan")},
        {f"f{i}": i for i in range(33)},
    ],
    ids=["long text", "control character", "empty name", "tuple", "nan", "too many fields"],
)
def test_out_of_bounds_fields_are_refused_both_ways(fields: dict) -> None:
    with pytest.raises(ValueError):
        pack_provenance(fields)
    with pytest.raises(ReadError):
        read_provenance(encode_record(fields))


def test_oversize_payload_is_refused_before_parsing() -> None:
    with pytest.raises(ReadError, match=f"at most {MAX_BYTES}"):
        read_provenance(b"\x00" * (MAX_BYTES + 1))


def test_command_line_says_the_settings() -> None:
    assert command_line(EncodeOptions(epochs=3)) == "encode --model auto --bpp 0.05 --epochs 3"
    assert command_line(EncodeOptions(model="hnerv", epochs=3)) == "encode --model hnerv --bpp 0.05 --epochs 3"
    timed = EncodeOptions(model="hinerv", bpp=0.2, time=90.0, seed=4, lam=0.01, camera=None)
    assert command_line(timed) == "encode --model hinerv --bpp 0.2 --time 90s --seed 4 --lambda 0.01"
    assert command_line(EncodeOptions(params=5000, rd=False, weight_bits=6)).endswith(
        "--params 5000 --preset medium --weight-bits 6 --no-rd"
    )


def test_info_shows_how_a_file_was_made(cli, small_nrv: Path) -> None:
    code, out, err = cli("info", small_nrv)
    assert code == 0, err
    assert f"made by (video 0): nvcodec {nvcodec.__version__} (torch " in out
    assert "command: encode --model hnerv --params 3000 --epochs 1" in out
    assert nvcodec.info(small_nrv)["videos"][0]["provenance"]["command"].startswith("encode --model hnerv")


def _with_provenance(good: Path, path: Path, payload: bytes) -> Path:
    sections = [Section(TAG, 0, payload) if s.tag == TAG else s for s in read_nrv(good)]
    path.write_bytes(pack_nrv(sections))
    return path


@pytest.mark.parametrize(
    "payload",
    [encode_record({"command": "y" * 300, **{f"f{i}": "z" * 300 for i in range(7)}}), encode_record({"e": "\x07"})],
    ids=["oversize", "control character"],
)
def test_crafted_section_is_refused_in_one_line(cli, small_nrv: Path, tmp_path: Path, payload: bytes) -> None:
    bad = _with_provenance(small_nrv, tmp_path / "bad.nrv", payload)
    for argv in (("info", bad), ("decode", bad, "-o", tmp_path / "out.mkv")):
        code, out, err = cli(*argv)
        assert code != 0 and out == ""
        assert len(err.strip().splitlines()) == 1 and "bad.nrv" in err and "provenance" in err, err
    assert not (tmp_path / "out.mkv").exists()


def test_api_encode_records_its_options(clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.nrv"
    nvcodec.encode(clip_dir / "tiny.mkv", out, params=3000, epochs=1, seed=2)
    made = json.loads(json.dumps(nvcodec.info(out)["videos"][0]["provenance"]))
    assert made["command"] == "encode --model hnerv --params 3000 --epochs 1 --seed 2"
