"""HFE-HNeRV as its authors' script builds and trains it: sizes, the HF encoder's levels, the
switches an ablation turns, the focal frequency loss, the recipe, and the retired first build."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from pytorch_optimizer import Adan

from nvcodec.bitio import ReadError
from nvcodec.fit.losses import LOSSES, focal_frequency
from nvcodec.fit.train import make_optimizer
from nvcodec.format import VideoMeta
from nvcodec.format.header import read_model
from nvcodec.models import spec
from nvcodec.models.hfe_hnerv import hf_cell_for, hf_levels
from nvcodec.models.layers import Harmonic
from nvcodec.pipeline import EncodeOptions
from nvcodec.pipeline.options import Training

HFE = spec("hfe-hnerv")


AS_RELEASED = Training(lr_scale=1.0, lr_warmup=None)
"""The recipe as its release trains (the default training scales its rate and its warm-up)."""


def test_the_authors_3m_model_has_their_parameter_count() -> None:
    # Vencoders/HFE-NeRV f246270, HNeRV() default: C0 95, widths /1.2, decoder 3,008,439 + head 1,029
    cfg = HFE.model_cls.default_config(640, 1280, 132, (5, 4, 4, 2, 2), 95)
    params = HFE.skeleton(cfg).transmitted_parameters()
    head = sum(p.numel() for n, p in params.items() if n.startswith("head"))
    assert (sum(p.numel() for p in params.values()) - head, head) == (3_008_439, 1_029)
    shapes = HFE.skeleton(cfg).embedding_shapes()
    assert shapes == {"embedding": (132, 16, 2, 4), "hf_embedding": (132, 2, 10, 20)}  # 400 values a frame


@pytest.mark.parametrize(
    ("strides", "cell", "levels"),
    [
        ((5, 4, 4, 2, 2), 64, (2, 4, 2)),
        ((5, 2, 2, 2, 2), 80, (2, 3, 5)),
        ((4, 2, 2), 16, (2, 2, 2)),
        ((3,), 3, (1, 0, 3)),
    ],
)
def test_the_hf_grid_is_the_nearest_to_64_pixels_the_strides_offer(
    strides: tuple[int, ...], cell: int, levels: tuple[int, int, int]
) -> None:
    assert hf_cell_for(strides) == cell and hf_levels(cell) == levels
    first, n, last = levels
    assert first * 2**n * last == cell


def test_the_hf_encoder_makes_the_embedding_the_decoder_reads() -> None:
    cfg = HFE.model_cls.default_config(128, 256, 2, (4, 4, 2, 2), 24)
    model = HFE.build(cfg, with_encoder=True)
    frames = torch.rand(2, 3, 128, 256)
    embeddings = model.encode_frames(frames)
    assert {n: tuple(e.shape) for n, e in embeddings.items()} == {
        n: (2, *s[1:]) for n, s in model.embedding_shapes().items()
    }
    assert embeddings["hf_embedding"].shape[-2:] == (2, 4)  # 64-pixel cells
    model.decode(None, embeddings).mean().backward()
    assert all(p.grad is not None for p in model.encoder_hf.parameters() if p.requires_grad)


@pytest.mark.parametrize(
    ("fields", "hfm", "harmonics", "residual_convs"),
    [
        ({}, 4, 6, 4),  # stem, four blocks, HF stem
        ({"hf_dim": 0}, 0, 5, 0),
        ({"sft_blocks": 2}, 2, 6, 2),
        ({"sft_residual": False}, 4, 6, 0),
        ({"harmonic": False}, 4, 0, 4),
    ],
)
def test_each_part_switches_off(fields: dict, hfm: int, harmonics: int, residual_convs: int) -> None:
    cfg = dataclasses.replace(HFE.model_cls.default_config(64, 128, 2, (4, 2, 2, 2), 16), **fields)
    model = HFE.build(cfg, with_encoder=True)
    assert len(model.hfm) == hfm
    assert sum(isinstance(m, Harmonic) for m in model.modules()) == harmonics
    assert sum(m.conv is not None for m in model.hfm) == residual_convs
    assert ("hf_embedding" in model.embedding_shapes()) == bool(cfg.hf_dim)
    out = model(torch.tensor([0, 1]), torch.rand(2, 3, 64, 128))
    assert out.shape == (2, 3, 64, 128)
    out.mean().backward()
    assert all(p.grad is not None for p in model.transmitted_parameters().values())


def test_the_harmonic_activation_starts_at_both_weights_one() -> None:
    x = torch.linspace(-3, 3, 13)
    assert torch.allclose(Harmonic(cos=1.0)(x), math.sqrt(2) * torch.sin(x + math.pi / 4), atol=1e-6)


def test_focal_frequency_is_the_mse_for_an_error_of_one_frequency() -> None:
    target = torch.rand(1, 3, 16, 32)
    cols = torch.arange(32, dtype=torch.float32)
    out = target + 0.05 * torch.cos(2 * math.pi * 3 * cols / 32)  # two bins of equal magnitude: weights 1
    assert focal_frequency(out, target).item() == pytest.approx(torch.mean((out - target) ** 2).item(), rel=1e-4)
    noise = target + 0.05 * torch.randn_like(target)  # weights below 1 elsewhere: less than the MSE
    assert 0 < focal_frequency(noise, target) < torch.mean((noise - target) ** 2)
    assert LOSSES["hfe"](target, target).item() == pytest.approx(0.0, abs=1e-6)


def test_the_recipe_is_adan_at_3e_3_on_fusion_and_focal_frequency() -> None:
    cfg = EncodeOptions(model="hfe-hnerv", bpp=0.1, epochs=3, device="cpu", training=AS_RELEASED).fit_config(3)
    assert (cfg.optimizer, cfg.lr, cfg.loss, cfg.batch_size) == ("adan", 3e-3, "hfe", 1)
    opt = make_optimizer([{"params": [torch.nn.Parameter(torch.zeros(3))]}], cfg)
    assert isinstance(opt, Adan) and opt.param_groups[0]["lr"] == 3e-3


def test_a_file_of_the_retired_first_build_is_refused_by_name() -> None:
    with pytest.raises(ReadError, match="model id 3 is retired"):
        read_model(b"\x03\x00", VideoMeta(4, 64, 32, 25), 1000)
