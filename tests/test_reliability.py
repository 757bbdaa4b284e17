"""Reliability: outputs never destroy inputs, existing files are replaced only when asked, hostile
and damaged files fail cleanly and fast under a memory limit, signals and kills leave nothing behind,
and every outcome has its own exit status."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from helpers import one_line

from nvcodec.io import read_video, synthetic_clip, write_video
from nvcodec.progress import Reporter

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--params", "3000", "--epochs", "1", "-q"]


@pytest.mark.parametrize("model", ["hnerv", "pfnr"])
def test_output_equal_to_input_is_refused_and_the_input_kept(cli, clip_dir: Path, tmp_path: Path, model: str) -> None:
    clip = tmp_path / "clip.mkv"
    clip.write_bytes((clip_dir / "tiny.mkv").read_bytes())
    before = clip.read_bytes()
    alias = tmp_path / "alias.mkv"
    alias.symlink_to(clip)
    for out in (clip, alias, tmp_path / "." / "clip.mkv"):
        code, _, err = cli("encode", clip, "-o", out, "--model", model, "--bpp", "2", "--epochs", "1", "-q", "-y")
        assert code == 1 and "is the input too" in err and one_line(err)
    assert clip.read_bytes() == before


def test_decode_onto_its_input_is_refused(cli, small_nrv: Path, tmp_path: Path) -> None:
    link = tmp_path / "same.mkv"
    link.symlink_to(small_nrv)
    before = small_nrv.read_bytes()
    code, _, err = cli("decode", small_nrv, "-o", link, "-q", "-y")
    assert code == 1 and "is the input too" in err and small_nrv.read_bytes() == before


def test_existing_output_needs_overwrite_and_a_link_stays_a_link(cli, small_nrv: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec.mkv"
    out.write_bytes(b"keep me")
    code, _, err = cli("decode", small_nrv, "-o", out, "-q")
    assert code == 1 and "exists already (use -y / --overwrite" in err and out.read_bytes() == b"keep me"
    out.chmod(0o640)
    assert cli("decode", small_nrv, "-o", out, "-q", "-y")[0] == 0 and read_video(out).num_frames == 8
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # a replaced file keeps its permissions
    target, link = tmp_path / "target.mkv", tmp_path / "link.mkv"
    target.write_bytes(b"old")
    link.symlink_to(target)
    assert cli("decode", small_nrv, "-o", link, "-q", "--overwrite")[0] == 0
    assert link.is_symlink() and read_video(target).num_frames == 8


def test_append_to_a_read_only_archive_is_refused(cli, clip_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "ro.nrv"
    assert cli("encode", clip_dir / "tiny.mkv", "-o", archive, "--model", "pfnr", "--bpp", "2", "--epochs", "1")[0] == 0
    archive.chmod(0o444)
    before = archive.read_bytes()
    code, _, err = cli("append", archive, clip_dir / "tiny.mkv", "--bpp", "2", "--epochs", "1", "-q")
    if os.geteuid() != 0:  # root may write anything, but is refused all the same
        assert not os.access(archive, os.W_OK)
    assert code == 1 and "read-only" in err and archive.read_bytes() == before
    assert stat.S_IMODE(archive.stat().st_mode) == 0o444


@pytest.mark.parametrize(
    "args",
    [
        ["--bpp", "inf"],
        ["--bpp", "1e9"],
        ["--params", "1000000000000"],
        ["--lr", "nan"],
        ["--lr", "-1"],
        ["--crop", "0x0"],
        ["--crop=-4x8"],
        ["--scale", "0"],
    ],
)
def test_bad_options_are_usage_errors_inone_line(cli, clip_dir: Path, tmp_path: Path, args: list[str]) -> None:
    started = time.perf_counter()
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "o.nrv", "--epochs", "1", "-q", *args)
    assert code == 2 and one_line(err) and not (tmp_path / "o.nrv").exists()
    assert time.perf_counter() - started < 5  # refused before any fitting


@pytest.mark.parametrize("name", ["a%.png", "f_%s.png", "100%.png", "x.avi"])
def test_bad_output_names_are_usage_errors(cli, small_nrv: Path, tmp_path: Path, name: str) -> None:
    code, _, err = cli("decode", small_nrv, "-o", tmp_path / name, "-q")
    assert code == 2 and one_line(err) and list(tmp_path.iterdir()) == []


def test_a_percent_sign_in_an_input_name_is_just_a_name(cli, clip_dir: Path, tmp_path: Path) -> None:
    clip = tmp_path / "100%.mkv"
    clip.write_bytes((clip_dir / "tiny.mkv").read_bytes())
    code, out, err = cli("encode", clip, "-o", tmp_path / "p.nrv", *FAST, "--json")
    assert code == 0, err and json.loads(out)["frames"] == 8


def test_width_one_clip_decodes_to_mkv_with_a_clean_error(cli, tmp_path: Path) -> None:
    clip = tmp_path / "w1.y4m"
    write_video(clip, np.ascontiguousarray(synthetic_clip(8, 32, 64, seed=1)[:, :, :1]), Fraction(25, 1))
    assert cli("encode", clip, "-o", tmp_path / "w1.nrv", "--params", "700", "--epochs", "1", "-q")[0] == 0
    code, _, err = cli("decode", tmp_path / "w1.nrv", "-o", tmp_path / "w1.mkv", "-q")
    assert code == 1 and "ffv1 cannot write these frames" in err and one_line(err)
    assert not (tmp_path / "w1.mkv").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["w1.nrv", "w1.y4m"]


def test_an_infeasible_budget_is_refused_before_fitting(cli, clip_dir: Path, tmp_path: Path, monkeypatch) -> None:
    def no_fitting(self, name: str, total: int) -> int:
        assert name != "fit", "fitting started for a budget that cannot be reached"
        return 0

    monkeypatch.setattr(Reporter, "start", no_fitting)
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "o.nrv", "--bpp", "0.3", "-q")
    assert code == 1 and "too small for this clip" in err and "smallest" in err


def test_exit_status_tells_usage_input_and_internal_errors_apart(cli, tmp_path: Path, monkeypatch) -> None:
    assert cli("encode", "--model", "vvc", "--sample")[0] == 2
    assert cli("info", tmp_path / "missing.nrv")[0] == 1
    assert cli("bench", "--anchors", "x264", "--frobnicate")[0] == 2  # the option parser's own error

    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("nvcodec.pipeline.file_info", bug)
    (tmp_path / "x.nrv").write_bytes(b"")
    code, _, err = cli("info", tmp_path / "x.nrv")
    assert code == 3 and "internal error: RuntimeError: a bug" in err and one_line(err)


def test_help_and_version_flags(cli) -> None:
    code, out, _ = cli("-h")
    assert code == 0 and "encode" in out
    code, out, _ = cli("decode", "-h")
    assert code == 0 and "Usage: nvcodec decode [OPTIONS] INPUT" in out and "{" not in out.splitlines()[0]
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("nvcodec ") and ".nrv format 5.0" in out


def test_png_frames_are_numbered_by_frame_and_stale_ones_removed(cli, small_nrv: Path, tmp_path: Path) -> None:
    pattern = tmp_path / "f_%04d.png"
    assert cli("decode", small_nrv, "-o", pattern, "-q")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f_{k:04d}.png" for k in range(8)]
    code, _, err = cli("decode", small_nrv, "-o", pattern, "--frames", "5:7", "-q")
    assert code == 1 and "exists already" in err  # an earlier decode's frames are there
    assert cli("decode", small_nrv, "-o", pattern, "--frames", "5:7", "-q", "-y")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f_0005.png", "f_0006.png"]


def test_mp4_is_yuv420p_by_default_and_444_on_request(cli, small_nrv: Path, clip_dir: Path, tmp_path: Path) -> None:
    def pix_fmt(path: Path) -> str:
        with av.open(str(path)) as c:
            return c.streams.video[0].codec_context.pix_fmt

    assert cli("decode", small_nrv, "-o", tmp_path / "a.mp4", "-q")[0] == 0
    assert cli("decode", small_nrv, "-o", tmp_path / "b.mp4", "--pix-fmt", "yuv444p", "-q")[0] == 0
    assert (pix_fmt(tmp_path / "a.mp4"), pix_fmt(tmp_path / "b.mp4")) == ("yuv420p", "yuv444p")
    assert cli("decode", small_nrv, "-o", tmp_path / "c.mp4", "--pix-fmt", "rgb", "-q")[0] == 2


def test_truncated_input_and_short_clips_are_reported(cli, tmp_path: Path) -> None:
    clip = tmp_path / "long.mkv"
    write_video(clip, synthetic_clip(40, 32, 64, seed=1), Fraction(25, 1))
    data = clip.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    video = read_video(tmp_path / "cut.mkv")
    assert video.num_frames < 40 and any("truncated" in n for n in video.notes)
    code, out, err = cli("encode", tmp_path / "cut.mkv", "-o", tmp_path / "c.nrv", *FAST, "--json")
    assert code == 0 and any("truncated" in n for n in json.loads(out)["notes"])
    assert any("has only 40" in n for n in read_video(clip, frames=100).notes)


def test_stale_temporary_files_of_a_killed_run_are_removed(cli, small_nrv: Path, tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above the kernel's default pid_max: no such process
    stale = [tmp_path / f".rec.mkv.nvcodec{dead}.abc123.part", tmp_path / f".nvcodec-tmp{dead}.xyz"]
    stale[0].write_bytes(b"half")
    stale[1].mkdir()
    alive = tmp_path / f".rec.mkv.nvcodec{os.getpid()}.live.part"
    alive.write_bytes(b"in use")
    assert cli("decode", small_nrv, "-o", tmp_path / "rec.mkv", "-q")[0] == 0
    assert not any(p.exists() for p in stale) and alive.exists()


def test_sigterm_is_handled_like_ctrl_c(clip_dir: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "fit.jsonl"
    out.mkdir()
    cmd = [sys.executable, "-m", "nvcodec", "encode", str(clip_dir / "lossless.mkv"), "-o", str(out / "t.nrv")]
    args = ["--params", "30000", "--epochs", "500", "--log", str(log), "-q"]
    proc = subprocess.Popen([*cmd, *args], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text().count("\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.1)  # until the fit has run two epochs: past start-up, whatever the machine's load
    assert proc.poll() is None, "the encode ended before its fit began"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated; no output written" in err and one_line(err)
    assert list(out.iterdir()) == []


LOST_SIGTERM = """
import os, signal, sys, threading, time
import nvcodec.cli as cli
cli.REDELIVER_SECONDS = 0.5
signal.signal(signal.SIGTERM, cli._terminate)
class Slow:
    def __del__(self):
        time.sleep(2)  # SIGTERM lands here: its exception is printed and dropped
threading.Thread(target=lambda: (time.sleep(0.5), os.kill(os.getpid(), signal.SIGTERM))).start()
obj = Slow()
del obj
try:
    time.sleep(30)
except cli.Terminated:
    print("stopped", flush=True)
"""


def test_a_sigterm_lost_in_a_finalizer_is_raised_again() -> None:
    """An exception raised by a signal handler inside ``__del__`` is dropped; the handler sends
    SIGTERM again until the program stops, so the sleep after it is cut short."""
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", LOST_SIGTERM], capture_output=True, text=True, timeout=60)
    assert "Exception ignored" in run.stderr and run.stdout.strip() == "stopped", run.stderr
    assert time.monotonic() - start < 20


def test_crafted_and_fuzzed_files_fail_cleanly_fast_and_leave_nothing_under_4_gb() -> None:
    """The crafted headers (2^20 frames, 32768x32768 pixels, zero or negative strides, NaN fields, a
    network larger than the frame) through `nvcodec info` and `nvcodec decode`, then 100 fuzz cases
    (bit flips, truncations, payload and field changes with valid CRCs), in one process limited to
    4 GiB of address space (tests/nrv_fuzz.py, run as a process of its own for that limit)."""
    script = ROOT / "tests" / "nrv_fuzz.py"
    args = ["--cases", "100", "--seconds-per-case", "10", "--memory-gb", "4", "--seed", "7", "--cli-check"]
    run = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300)
    result = json.loads(run.stdout)
    assert run.returncode == 0, (result["crashes"], run.stderr[-2000:])
    assert len(result["cli"]) >= 2 * 10
    for row in result["cli"]:
        assert row["exit"] == 1 and len(row["stderr"]) == 1 and "corrupt .nrv file" in row["stderr"][0], row
        assert row["seconds"] < 5 and row["left"] == [], row
    assert set(result["outcomes"]) <= {"clean", "accepted"} and result["outcomes"]["clean"] > 50
    assert set(result["by_kind"]["flip"]) == {"clean"} and set(result["by_kind"]["crafted"]) == {"clean"}


@pytest.mark.parametrize("model", ["nerv", "hinerv"])
def test_models_with_an_ssim_loss_encode_a_clip_one_pixel_wide(model: str, cli, tmp_path: Path) -> None:
    clip = tmp_path / "w1.y4m"
    write_video(clip, np.ascontiguousarray(synthetic_clip(8, 32, 64, seed=1)[:, :, :1]), Fraction(25, 1))
    args = ["--model", model, "--params", "700", "--epochs", "1", "-q"]
    code, _, err = cli("encode", clip, "-o", tmp_path / "w1.nrv", *args)
    assert code == 0, err
