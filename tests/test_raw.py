"""Raw planar video: ``.yuv`` and ``.y4m`` inputs at 8 and 10 bits, their planes kept exactly, the
field's metrics against them, and ``.yuv`` / ``.y4m`` outputs in the pixel format asked for."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from nvcodec.io import InputSpec, raw_format, read_video
from nvcodec.io.raw import RAW_PIX_FMTS, RawFormat, name_hints
from nvcodec.metrics import kbps, plane_psnr

T, H, W = 4, 32, 64


def _planes(depth: int, sub: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Smooth test planes (a moving ramp, flat-ish chroma) at ``depth`` bits, chroma 1/``sub`` a side."""
    peak, rng = (1 << depth) - 1, np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    out = []
    for t in range(T):
        y = ((xx * peak // W + yy + 3 * t) % (peak + 1)).astype(np.uint16)
        u, v = (rng.integers(peak // 3, 2 * peak // 3, (H // sub, W // sub)).astype(np.uint16) for _ in range(2))
        out.append((y, u, v))
    return out


def _write_raw(path: Path, pix_fmt: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    depth, sub = RAW_PIX_FMTS[pix_fmt]
    planes = _planes(depth, sub)
    dtype = "<u2" if depth > 8 else "u1"
    path.write_bytes(b"".join(p.astype(dtype).tobytes() for frame in planes for p in frame))
    return planes


@pytest.mark.parametrize(
    ("name", "hints"),
    [
        ("Beauty_1920x1080_120fps_10bit_420.yuv", {"size": "1920x1080", "fps": "120", "pix_fmt": "yuv420p10le"}),
        ("BasketballDrive_1920x1080_50.yuv", {"size": "1920x1080", "fps": "50"}),
        ("clip_176x144_444.yuv", {"size": "176x144", "pix_fmt": "yuv444p"}),
        ("foreman_cif.yuv", {}),
    ],
)
def test_conventional_names_state_size_rate_and_format(name: str, hints: dict[str, str]) -> None:
    assert name_hints(name) == hints


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv420p10le", "yuv444p"])
def test_a_raw_file_reads_back_its_own_planes(pix_fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yuv"
    planes = _write_raw(path, pix_fmt)
    form = raw_format(path, f"{W}x{H}", "30000/1001", pix_fmt)
    assert form == RawFormat(W, H, form.fps, pix_fmt) and float(form.fps) == pytest.approx(29.97, abs=1e-3)
    source = InputSpec(path, raw=form)
    assert source.count() == T
    video = source.read()
    assert video.pix_fmt == pix_fmt and video.frames.shape == (T, H, W, 3) and video.planes is not None
    for k in range(3):
        assert np.array_equal(video.planes[k], np.stack([p[k] for p in planes]))
    later = next(source.spans([(1, 2)]))
    assert later.planes is not None and np.array_equal(later.planes[0], video.planes[0][1:3])
    assert video.notes == []  # reading keeps every plane; what a fit makes of them is the encode's to say


def test_plane_psnr_matches_a_hand_count() -> None:
    ref = (np.zeros((2, 4, 4), np.uint16), np.zeros((2, 2, 2), np.uint16), np.zeros((2, 2, 2), np.uint16))
    rec = (np.full((2, 4, 4), 4, np.uint16), np.full((2, 2, 2), 1, np.uint16), ref[2].copy())
    got = plane_psnr(ref, rec, 10)
    y, u = 10 * np.log10(1023**2 / 16), 10 * np.log10(1023**2 / 1)  # 48.156, 60.198
    assert got["psnr_y"] == pytest.approx(y) and got["psnr_u"] == pytest.approx(u) and got["psnr_v"] == 100.0
    assert got["psnr_yuv"] == pytest.approx((6 * y + u + 100.0) / 8)
    assert kbps(1000, 25, 25.0) == pytest.approx(8.0)


def _one_line_error(code: int, out: str, err: str, *words: str) -> None:
    assert code != 0 and out == "" and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and all(w in lines[0] for w in words), err


def test_a_raw_input_without_size_or_with_a_wrong_one_is_one_line(cli, tmp_path: Path) -> None:
    path, out = tmp_path / "c.yuv", tmp_path / "c.nrv"
    _write_raw(path, "yuv420p")
    _one_line_error(*cli("encode", path, "-o", out, "--params", "2000", "--epochs", "1", "-q"), "--size", "c.yuv")
    code, stdout, err = cli("encode", path, "-o", out, "--size", "64x30", "--params", "2000", "--epochs", "1")
    _one_line_error(code, stdout, err, "c.yuv", "not a whole number", "64x30")
    assert not out.exists()


def test_raw_options_on_a_container_input_are_refused(cli, clip_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "t.nrv", "--size", "64x32", "--epochs", "1")
    _one_line_error(code, out, err, "--size")


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv420p10le"])
def test_raw_420_encodes_and_decodes_to_planes_of_its_format(pix_fmt: str, cli, tmp_path: Path) -> None:
    source, nrv = tmp_path / f"clip_{W}x{H}_30fps.yuv", tmp_path / "c.nrv"  # not FFmpeg's default 25
    _write_raw(source, pix_fmt)
    code, out, err = cli(
        "encode", source, "-o", nrv, "--pix-fmt", pix_fmt, "--params", "3000", "--epochs", "2", "--json", "-q"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["pix_fmt"] == pix_fmt and 0 < report["psnr_y"] < 100 and report["frame_rate"] == 30.0
    assert report["kmac_per_pixel"] > 0
    assert report["psnr_yuv"] == pytest.approx((6 * report["psnr_y"] + report["psnr_u"] + report["psnr_v"]) / 8, 1e-3)
    assert report["kbps"] == pytest.approx(report["bytes"] * 8 * 30 / T / 1000)
    for ext in (".yuv", ".y4m"):
        rec = tmp_path / f"rec{ext}"
        assert cli("decode", nrv, "-o", rec, "--pix-fmt", pix_fmt, "-q")[0] == 0
        form = RawFormat(W, H, Fraction(30), pix_fmt)
        video = InputSpec(rec, raw=form).read() if ext == ".yuv" else read_video(rec)
        assert video.pix_fmt == pix_fmt and video.planes is not None and video.num_frames == T
        assert video.fps == 30  # the source's rate, kept in the file and written by the decode
        assert [p.shape for p in video.planes] == [(T, H, W), (T, H // 2, W // 2), (T, H // 2, W // 2)]
        depth = RAW_PIX_FMTS[pix_fmt][0]
        assert plane_psnr(
            InputSpec(source, raw=raw_format(source, None, None, pix_fmt)).read().planes, video.planes, depth
        )["psnr_y"] == pytest.approx(report["psnr_y"], abs=1e-6)


def test_an_output_that_cannot_hold_the_pixel_format_is_refused(cli, small_nrv: Path, tmp_path: Path) -> None:
    _one_line_error(*cli("decode", small_nrv, "-o", tmp_path / "r.mkv", "--pix-fmt", "yuv420p"), "--pix-fmt")
    _one_line_error(*cli("decode", small_nrv, "-o", tmp_path / "r.mp4", "--pix-fmt", "yuv420p10le"), "--pix-fmt")
    assert not (tmp_path / "r.mkv").exists() and not (tmp_path / "r.mp4").exists()


def test_odd_sized_420_reads_and_decodes_to_its_own_format(cli, tmp_path: Path) -> None:
    """A 4:2:0 frame with odd sides (chroma of half the sides rounded up, as FFmpeg has it) is read
    from a raw file and decoded by default to Y4M and raw files of that format, plane by plane."""
    height, width, frames = 27, 35, 3
    rng = np.random.default_rng(1)
    sizes = [(height, width), ((height + 1) // 2, (width + 1) // 2), ((height + 1) // 2, (width + 1) // 2)]
    planes = [[rng.integers(60, 200, s, dtype=np.uint8) for s in sizes] for _ in range(frames)]
    source, nrv = tmp_path / f"odd_{width}x{height}.yuv", tmp_path / "o.nrv"
    source.write_bytes(b"".join(p.tobytes() for frame in planes for p in frame))
    read = InputSpec(source, raw=raw_format(source, None, None, None)).read()
    assert read.planes is not None and all(
        np.array_equal(read.planes[i], np.stack([f[i] for f in planes])) for i in range(3)
    )
    code, out, err = cli("encode", source, "-o", nrv, "--params", "2000", "--epochs", "2", "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    for ext in (".y4m", ".yuv"):
        rec = tmp_path / f"rec{ext}"
        assert cli("decode", nrv, "-o", rec, "-q")[0] == 0
        form = RawFormat(width, height, Fraction(25), "yuv420p")
        video = InputSpec(rec, raw=form).read() if ext == ".yuv" else read_video(rec)
        assert video.pix_fmt == "yuv420p" and video.planes is not None
        assert [p.shape for p in video.planes] == [(frames, *s) for s in sizes]
        assert plane_psnr(read.planes, video.planes, 8)["psnr_y"] == pytest.approx(report["psnr_y"], abs=1e-6)
