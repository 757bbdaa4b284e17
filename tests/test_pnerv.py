"""PNeRV as its authors' release shapes and trains it: the pyramid's strides, the stem that keeps 16
channels, the difference embedding's resolution, the parameter count, the recipe, and the retired
first build."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from nvcodec.bitio import ReadError
from nvcodec.format import VideoMeta
from nvcodec.format.header import read_model
from nvcodec.models import solve_config, spec
from nvcodec.models.pnerv import diff_cell_for, encoder_strides, pyramid_strides
from nvcodec.pipeline import EncodeOptions
from nvcodec.pipeline.options import Training

PNERV = spec("pnerv")


@pytest.mark.parametrize(
    ("total", "strides"), [(320, (10, 2, 2, 2, 2, 2)), (80, (5, 2, 2, 2, 2)), (30, (5, 2, 3)), (4, (4,))]
)
def test_the_pyramid_is_a_stem_then_blocks_of_two_or_three(total: int, strides: tuple[int, ...]) -> None:
    assert pyramid_strides(total) == strides


AS_RELEASED = Training(lr_scale=1.0, lr_warmup=None)
"""The recipe as its release trains (the default training scales its rate and its warm-up)."""


def test_bunny_640x1280_has_the_released_shape() -> None:
    cfg = solve_config(PNERV, 640, 1280, 132, 3_000_000)
    assert (
        cfg.strides == (10, 2, 2, 2, 2, 2) and cfg.diff_grid == (40, 80) and encoder_strides(cfg.diff_cell) == (4, 2, 2)
    )
    model = PNERV.skeleton(cfg)
    assert model.stem.weight.shape == (16 * 100, 16, 1, 1)  # the stem keeps the embedding's 16 channels
    assert len(model.bsm) == 4 and isinstance(model.kfc[0], torch.nn.Identity)  # the first block's output: no KFc


def test_the_decoder_counts_what_the_release_counts_less_its_untrained_bias() -> None:
    # the released class at C 105 for Bunny (stem x10, blocks 2,2,2,2,2): 2,708,536 decoder parameters,
    # of which KFc's zero rank-1 biases (levels 80x160, 160x320, 320x640: 2 + h + w each) are 1,686
    cfg = PNERV.model_cls.default_config(640, 1280, 132, (10, 2, 2, 2, 2, 2), 105)
    decoder = sum(p.numel() for p in PNERV.skeleton(cfg).transmitted_parameters().values())
    assert decoder == 2_708_536 - (2 + 80 + 160) - (2 + 160 + 320) - (2 + 320 + 640)


def test_at_160x320_the_difference_embedding_is_on_16_pixel_cells() -> None:
    cfg = solve_config(PNERV, 160, 320, 132, 188_000)
    assert cfg.strides == (5, 2, 2, 2, 2) and diff_cell_for(cfg.strides) == 16 and cfg.diff_grid == (10, 20)
    model = PNERV.build(dataclasses.replace(cfg, frames=2), with_encoder=True)
    frames = torch.rand(2, 9, 160, 320)
    embeddings = model.encode_frames(frames)
    assert embeddings["diff_embedding"].shape == (2, 2, 10, 20)
    out = model.decode(None, embeddings)
    assert out.shape == (2, 3, 160, 320)
    out.mean().backward()
    assert all(p.grad is not None for p in model.transmitted_parameters().values())


def test_the_recipe_is_the_releases() -> None:
    cfg = EncodeOptions(model="pnerv", bpp=0.1, epochs=3, device="cpu", training=AS_RELEASED).fit_config(3)
    assert (cfg.lr, cfg.loss, cfg.optimizer, cfg.betas, cfg.clip, cfg.warmup) == (
        5e-4,
        "l2",
        "adam",
        (0.5, 0.999),
        0.1,
        0.2,
    )


def test_a_file_of_the_retired_first_build_is_refused_by_name() -> None:
    with pytest.raises(ReadError, match="model id 7 is retired"):
        read_model(b"\x07\x00", VideoMeta(4, 64, 32, 25), 1000)
