"""Long videos as segments: the plan, a 48-frame clip in three segments end to end, a frame range
that reads only its segments, worker processes and torchrun giving the same bytes as one process
(resuming: tests/test_resume.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from nvcodec.container import index_nrv
from nvcodec.io import read_video, synthetic_clip, write_video
from nvcodec.metrics import mean_psnr
from nvcodec.pipeline.segments import DEFAULT_SEGMENT, plan_segments, segment_length

FAST = ["--bpp", "1.0", "--epochs", "1", "--json", "-q"]
QUICK = ["--params", "3000", "--epochs", "1", "--no-rd", "--json", "-q"]
"""Sized by values (no rate search): the parallel tests compare bytes, not rates."""


def test_the_plan_balances_segments_of_at_most_n_frames() -> None:
    assert plan_segments(96, 32) == [(0, 32), (32, 32), (64, 32)]
    assert plan_segments(100, 32) == [(0, 25), (25, 25), (50, 25), (75, 25)]
    assert plan_segments(7, 3) == [(0, 3), (3, 2), (5, 2)]
    assert segment_length(600, None) == 600 and segment_length(601, None) == DEFAULT_SEGMENT
    assert segment_length(601, 50) == 50


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("segments")
    write_video(d / "c48.mkv", synthetic_clip(48, 32, 64, seed=7), Fraction(25, 1))
    write_video(d / "c24.mkv", synthetic_clip(24, 32, 64, seed=8), Fraction(25, 1))
    return d


def test_three_segments_round_trip_and_a_range_reads_only_its_segments(cli, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "c48.nrv"
    code, stdout, err = cli("encode", clips / "c48.mkv", "-o", out, "--segment", "16", *FAST)
    assert code == 0, err
    report = json.loads(stdout)
    assert report["segments"] == 3 and report["frames"] == 48 and 0.85 <= report["bpp"] <= 1.0
    assert report["bytes"] == out.stat().st_size and not (tmp_path / "c48.nrv.parts").exists()
    info = json.loads(cli("info", out, "--json")[1])
    assert info["format_version"] == "5.0" and info["videos_count"] == 1 and info["frames"] == 48
    rows = [(s["segment"], s["first_frame"], s["frames"]) for s in info["segments"]]
    assert rows == [(0, 0, 16), (1, 16, 16), (2, 32, 16)]
    whole = tmp_path / "whole.mkv"
    assert cli("decode", out, "-o", whole, "-q")[0] == 0
    frames = read_video(whole).frames
    assert frames.shape[0] == 48
    assert mean_psnr(read_video(clips / "c48.mkv").frames, frames) == pytest.approx(report["psnr"], abs=1e-6)
    # a frame range reads only its segments: damage segment 0, decode frames of segments 1 and 2
    data = bytearray(out.read_bytes())
    parm = next(r for r in index_nrv(out) if r.tag == b"PARM" and r.video == 0)
    data[parm.offset + 12 + parm.length // 2] ^= 0xFF
    damaged = tmp_path / "damaged.nrv"
    damaged.write_bytes(bytes(data))
    part = tmp_path / "part.mkv"
    assert cli("decode", damaged, "-o", part, "--frames", "20:40", "-q")[0] == 0
    assert (read_video(part).frames == frames[20:40]).all()
    code, _, err = cli("decode", damaged, "-o", tmp_path / "bad.mkv", "--frames", "10:20", "-q")
    assert code != 0 and "CRC mismatch in section 'PARM'" in err and not (tmp_path / "bad.mkv").exists()


def _encode(args: list, launcher: list | None = None) -> subprocess.CompletedProcess:
    cmd = [*(launcher or [sys.executable, "-m"]), "nvcodec", "encode", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def test_workers_torchrun_and_a_resumed_encode_give_one_process_s_bytes(
    cli, clips: Path, tmp_path: Path, all_cores: None
) -> None:
    args = [clips / "c24.mkv", "--segment", "8", *QUICK]
    assert cli("encode", *args, "-o", tmp_path / "ref.nrv")[0] == 0
    reference = (tmp_path / "ref.nrv").read_bytes()
    code, _, err = cli("encode", *args, "-o", tmp_path / "w.nrv", "--workers", "2")
    assert code == 0, err
    assert (tmp_path / "w.nrv").read_bytes() == reference
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m"]
    done = _encode([*args, "-o", tmp_path / "t.nrv"], launcher=launcher)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["segments"] == 3  # rank 0 alone reports
    assert (tmp_path / "t.nrv").read_bytes() == reference


def test_an_archive_is_one_segment(cli, clips: Path, tmp_path: Path) -> None:
    code, _, err = cli("encode", clips / "c24.mkv", "-o", tmp_path / "a.nrv", "--model", "pfnr", "--segment", "8")
    assert code != 0 and "do not apply to pfnr archives" in err


def _write_threads(path: Path) -> None:
    import torch

    path.write_text(str(torch.get_num_threads()))


@pytest.mark.parametrize("threads", [1, 2])
def test_workers_start_with_the_threads_they_are_given(threads: int, tmp_path: Path) -> None:
    from nvcodec.pipeline.workers import run_jobs

    finished: list[int] = []
    run_jobs(_write_threads, [(0, (tmp_path / "t",))], 1, finished.append, threads=threads)
    seen = int((tmp_path / "t").read_text())
    assert finished == [0] and seen == threads
