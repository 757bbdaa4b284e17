"""PFNR progressive archives: appends keep earlier videos bit-identical, appends are atomic,
damaged archives are refused, masks round-trip exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec import pipeline
from nvcodec.bitio import ByteReader, ByteWriter
from nvcodec.container import FILE_FRAMING, MAGIC
from nvcodec.errors import NvcError
from nvcodec.format import Archive, read_mask, write_mask
from nvcodec.io import read_video, synthetic_clip, write_video
from nvcodec.models import solve_config, spec
from nvcodec.progress import Reporter

ARGS = ["--bpp", "2.0", "--epochs", "3", "-q", "--json"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 32x64 clips of 8, 8 and 12 frames."""
    d = tmp_path_factory.mktemp("pfnr")
    paths = []
    for i, frames in enumerate((8, 8, 12)):
        paths.append(d / f"day{i}.mkv")
        write_video(paths[-1], synthetic_clip(frames, 32, 64, seed=10 + i), Fraction(25, 1))
    return paths


@pytest.fixture(scope="module")
def archive(clips: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An archive grown by two appends, with each video's frames decoded after every step."""
    from nvcodec.cli import main

    path = tmp_path_factory.mktemp("arc") / "archive.nrv"
    assert main(["encode", str(clips[0]), "-o", str(path), "--model", "pfnr", *ARGS]) == 0
    states = [(path.read_bytes(), [pipeline.decode_frames(path, device="cpu")[1]])]
    for clip in clips[1:]:
        assert main(["append", str(path), str(clip), *ARGS]) == 0
        frames = [pipeline.decode_frames(path, device="cpu", video=k)[1] for k in range(len(states) + 1)]
        states.append((path.read_bytes(), frames))
    return {"path": path, "states": states}


def test_earlier_videos_decode_bit_identically_after_two_appends(archive: dict) -> None:
    states = archive["states"]
    assert [len(frames) for _, frames in states] == [1, 2, 3]
    for before, after in zip(states, states[1:], strict=False):
        for k, frames in enumerate(before[1]):
            np.testing.assert_array_equal(after[1][k], frames)


def test_append_keeps_every_earlier_byte(archive: dict) -> None:
    end_section = FILE_FRAMING - len(MAGIC) - 4  # the END trailer is the only part rewritten
    for (old, _), (new, _) in zip(archive["states"], archive["states"][1:], strict=False):
        assert len(new) > len(old) and new[: len(old) - end_section] == old[: len(old) - end_section]


def test_each_video_decodes_at_its_own_length(archive: dict, clips: list[Path], tmp_path: Path, cli) -> None:
    path = archive["path"]
    for k, clip in enumerate(clips):
        assert archive["states"][-1][1][k].shape == read_video(clip).frames.shape
    out = tmp_path / "v2.mkv"
    code, _, err = cli("decode", path, "--video", "2", "--frames", "4:10", "-o", out, "-q")
    assert code == 0, err
    np.testing.assert_array_equal(read_video(out).frames, archive["states"][-1][1][2][4:10])
    code, _, err = cli("decode", path, "--video", "3", "-o", tmp_path / "x.mkv", "-q")
    assert code == 1 and "no video 3 (the file holds 3)" in err


def test_info_lists_every_video(archive: dict, cli) -> None:
    code, out, _ = cli("info", archive["path"], "--json")
    info = json.loads(out)
    assert code == 0 and info["model"] == "pfnr" and info["videos_count"] == 3
    assert [v["frames"] for v in info["videos"]] == [8, 8, 12]
    assert sum(v["bytes"] for v in info["videos"]) == info["bytes"] == archive["path"].stat().st_size
    assert info["bpp"] == pytest.approx(8 * info["bytes"] / (28 * 32 * 64))
    assert all(0 < v["claimed"] <= 1 and v["mask_bytes"] > 0 for v in info["videos"])


def test_appended_report_is_what_the_decoder_sees(clips: list[Path], tmp_path: Path) -> None:
    path = tmp_path / "a.nrv"
    opts = pipeline.EncodeOptions(model="pfnr", bpp=2.0, epochs=2, device="cpu")
    first = pipeline.encode_video(read_video(clips[0]), path, opts)
    second = pipeline.append_video(path, read_video(clips[1]), opts)
    assert (first.video, second.video) == (0, 1)
    assert second.archive_bytes == path.stat().st_size == first.bytes + second.bytes
    np.testing.assert_array_equal(pipeline.decode_frames(path, device="cpu", video=1)[1], second.reconstruction)


class _StageHook(Reporter):
    """A reporter that calls ``action`` when the stage ``stage`` starts."""

    def __init__(self, stage: str, action) -> None:
        self.stage, self.action = stage, action

    def start(self, name: str, total: int) -> int:
        if name == self.stage:
            self.action()
        return 0


def _interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["video 1", "rate", "write", "os.replace"])
def test_interrupted_append_leaves_the_archive_as_it_was(
    clips: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Ctrl-C while fitting, while choosing the bit depth (packing candidates), just before writing,
    and at the rename."""
    path = tmp_path / "i.nrv"
    opts = pipeline.EncodeOptions(model="pfnr", bpp=2.0, epochs=1, device="cpu")
    pipeline.encode_video(read_video(clips[0]), path, opts)
    before, frames = path.read_bytes(), pipeline.decode_frames(path, device="cpu")[1]
    reporter = Reporter()
    if where == "os.replace":
        monkeypatch.setattr(where, _interrupt)
    else:
        reporter = _StageHook(where, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        pipeline.append_video(path, read_video(clips[1]), opts, reporter)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["i.nrv"]
    np.testing.assert_array_equal(pipeline.decode_frames(path, device="cpu")[1], frames)


def test_damaged_archive_is_refused_not_half_decoded(archive: dict, tmp_path: Path, cli) -> None:
    data = bytearray(archive["path"].read_bytes())
    data[-40] ^= 0x10  # inside the last video's SESS section
    bad = tmp_path / "bad.nrv"
    bad.write_bytes(bytes(data))
    code, _, err = cli("decode", bad, "--video", "0", "-o", tmp_path / "v.mkv", "-q")
    assert code == 1 and "corrupt .nrv file: CRC mismatch in section 'SESS'" in err
    assert not (tmp_path / "v.mkv").exists()
    truncated = tmp_path / "cut.nrv"
    truncated.write_bytes(archive["states"][-1][0][:-30])
    code, _, err = cli("info", truncated)
    assert code == 1 and "corrupt .nrv file" in err and err.count("\n") == 1


def test_append_refusals(archive: dict, clips: list[Path], tmp_path: Path, cli) -> None:
    plain = tmp_path / "plain.nrv"
    assert cli("encode", clips[0], "-o", plain, "--model", "hnerv", *ARGS)[0] == 0
    code, _, err = cli("append", plain, clips[1], *ARGS)
    assert code == 1 and "not a progressive archive" in err
    other = tmp_path / "wide.mkv"
    write_video(other, synthetic_clip(8, 32, 96, seed=1), Fraction(25, 1))
    code, _, err = cli("append", archive["path"], other, *ARGS)
    assert code == 1 and "differs from the archive's 64x32" in err
    code, _, err = cli("encode", clips[0], "-o", tmp_path / "h.nrv", "--capacity", "0.3", *ARGS)
    assert code == 2 and "--capacity and --max-videos apply to progressive models" in err  # usage error
    code, _, err = cli("encode", clips[0], "-o", tmp_path / "p.nrv", "--model", "pfnr", "--prune", "0.2", *ARGS)
    assert code == 2 and "--prune" in err


def test_full_archive_refuses_another_video(clips: list[Path], tmp_path: Path, cli) -> None:
    path = tmp_path / "one.nrv"
    assert cli("encode", clips[0], "-o", path, "--model", "pfnr", "--max-videos", "1", *ARGS)[0] == 0
    code, _, err = cli("append", path, clips[1], *ARGS)
    assert code == 1 and "the archive is full (1 videos)" in err


@pytest.mark.parametrize("p_used,p_mask", [(0.0, 0.5), (0.5, 0.3), (1.0, 0.7), (0.3, 0.0)])
def test_mask_round_trip(p_used: float, p_mask: float) -> None:
    rng = np.random.default_rng(3)
    used = rng.random((7, 5, 3)) < p_used
    mask = rng.random((7, 5, 3)) < p_mask
    w = ByteWriter()
    write_mask(w, mask, used)
    r = ByteReader(w.getvalue())
    np.testing.assert_array_equal(read_mask(r, used), mask)
    r.expect_end()


def test_mask_selects_capacity_and_scores_get_gradients() -> None:
    cfg = solve_config(spec("pfnr"), 32, 64, 8, 5_000, {"capacity": 0.3})
    model = spec("pfnr").build(cfg, with_encoder=True)
    masks = model.hard_masks()
    for m in masks.values():
        assert int(m.sum()) == max(1, round(0.3 * m.numel()))
    model.decode(torch.arange(4), {}).mean().backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in model.scores.values())


def test_fso_upsamples_a_constant_to_a_constant() -> None:
    from nvcodec.models.pfnr import fourier_operator

    x = torch.ones(1, 2, 6, 8)
    w = [torch.ones(2, 3, 2, 3), torch.zeros(2, 3, 2, 3), torch.ones(2, 3, 2, 3), torch.zeros(2, 3, 2, 3)]
    y = fourier_operator(x, w, (12, 16))
    assert y.shape == (1, 3, 12, 16)
    torch.testing.assert_close(y, torch.full_like(y, 2.0))


def test_replay_of_an_empty_archive_is_all_free() -> None:
    cfg = solve_config(spec("pfnr"), 32, 64, 8, 5_000)
    weights, used = Archive(spec("pfnr"), cfg, []).replay(-1)
    assert all(not u.any() for u in used.values()) and all(not w.any() for w in weights.values())


def test_bench_accepts_pfnr(cli, clips: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "bench"
    args = ["--models", "pfnr", "--bpp", "2", "--anchors", "x264", "--epochs", "1", "--out", out, "-q"]
    code, _, err = cli("bench", clips[0], *args)
    assert code == 0, err
    ours = [p for p in json.loads((out / "results.json").read_text())["points"] if p["kind"] == "nvcodec"]
    assert [p["codec"] for p in ours] == ["pfnr"] and 0 < ours[0]["bpp"] <= 2.0


def test_append_refuses_to_replace_an_archive_changed_behind_its_lock(clips: list[Path], tmp_path: Path) -> None:
    """A writer that ignores the lock changes the archive while this append fits: nothing is written."""
    path = tmp_path / "c.nrv"
    opts = pipeline.EncodeOptions(model="pfnr", bpp=2.0, epochs=1, device="cpu")
    pipeline.encode_video(read_video(clips[0]), path, opts)

    def someone_else_writes() -> None:
        path.write_bytes(path.read_bytes() + b"x")

    with pytest.raises(NvcError, match="changed while this video was fitted"):
        pipeline.append_video(path, read_video(clips[1]), opts, _StageHook("rate", someone_else_writes))


def test_two_appends_at_once_keep_both_videos(clips: list[Path], tmp_path: Path) -> None:
    """Two processes append to one archive at the same moment: the lock makes the second wait, and
    the archive ends with both videos (no lost append)."""
    path = tmp_path / "two.nrv"
    pipeline.encode_video(read_video(clips[0]), path, pipeline.EncodeOptions(model="pfnr", bpp=2.0, epochs=1))
    cmd = [sys.executable, "-m", "nvcodec", "append", str(path)]
    args = ["--bpp", "2.0", "--epochs", "2", "-q", "--json", "--device", "cpu"]
    procs = [subprocess.Popen([*cmd, str(c), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in clips[1:]]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode() for _, err in results]
    videos = sorted(json.loads(out)["video"] for out, _ in results)
    info = pipeline.file_info(path)
    assert videos == [1, 2] and sorted(v["frames"] for v in info["videos"]) == [8, 8, 12]
