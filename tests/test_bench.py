"""The benchmark: BD-rate sanity, monotone anchors, an end-to-end run writing JSON/CSV/PNG, resume."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from nvcodec.bench import runner
from nvcodec.bench.anchors import run_anchor
from nvcodec.bench.bdrate import bd_metrics
from nvcodec.bench.plot import caption, title
from nvcodec.io import read_video, synthetic_clip
from nvcodec.io.raw import planes_to_rgb
from nvcodec.metrics import mean_psnr

CURVE = [(0.05, 29.0), (0.1, 31.5), (0.2, 34.0), (0.4, 36.2)]


def test_bd_rate_of_a_curve_against_itself_is_zero() -> None:
    m = bd_metrics(CURVE, CURVE)
    assert m["bd_rate_percent"] == pytest.approx(0.0, abs=1e-9)
    assert m["bd_psnr_db"] == pytest.approx(0.0, abs=1e-9)


def test_half_the_bits_is_minus_fifty_percent() -> None:
    half = [(r / 2, q) for r, q in CURVE]
    assert bd_metrics(CURVE, half)["bd_rate_percent"] == pytest.approx(-50.0, abs=0.5)


def test_no_overlap_is_not_a_number() -> None:
    m = bd_metrics(CURVE, [(r, q - 20) for r, q in CURVE])
    assert m["bd_rate_percent"] is None and "do not overlap" in m["note"]


def test_points_below_the_front_are_left_out_not_a_crash() -> None:
    bumpy = [(0.05, 29.0), (0.1, 28.5), (0.2, 34.0), (0.4, 36.2)]
    m = bd_metrics(CURVE, bumpy)
    assert m["bd_rate_percent"] is not None and "left out" in m["note"]
    m = bd_metrics(CURVE, [(0.1, 30.0), (0.2, 29.0)])
    assert m["bd_rate_percent"] is None and "fewer than two" in m["note"]


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_anchor_points_are_monotone(codec: str) -> None:
    frames = synthetic_clip(6, 32, 64, seed=3)
    points = [run_anchor(frames, Fraction(25), codec, crf, "medium", "yuv420p") for crf in (18, 30, 42)]
    bits = [p.bits for p in points]
    psnr = [mean_psnr(frames, p.decoded) for p in points]
    assert bits[0] > bits[1] > bits[2]
    assert psnr[0] > psnr[1] > psnr[2]
    assert points[0].version.startswith(codec[3:])
    planes = points[0].planes
    assert planes is not None and [p.shape for p in planes] == [(6, 32, 64), (6, 16, 32), (6, 16, 32)]


@pytest.mark.parametrize(("pix_fmt", "top"), [("yuv420p", 255), ("yuv420p10le", 1023)])
def test_an_anchor_codes_the_source_s_own_planes(pix_fmt: str, top: int) -> None:
    """Planes no RGB frame holds (noise at the source's depth) come back exactly from a lossless
    x264 (CRF 0) when given as planes, and not when the anchor is given the RGB frames alone."""
    frames = synthetic_clip(3, 32, 64, seed=3)
    rng = np.random.default_rng(0)
    shapes = [(3, 32, 64), (3, 16, 32), (3, 16, 32)]
    planes = tuple(
        rng.integers(top // 16, top - top // 16, s).astype(np.uint16 if top > 255 else np.uint8) for s in shapes
    )
    own = run_anchor(frames, Fraction(25), "libx264", 0.0, "medium", pix_fmt, planes=planes)
    assert own.planes is not None and all(np.array_equal(a, b) for a, b in zip(own.planes, planes, strict=True))
    rgb = run_anchor(frames, Fraction(25), "libx264", 0.0, "medium", pix_fmt)
    assert rgb.planes is not None and not np.array_equal(rgb.planes[0], planes[0])


def test_an_anchor_codes_odd_sized_420_planes_and_crops_them_back() -> None:
    """x264 takes 4:2:0 only at even sides: an odd-sized source's own planes come back exactly from
    a lossless anchor (its luma padded for the encoder and cropped after), at the source's size."""
    frames = synthetic_clip(2, 27, 35, seed=4)
    rng = np.random.default_rng(1)
    planes = tuple(rng.integers(16, 240, s).astype(np.uint8) for s in [(2, 27, 35), (2, 14, 18), (2, 14, 18)])
    own = run_anchor(frames, Fraction(25), "libx264", 0.0, "medium", "yuv420p", planes=planes)
    assert own.planes is not None and all(np.array_equal(a, b) for a, b in zip(own.planes, planes, strict=True))
    rgb = [planes_to_rgb(tuple(p[i] for p in planes), "yuv420p") for i in range(len(frames))]
    assert np.array_equal(own.decoded, np.stack(rgb))
    odd = run_anchor(frames, Fraction(25), "libx264", 18.0, "medium", "yuv420p")
    even = run_anchor(frames[:, :26, :34], Fraction(25), "libx264", 18.0, "medium", "yuv420p")
    assert odd.decoded.shape == frames.shape
    assert abs(mean_psnr(frames, odd.decoded) - mean_psnr(frames[:, :26, :34], even.decoded)) < 1.0


def test_bench_end_to_end_and_resume(cli, clip_dir: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "bench"
    args = [
        "bench",
        clip_dir / "tiny.mkv",
        "--models",
        "hnerv",
        "--bpp",
        "3,6",
        "--anchors",
        "x264,x265",
        "--epochs",
        "2",
        "--out",
        out,
        "--json",
        "-q",
    ]
    code, stdout, err = cli(*args)
    assert code == 0, err
    result = json.loads((out / "results.json").read_text())
    curves = {p["curve"] for p in result["points"]}
    assert curves == {"hnerv", "x264 medium yuv420p", "x265 medium yuv420p"}
    assert len([p for p in result["points"] if p["kind"] == "nvcodec"]) == 2
    assert {(b["model"], b["anchor"], b["metric"]) for b in result["bd_rate"]} >= {
        ("hnerv", "x265 medium yuv420p", "psnr"),
        ("hnerv", "x264 medium yuv420p", "psnr"),
    }
    assert json.loads(stdout)["bd_rate"] == result["bd_rate"]
    with (out / "results.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(result["points"])
    pngs = list(out.glob("rd_*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    clip = result["points"][0]["clip"]
    assert "<svg" in (out / f"rd_{clip}.svg").read_text()
    assert title(result["points"], clip) == f"{clip}: 64x32, 8 frames at 25 fps"
    assert {("hnerv", "x265 medium yuv420p", "psnr_yuv")} <= {
        (b["model"], b["anchor"], b["metric"]) for b in result["bd_rate"]
    }
    yuv_line = caption(result["bd_rate"], clip).splitlines()[-1]
    assert yuv_line.startswith("BD-rate (YUV PSNR): ") and "hnerv vs x265 medium yuv420p: " in yuv_line
    ours = [p for p in result["points"] if p["kind"] == "nvcodec"]
    assert all(0.85 * p["budget"] <= p["bpp"] <= p["budget"] for p in ours)
    source = read_video(clip_dir / "tiny.mkv").frames
    assert all(0 < p["psnr"] < 100 for p in result["points"]) and source.shape[0] == 8
    for p in result["points"]:  # an RGB source's planes: yuv420p; anchors measured on their decoder's planes
        assert p["yuv_pix_fmt"] == "yuv420p" and 0 < p["psnr_y"] <= 100 and 0 < p["psnr_u"] <= 100
        assert p["psnr_yuv"] == pytest.approx((6 * p["psnr_y"] + p["psnr_u"] + p["psnr_v"]) / 8)
        assert p["kbps"] == pytest.approx(p["bpp"] * 32 * 64 * 25 / 1000, rel=0.02)
    assert all(p["kmac_per_pixel"] > 0 for p in ours)
    exported = json.loads((out / "compressai" / clip / "hnerv.json").read_text())
    assert exported["name"] == "hnerv" and exported["results"]["bpp"] == sorted(p["bpp"] for p in ours)
    assert len(exported["results"]["psnr-yuv"]) == 2 and "kmac-per-pixel" in exported["results"]
    assert (out / "compressai" / clip / "x265-medium-yuv420p.json").is_file()

    def forbidden(*a, **k):
        raise AssertionError("a finished point was run again")

    monkeypatch.setattr("nvcodec.pipeline.encode_video", forbidden)
    monkeypatch.setattr("nvcodec.bench.anchors.anchor_at_bpp", forbidden)
    code, _, err = cli(*args, "--resume")
    assert code == 0, err
    assert json.loads((out / "results.json").read_text())["points"] == result["points"]


def test_bench_rejects_unknown_anchor(cli, tmp_path: Path) -> None:
    code, _, err = cli("bench", "--anchors", "vvc", "--out", tmp_path, "-q")
    assert code != 0 and "vvc" in err and "Traceback" not in err


def test_an_x265_anchor_on_narrow_frames_is_refused_before_any_work(cli, tmp_path: Path) -> None:
    """libx265 aborts the process on some frames under 64 pixels wide: the bench says so in one line
    before coding anything; x264 codes them."""
    from nvcodec.io import write_video

    clip = tmp_path / "narrow.mkv"
    write_video(clip, synthetic_clip(2, 32, 40, seed=1), Fraction(25))
    code, _, err = cli("bench", clip, "--anchors", "x265", "--bpp", "1", "--out", tmp_path / "b", "-q")
    assert code != 0 and "narrow" in err and "64" in err and "x264" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "b" / "results.json").exists()


def test_synthetic_default_clip_name(monkeypatch) -> None:
    monkeypatch.setattr("nvcodec.io.sample.find_bunny", lambda: None)
    name, video = runner.load_clip(None, runner.BenchConfig(frames=4, scale=8))
    assert name.startswith("synthetic") and video.frames.shape == (4, 80, 160, 3)


def test_a_refused_budget_is_left_off_the_plot(tmp_path: Path) -> None:
    from nvcodec.bench.plot import plot_clip

    ours = [{"clip": "c", "curve": "hnerv", "kind": "nvcodec", "bpp": b, "psnr": p, "ms_ssim": 0.9} for b, p in CURVE]
    refused = {"clip": "c", "curve": "hnerv", "kind": "nvcodec", "budget": 0.01, "error": "budget too small"}
    plot_clip([refused, *ours], "c", tmp_path / "rd.png")
    assert (tmp_path / "rd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_curves_get_bd_rates_against_the_references_once_each() -> None:
    def curve(codec: str, kind: str, factor: float) -> list[dict]:
        return [
            {"clip": "c", "codec": codec, "curve": codec, "kind": kind, "bpp": factor * b, "psnr": q, "ms_ssim": q / 40}
            for b, q in ((0.05, 26.0), (0.1, 28.0), (0.2, 30.0), (0.4, 32.0))
        ]

    rows = curve("x265", "anchor", 0.5) + curve("hnerv", "nvcodec", 1.0) + curve("hinerv", "nvcodec", 0.5)
    rows += curve("hnerv+post", "nvcodec", 2.0)
    table = runner.bd_table(rows, ("hnerv", "hnerv+post"))
    pairs = [(r["model"], r["anchor"]) for r in table if r["metric"] == "psnr"]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == {
        ("hnerv", "x265"), ("hnerv", "hnerv+post"),
        ("hinerv", "x265"), ("hinerv", "hnerv"), ("hinerv", "hnerv+post"),
        ("hnerv+post", "x265"), ("hnerv+post", "hnerv"),
    }  # fmt: skip
    rate = {(r["model"], r["anchor"]): r["bd_rate_percent"] for r in table if r["metric"] == "psnr"}
    assert rate[("hinerv", "hnerv")] == pytest.approx(-50.0, abs=0.5)
    assert rate[("hinerv", "x265")] == pytest.approx(0.0, abs=0.5)
    assert rate[("hinerv", "hnerv+post")] == pytest.approx(-75.0, abs=0.5)


def test_a_curve_is_data_its_label_only_a_name() -> None:
    from nvcodec.bench.config import BenchConfig, Curve

    assert Curve.parse("hnerv+post") == Curve("hnerv", "post") and Curve("hnerv", "rd").label == "hnerv+rd"
    assert BenchConfig(models=("hinerv", "hnerv+rd")).curves == (Curve("hinerv"), Curve("hnerv", "rd"))
    row = runner._our_row("c", Curve("hnerv", "post"), 0.1, BenchConfig(), 3)
    assert (row["model"], row["compression"], row["curve"]) == ("hnerv", "post", "hnerv+post")
    assert runner._options(Curve("hnerv", "post"), 0.1, BenchConfig()).rd is False


def test_a_native_curve_on_a_planar_clip(cli, tmp_path: Path) -> None:
    from fractions import Fraction

    from nvcodec.bench.config import Curve
    from nvcodec.io import synthetic_clip, write_video

    clip = tmp_path / "c420.y4m"
    write_video(clip, synthetic_clip(8, 32, 64, seed=2), Fraction(25), pix_fmt="yuv420p")
    out = tmp_path / "bench"
    args = ["--models", "hnerv+yuv", "--bpp", "3,6", "--anchors", "x265", "--epochs", "1", "--json", "-q"]
    code, _, err = cli("bench", clip, *args, "--out", out)
    assert code == 0, err
    points = json.loads((out / "results.json").read_text())["points"]
    native = [p for p in points if p["curve"] == "hnerv+yuv"]
    assert len(native) == 2 and all(p["yuv_pix_fmt"] == "yuv420p" and p["psnr_yuv"] > 0 for p in native)
    assert Curve.parse("hnerv+yuv") == Curve("hnerv", "yuv") and Curve("hnerv", "yuv").yuv is True
    assert Curve.parse("hnerv+rgb") == Curve("hnerv", "rgb") and Curve("hnerv", "rgb").yuv is False
    assert Curve("hnerv").yuv is None  # the encoder's default: a planar clip's planes
