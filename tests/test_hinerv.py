"""HiNeRV: grids read at frame t by linear interpolation in time, stage shapes, stride choice, patch
decoding equal to full frames, patch training, and context-coded grids in the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec.compress import Coding
from nvcodec.fit import FitConfig, FrameSource
from nvcodec.fit.train import train_steps
from nvcodec.io import read_video, synthetic_clip
from nvcodec.metrics import mean_psnr
from nvcodec.models import solve_config, spec
from nvcodec.models.hinerv import HiNeRV, time_lerp
from nvcodec.models.patches import tiles
from nvcodec.pipeline import EncodeOptions, decode_frames, encode_video, load_entries


def test_a_grid_with_a_row_per_frame_is_read_exactly_and_in_between_it_interpolates() -> None:
    grid = torch.arange(2 * 4 * 3, dtype=torch.float32).view(2, 4, 3)  # channels x time steps x cells
    np_rows = time_lerp(grid, torch.arange(4), 4)
    assert torch.equal(np_rows, grid.movedim(1, 0))
    half = time_lerp(grid, torch.tensor([0, 1, 7]), 8)  # 8 frames over 4 steps: ends clamp, middle blends
    assert torch.equal(half[0], grid[:, 0]) and torch.equal(half[2], grid[:, 3])
    assert torch.allclose(half[1], 0.75 * grid[:, 0] + 0.25 * grid[:, 1])


def test_strides_are_four_stages_with_little_padding_and_a_base_near_a_cell_per_1024_pixels() -> None:
    assert HiNeRV.grid_options(160, 320)[0] == ((4, 2, 2, 2), 160, 320)  # base 5x10
    assert HiNeRV.grid_options(1080, 1920)[0][1:] == (1080, 1920)
    cfg = solve_config(spec("hinerv"), 160, 320, 132, 100_000)
    model = spec("hinerv").build(cfg)
    assert tuple(model.base[0].shape) == (cfg.grid_channels, cfg.grid_frames, 5, 10)
    out = model.decode(torch.tensor([0, 131]), {})
    assert out.shape == (2, 3, 160, 320) and 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("size,budget", [((160, 320), 100_000), ((80, 160), 30_000), ((144, 176), 40_000)])
def test_a_patch_decodes_to_the_same_region_of_the_full_frame(size: tuple[int, int], budget: int) -> None:
    torch.manual_seed(0)
    cfg = solve_config(spec("hinerv"), *size, 20, budget)
    model = spec("hinerv").build(cfg)
    with torch.no_grad():
        for grid in model.grid_parameters():  # grids far from their tiny start, so every term counts
            model.get_parameter(grid).normal_(0, 0.3)
        idx = torch.tensor([0, 7, 19])
        full = model.decode(idx, {})
        h, w = cfg.height, cfg.width
        for rows, cols in [((0, 40), (0, 40)), ((13, 57), (5, 91)), ((h - 32, h), (w - 48, w)), ((0, h), (0, w))]:
            part = model.decode_window(idx, {}, rows, cols)
            assert part.shape[-2:] == (rows[1] - rows[0], cols[1] - cols[0])
            torch.testing.assert_close(part, full[..., rows[0] : rows[1], cols[0] : cols[1]], atol=1e-5, rtol=0)


def test_patches_tile_the_frame_and_a_patch_step_fits_its_region() -> None:
    windows = tiles(70, 100, 32, 8)
    covered = np.zeros((70, 100), int)
    for (r0, r1), (c0, c1) in windows:
        covered[r0:r1, c0:c1] += 1
    assert (covered == 1).all() and len(windows) == 3 * 4
    frames = torch.from_numpy(synthetic_clip(3, 70, 100, seed=1))
    source = FrameSource(frames, (70, 100))
    model = torch.nn.Linear(1, 1)
    steps = list(train_steps(source, FitConfig(epochs=2, patch=32), torch.optim.SGD(model.parameters(), lr=0)))
    assert len(steps) == 2 * 3 * 12 and sum(s.last for s in steps) == 2
    seen = {(int(s.idx[0]), s.window) for s in steps[:36]}
    assert len(seen) == 36  # an epoch visits every patch of every frame once
    for s in steps[:5]:
        (r0, r1), (c0, c1) = s.window
        torch.testing.assert_close(s.target, source.batch(s.idx)[1][..., r0:r1, c0:c1])


def test_patch_training_encodes_and_is_refused_for_models_without_windows(cli, clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.nrv"
    args = ["--model", "hinerv", "--bpp", "2.0", "--epochs", "1", "--patch", "16", "-q", "--json"]
    code, stdout, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, *args)
    assert code == 0, err
    report = json.loads(stdout)
    _, frames = decode_frames(out, device="cpu")
    assert report["psnr"] == pytest.approx(mean_psnr(read_video(clip_dir / "tiny.mkv").frames, frames), abs=1e-6)
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "q.nrv", "--model", "hnerv", "--patch", "16")
    assert code == 2 and "--patch" in err and len(err.strip().splitlines()) == 1


def test_grids_are_context_coded_and_the_context_model_travels_in_the_file(clip_dir: Path, tmp_path: Path) -> None:
    options = EncodeOptions(model="hinerv", bpp=2.0, epochs=2, device="cpu")
    report = encode_video(read_video(clip_dir / "tiny.mkv"), tmp_path / "g.nrv", options)
    (entry,) = load_entries(tmp_path / "g.nrv")
    model = spec("hinerv").build(entry.config)
    kinds = {n: q.kind for n, q in entry.params.items()}
    assert {n for n, b in kinds.items() if b is Coding.CONTEXT} == set(model.grid_parameters()) != set()
    assert report.bpp <= 2.0


def test_info_reports_no_bit_depth_for_a_file_of_learned_and_context_coded_tensors(
    cli, clip_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "i.nrv"
    assert (
        cli("encode", clip_dir / "tiny.mkv", "-o", out, "--model", "hinerv", "--epochs", "1", "--bpp", "2", "-q")[0]
        == 0
    )
    code, stdout, _ = cli("info", out, "--json")
    info = json.loads(stdout)
    assert code == 0 and info["format_version"] == "5.0"
    assert info["videos"][0]["weight_bits"] is None and info["videos"][0]["model"] == "hinerv"
