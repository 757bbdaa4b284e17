"""SNeRV-T as the paper and its release build it: the MFU after the temporal blocks, one up-sampler
per time slot, temporal embeddings at the paper's resolution (and an exact factor at odd sizes),
the budget, a training step, and the retired first build."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from nvcodec.bitio import ReadError
from nvcodec.format import VideoMeta
from nvcodec.format.header import read_model
from nvcodec.models import solve_config, spec
from nvcodec.models.sizing import count_for
from nvcodec.models.snerv_t import TUB, prime_factors, temporal_downscale

SNERV_T = spec("snerv-t")


def test_bunny_3m_has_the_paper_s_shape() -> None:
    cfg = solve_config(SNERV_T, 640, 1280, 132, 3_000_000)
    assert cfg.strides == (5, 4, 2, 2, 2) and cfg.grid == (2, 4) and cfg.t_grid == (20, 40)  # 3x20x40 per direction
    model = SNERV_T.skeleton(cfg)
    assert len(model.blocks) == 2 and len(model.tubs) == 3 and len(model.mfu) == 2
    assert all(len(tub.up) == 3 and tub.up[0] is not tub.up[1] for tub in model.tubs)  # one up-sampler per slot
    assert model.mfu[0].fuse.in_channels == model.tubs[0].conv2.out_channels + model.tubs[1].conv2.out_channels
    assert abs(count_for(SNERV_T, cfg) - 3_000_000) < 0.03 * 3_000_000


@pytest.mark.parametrize(
    ("pre_tub", "ll", "limit", "down"),
    [
        ((40, 80), (320, 640), float("inf"), 2),  # Bunny: LL/16 = 20x40
        ((10, 20), (80, 160), float("inf"), 2),  # 160x320: 5x10
        ((45, 81), (360, 648), float("inf"), 3),  # 720p: odd pre-TUB size, an exact factor of 3
        ((45, 81), (540, 972), float("inf"), 1),  # 1080p with no budget: nearest the paper's density
        ((45, 81), (540, 972), 500, 3),  # ... within the budget's share
    ],
)
def test_temporal_grid_rule(pre_tub: tuple, ll: tuple, limit: float, down: int) -> None:
    assert temporal_downscale(pre_tub, ll, limit) == down


def test_at_1080p_the_temporal_embeddings_stay_within_half_the_budget() -> None:
    cfg = solve_config(SNERV_T, 1080, 1920, 132, 3_000_000)
    shapes = SNERV_T.skeleton(cfg).embedding_shapes()
    assert 132 * 6 * cfg.t_grid[0] * cfg.t_grid[1] <= 1_500_000 and shapes["t_embedding"][1:] == (6, *cfg.t_grid)


def test_prime_factors() -> None:
    assert prime_factors(1) == [] and prime_factors(12) == [2, 2, 3] and prime_factors(5) == [5]


@pytest.mark.parametrize("budget", [94_000, 188_000])
def test_at_160x320_shapes_budget_and_a_training_step(budget: int) -> None:
    cfg = solve_config(SNERV_T, 160, 320, 132, budget)
    assert cfg.t_grid == (5, 10) and abs(count_for(SNERV_T, cfg) - budget) < 0.03 * budget
    model = SNERV_T.build(dataclasses.replace(cfg, frames=2), with_encoder=True)
    frames = torch.rand(2, 9, 160, 320)
    embeddings = model.encode_frames(frames)
    assert embeddings["t_embedding"].shape == (2, 6, 5, 10) and embeddings["embedding"].shape == (2, 16, 2, 4)
    out = model.decode(None, embeddings)
    assert out.shape == (2, 3, 160, 320)
    out.mean().backward()
    assert all(p.grad is not None for p in model.transmitted_parameters().values())


def test_a_tub_mixes_three_slots_and_the_last_keeps_the_middle_one() -> None:
    z = torch.rand(1, 4, 3, 5, 6)
    assert TUB(4, 6, 2, collapse=False)(z).shape == (1, 6, 3, 10, 12)
    assert TUB(4, 6, 2, collapse=True)(z).shape == (1, 6, 1, 10, 12)


def test_a_file_of_the_retired_first_build_is_refused_by_name() -> None:
    with pytest.raises(ReadError, match="model id 6 is retired"):
        read_model(b"\x06\x00", VideoMeta(4, 64, 32, 25), 1000)
