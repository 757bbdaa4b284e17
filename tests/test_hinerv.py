"""HiNeRV: grids read at frame t by linear interpolation in time, stage shapes, stride choice."""

from __future__ import annotations

import torch

from nvcodec.models import solve_config, spec
from nvcodec.models.hinerv import HiNeRV, _time_lerp


def test_a_grid_with_a_row_per_frame_is_read_exactly_and_in_between_it_interpolates() -> None:
    grid = torch.arange(2 * 4 * 3, dtype=torch.float32).view(2, 4, 3)  # channels x time steps x cells
    np_rows = _time_lerp(grid, torch.arange(4), 4)
    assert torch.equal(np_rows, grid.movedim(1, 0))
    half = _time_lerp(grid, torch.tensor([0, 1, 7]), 8)  # 8 frames over 4 steps: ends clamp, middle blends
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
