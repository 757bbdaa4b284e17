"""The Python API: encode, decode and info as functions, with the command line's checks raised as
exceptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nvcodec
from nvcodec.errors import CorruptFileError, NvcError, UsageError
from nvcodec.io import synthetic_clip
from nvcodec.metrics import mean_psnr


def test_frames_encode_decode_and_info(tmp_path: Path) -> None:
    frames = synthetic_clip(6, 32, 64, seed=4)
    out = tmp_path / "a.nrv"
    report = nvcodec.encode(frames, out, params=3000, epochs=2, frame_rate=30)
    assert out.is_file() and report.bytes == out.stat().st_size and report.frame_rate == 30.0
    decoded = nvcodec.decode(out)
    assert decoded.dtype == np.uint8 and decoded.shape == frames.shape
    assert mean_psnr(frames, decoded) == pytest.approx(report.psnr)
    assert np.array_equal(nvcodec.decode(out, frames=(2, 5)), decoded[2:5])
    described = nvcodec.info(out)
    assert described["videos"][0]["frames"] == 6 and described["videos"][0]["model"] == "hnerv"


def test_a_file_input_takes_the_command_line_s_options(clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.nrv"
    report = nvcodec.encode(clip_dir / "tiny.mkv", out, bpp=1.0, time="3s", frames=4, start=2, seed=1)
    assert report.frames == 4 and report.planned_seconds is not None
    with pytest.raises(NvcError, match="exists already"):
        nvcodec.encode(clip_dir / "tiny.mkv", out, bpp=1.0, epochs=1)
    assert nvcodec.encode(clip_dir / "tiny.mkv", out, params=2000, epochs=1, overwrite=True).params > 0


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        (np.zeros((2, 8, 8), np.uint8), {}, "uint8 array"),
        (np.zeros((2, 8, 8, 3), np.float32), {}, "uint8 array"),
        (synthetic_clip(2, 16, 16), {"bogus": 1}, "unknown option 'bogus'"),
        (synthetic_clip(2, 16, 16), {"bpp": -1.0}, "bpp"),
        (synthetic_clip(2, 16, 16), {"size": "16x16"}, "size"),
    ],
)
def test_bad_calls_raise_the_command_line_s_errors(
    source: np.ndarray, options: dict, message: str, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=message):
        nvcodec.encode(source, tmp_path / "c.nrv", **options)
    assert not (tmp_path / "c.nrv").exists()


def test_a_damaged_file_is_a_corrupt_file_error(small_nrv: Path, tmp_path: Path) -> None:
    data = bytearray(small_nrv.read_bytes())
    data[40] ^= 0xFF
    (tmp_path / "d.nrv").write_bytes(bytes(data))
    with pytest.raises(CorruptFileError):
        nvcodec.decode(tmp_path / "d.nrv")
    with pytest.raises(AttributeError):
        nvcodec.nothing  # noqa: B018
