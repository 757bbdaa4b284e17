"""Registry, shapes, parameter counts and budget solving of the models."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch

from nvcodec.errors import NvcError
from nvcodec.models import RETIRED, config_fields_of, embedding_layout, names, solve_config, spec, spec_by_id
from nvcodec.models.layers import choose_grid
from nvcodec.models.limits import check_fields
from nvcodec.models.sizing import MAX_PADDING, count_for, per_frame_values

MODELS = [
    "hnerv",
    "hfs-hnerv",
    "snerv",
    "pfnr",
    "hinerv",
    "hfe-hnerv",
    "pnerv",
    "nerv",
    "snerv-t",
    "hinerv-mc",
    "canvas",
]


def test_registry_names_and_fixed_ids() -> None:
    assert names() == MODELS
    assert [spec(n).model_id for n in MODELS] == [2, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15]
    assert spec_by_id(2).name == "hnerv"
    with pytest.raises(NvcError, match="unknown model"):
        spec("vvc")
    with pytest.raises(KeyError):
        spec_by_id(3)  # retired: the first hfe-hnerv
    assert set(RETIRED) == {1, 3, 6, 7}  # the first nerv, hfe-hnerv, snerv-t and pnerv builds


def test_hnerv_bunny_1_5m_matches_reference() -> None:
    cfg = solve_config(spec("hnerv"), 640, 1280, 132, 1_500_000)
    assert cfg.strides == (5, 4, 4, 2, 2) and cfg.c0 == 68 and cfg.grid == (2, 4)
    # reference (HNeRV Table 17 / our notes): decoder 1,487,517 + head 759 + embeddings 16,896
    assert abs(count_for(spec("hnerv"), cfg) - 1_505_172) / 1_505_172 < 0.02


@pytest.mark.parametrize("budget,c0", [(350_000, 33), (750_000, 49), (3_000_000, 97)])
def test_hnerv_bunny_widths_near_paper(budget: int, c0: int) -> None:
    # paper C0 = 32 / 48 / 97; ours picks the width whose real count is nearest the budget
    assert abs(solve_config(spec("hnerv"), 640, 1280, 132, budget).c0 - c0) <= 1


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("size", [(32, 64), (36, 70), (64, 128)])
def test_output_shape_and_backward(name: str, size: tuple[int, int]) -> None:
    cfg = solve_config(spec(name), *size, 4, 20_000)
    model = spec(name).build(cfg, with_encoder=True)
    x = torch.rand(2, 3 * (2 * model.context + 1), cfg.height, cfg.width)
    out = model(torch.tensor([0, 3]), x)
    assert out.shape == (2, 3, cfg.height, cfg.width)
    assert cfg.height >= size[0] and cfg.width >= size[1]
    out.mean().backward()
    assert all(p.grad is not None for p in model.transmitted_parameters().values())


@pytest.mark.parametrize("name", [n for n in MODELS if spec(n).model_cls.fixed_c0 is None])
@pytest.mark.parametrize("budget", [100_000, 400_000, 1_500_000])
def test_count_within_three_percent_of_budget(name: str, budget: int) -> None:
    cfg = solve_config(spec(name), 160, 320, 132, budget)
    assert abs(count_for(spec(name), cfg) - budget) / budget < 0.03


def test_a_fixed_width_model_has_one_config_for_every_budget() -> None:
    configs = {solve_config(spec("canvas"), 144, 176, 30, budget) for budget in (0, 10_000, 1_000_000)}
    (cfg,) = configs
    assert cfg.c0 == spec("canvas").model_cls.fixed_c0 and (cfg.canvas_height, cfg.canvas_width) == (144, 176)
    assert cfg.latent_frames == 1 and cfg.latent_levels == 7


@pytest.mark.parametrize(("name", "c0", "count"), [("hfs-hnerv", 65, 1_515_882), ("snerv", 80, 1_523_306)])
def test_bunny_1_5m_widths_match_the_notes(name: str, c0: int, count: int) -> None:
    # the papers' 1.5M-value Bunny settings: HFE C0 68 (~1.51M), HFS C0 65 (1.516M), SNeRV C0 80 (~1.5M)
    cfg = solve_config(spec(name), 640, 1280, 132, 1_500_000)
    assert cfg.c0 == c0 and count_for(spec(name), cfg) == count


@pytest.mark.parametrize("size", [(48, 64, 8), (144, 176, 30), (180, 320, 40)])
def test_hnerv_s_count_from_its_config_is_its_skeleton_s(size: tuple[int, int, int]) -> None:
    """Sizing counts hnerv's values from the config (``value_count``); the built network must agree
    for every width, taper, floor and embedding the searches try."""
    hnerv, (h, w, t) = spec("hnerv"), size
    for params, stage in itertools.product((0, 2_000, 40_000, 400_000), ({}, {"yuv420": True})):
        base = solve_config(hnerv, h, w, t, params, stage)
        for c0, reduce, lower, embed in ((base.c0, base.reduce, 12, 16), (base.c0 + 3, 1.1, 4, 8), (7, 1.3, 10, 4)):
            config = dataclasses.replace(base, c0=c0, reduce=reduce, lower_width=lower, embed_dim=embed)
            built = hnerv.skeleton(config).transmitted_count()
            assert hnerv.transmitted_count(config) == hnerv.model_cls.value_count(config) == built


def test_encoder_not_transmitted() -> None:
    model = spec("hnerv").build(solve_config(spec("hnerv"), 32, 64, 8, 10_000), with_encoder=True)
    assert not any(n.startswith("encoder") for n in model.transmitted_parameters())
    assert any(n.startswith("encoder") for n, _ in model.named_parameters())


@pytest.mark.parametrize(
    "size,expected", [((640, 1280), ((5, 4, 4, 2, 2), 640, 1280)), ((36, 70), ((3, 3, 2), 36, 72))]
)
def test_grid_choice(size: tuple[int, int], expected: tuple) -> None:
    assert choose_grid(*size) == expected


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("budget", [0, 20_000, 1_500_000])
def test_every_config_field_has_a_declared_range_that_solved_configs_meet(name: str, budget: int) -> None:
    cfg = solve_config(spec(name), 640 if budget > 100_000 else 36, 1280 if budget > 100_000 else 70, 8, budget)
    check_fields(config_fields_of(cfg))  # raises on a field without a range or outside it
    with pytest.raises(ValueError, match="no declared range"):
        check_fields({"a_new_field": 3})


def test_the_embedding_layout_follows_the_limit() -> None:
    hnerv = spec("hnerv")
    assert embedding_layout(hnerv, 160, 320, 132, 10_000) == (choose_grid(160, 320), {"embed_dim": 16})
    assert embedding_layout(hnerv, 160, 320, 132, 64) == (choose_grid(160, 320), {"embed_dim": 8})
    # 72x128: the preferred grid has 9x16 cells; a small limit moves to a coarser one, padding bounded
    assert choose_grid(72, 128)[0] == (2, 2, 2)
    grid, fields = embedding_layout(hnerv, 72, 128, 132, 128)
    cfg = solve_config(hnerv, 72, 128, 132, 20_000, fields, grid)
    assert per_frame_values(hnerv, cfg) <= 128 and cfg.grid[0] * cfg.grid[1] < 9 * 16
    assert cfg.height * cfg.width <= MAX_PADDING * 72 * 128 and cfg.height >= 72 and cfg.width >= 128
    # a limit nothing meets: the fewest values found; NeRV has no embedding to lay out
    grid, fields = embedding_layout(hnerv, 72, 128, 132, 1)
    assert (
        fields == {"embed_dim": 4} and per_frame_values(hnerv, solve_config(hnerv, 72, 128, 132, 0, fields, grid)) <= 32
    )
    assert embedding_layout(spec("nerv"), 72, 128, 132, 1) == (None, {})
    assert embedding_layout(spec("pnerv"), 72, 128, 132, 1) == (None, {})  # its difference embedding is not governed


LAID_OUT = [n for n in MODELS if spec(n).model_cls.layout_field]


@pytest.mark.parametrize("name", LAID_OUT)
@pytest.mark.parametrize("size,limit", [((36, 70), 1), ((144, 176), 60)])
def test_every_laid_out_model_builds_and_runs(name: str, size: tuple[int, int], limit: int) -> None:
    grid, fields = embedding_layout(spec(name), *size, 4, limit)
    cfg = solve_config(spec(name), *size, 4, 20_000, fields, grid)
    assert cfg.embed_dim == fields["embed_dim"] < 16 and abs(count_for(spec(name), cfg) - 20_000) < 0.1 * 20_000
    if size == (144, 176):  # the preferred 4x5-cell grid cannot hold 60 values a frame: a coarser one
        assert grid != spec(name).model_cls.grid_for(*size) and per_frame_values(spec(name), cfg) <= limit
    model = spec(name).build(cfg, with_encoder=True)
    x = torch.rand(2, 3 * (2 * model.context + 1), cfg.height, cfg.width)
    assert model(torch.tensor([0, 3]), x).shape == (2, 3, cfg.height, cfg.width)


def test_capabilities_are_declared_at_registration_and_checked_against_the_class() -> None:
    from nvcodec.models.hnerv import HNeRV, HNeRVConfig
    from nvcodec.models.registry import register

    assert spec("hinerv").capabilities.patches and spec("hinerv").capabilities.grids
    assert spec("pfnr").progressive and not spec("hnerv").progressive
    assert not any(spec(n).capabilities.patches for n in ("hnerv", "nerv", "pfnr"))
    with pytest.raises(TypeError, match="declares patches=True, its class says False"):

        @register("liar", 99, patches=True)
        class Liar(HNeRV):
            config_cls = HNeRVConfig

    with pytest.raises(TypeError, match="declares chroma=\\('rgb',\\), its config's yuv420 says True"):

        @register("mute", 97)  # hnerv's config has the 4:2:0 stage: the declaration must say so
        class Mute(HNeRV):
            config_cls = HNeRVConfig

    with pytest.raises(TypeError, match="does not declare its config_cls"):

        @register("lazy", 98)
        class Lazy(HNeRV):
            pass
