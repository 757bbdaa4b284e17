"""NeRV as released: the grid rule, the release's parameter counts, the width rule, sizing below the
paper's budget, the recipe, and the retired first build."""

from __future__ import annotations

import pytest
import torch

from nvcodec.bitio import ReadError
from nvcodec.format import VideoMeta
from nvcodec.format.header import read_model
from nvcodec.models import solve_config, spec
from nvcodec.models.nerv import NeRVConfig, nerv_grid_candidates, scaled_widths
from nvcodec.pipeline import EncodeOptions
from nvcodec.pipeline.options import Training

NERV = spec("nerv")


@pytest.mark.parametrize(
    ("size", "strides", "grid"),
    [
        ((720, 1280), (5, 2, 2, 2, 2), (9, 16)),  # the paper's 720p
        ((1080, 1920), (5, 3, 2, 2, 2), (9, 16)),  # the release's default strides
        ((640, 1280), (5, 2, 2, 2, 2), (8, 16)),
        ((160, 320), (5, 2, 2), (8, 16)),
    ],
)
def test_the_grid_is_the_paper_s_9_by_16_or_nearest(size: tuple[int, int], strides: tuple, grid: tuple) -> None:
    got, ph, pw = nerv_grid_candidates(*size)[0]
    assert (got, (ph, pw)) == (strides, size)  # no padding
    assert NeRVConfig(height=ph, width=pw, frames=10, strides=got, c0=8).grid == grid


@pytest.mark.parametrize(("c0", "count"), [(26, 3_201_905), (58, 6_282_001), (112, 12_524_563)])
def test_nerv_s_m_l_have_the_release_s_parameter_counts(c0: int, count: int) -> None:
    cfg = NeRVConfig(height=720, width=1280, frames=132, strides=(5, 2, 2, 2, 2), c0=c0)
    assert cfg.widths() == [c0, c0, 96, 96, 96, 96]  # the first block keeps C0, then the floor
    assert NERV.transmitted_count(cfg) == count


AS_RELEASED = Training(lr_scale=1.0, lr_warmup=None)
"""The recipe as its release trains (the default training scales its rate and its warm-up)."""


def test_widths_halve_down_to_the_floor() -> None:
    cfg = NeRVConfig(height=640, width=1280, frames=8, strides=(5, 2, 2, 2, 2), c0=400, lower_width=64)
    assert cfg.widths() == [400, 400, 200, 100, 64, 64]


def test_below_the_paper_s_budget_the_mlp_and_floor_scale_and_keep_most_values_in_the_mlp() -> None:
    assert scaled_widths(3_200_000) == scaled_widths(12_000_000) == (512, 96)
    assert scaled_widths(800_000) == (256, 48)  # a quarter of the budget: half the widths
    assert scaled_widths(0) == (16, 4)  # the smallest model, as sizing asks for it
    for size, budget in (((640, 1280), 1_500_000), ((160, 320), 94_000)):
        cfg = solve_config(NERV, *size, 132, budget)
        model = NERV.build(cfg)
        mlp = sum(p.numel() for n, p in model.named_parameters() if n.startswith("fc"))
        count = NERV.transmitted_count(cfg)
        assert abs(count - budget) < 0.05 * budget and mlp > 0.55 * count
        assert model.decode(torch.tensor([0, 5]), {}).shape == (2, 3, *size)


def test_the_recipe_is_the_release_s() -> None:
    cfg = EncodeOptions(model="nerv", bpp=0.1, epochs=3, device="cpu", training=AS_RELEASED).fit_config(3)
    assert (cfg.lr, cfg.loss, cfg.betas, cfg.warmup) == (5e-4, "fusion6", (0.5, 0.999), 0.2)


def test_a_file_of_the_retired_first_build_is_refused_by_name() -> None:
    with pytest.raises(ReadError, match="model id 1 is retired"):
        read_model(b"\x01\x00", VideoMeta(4, 64, 32, 25), 1000)
