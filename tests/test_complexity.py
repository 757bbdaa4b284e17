"""Decode complexity: MACs per pixel counted from the model, against a count by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from nvcodec.models import decode_macs, kmac_per_pixel, solve_config, spec
from nvcodec.models.hnerv import HNeRVConfig
from nvcodec.pipeline.effort import pass_flops


def test_hnerv_macs_match_a_hand_count() -> None:
    config = HNeRVConfig(height=16, width=32, frames=2, strides=(2, 2), c0=8, embed_dim=4, lower_width=4)
    # widths 8 -> 7 -> 6 (divided by 1.2, rounded); kernels 1 then 3; the embedding grid is 4 x 8
    stem = (4 * 8) * 8 * 4  # 1x1 conv, 4 -> 8 channels, at 4 x 8
    block0 = (4 * 8) * (7 * 2 * 2) * 8 * 1  # 1x1 conv, 8 -> 7 x 2^2 channels, at 4 x 8
    block1 = (8 * 16) * (6 * 2 * 2) * 7 * 9  # 3x3 conv, 7 -> 6 x 2^2 channels, at 8 x 16
    head = (16 * 32) * 3 * 6 * 9  # 3x3 conv, 6 -> 3 channels, at 16 x 32
    assert decode_macs(spec("hnerv"), config) == stem + block0 + block1 + head == 284_672
    assert kmac_per_pixel(spec("hnerv"), config, 16, 32) == pytest.approx(284_672 / 512 / 1000)


def test_info_gives_the_decoder_s_kmac_per_pixel(cli, small_nrv: Path) -> None:
    code, out, err = cli("info", small_nrv, "--json")
    assert code == 0, err
    video = json.loads(out)["videos"][0]
    assert video["kmac_per_pixel"] > 0


@pytest.mark.parametrize("name", ["hnerv", "canvas"])
def test_sizing_counts_a_training_step_as_pytorch_s_flop_counter_does(name: str) -> None:
    """:func:`pass_flops` (its own :class:`OpCounter`, the encoder counted once per shape)
    gives ``FlopCounterMode``'s totals for the decoder's and the encoder's forward and backward."""
    model_spec = spec(name)
    config = solve_config(model_spec, 32, 48, 4, 3000)
    model = model_spec.skeleton(config, with_encoder=bool(model_spec.skeleton(config).embedding_shapes()))
    with torch.device("meta"):
        frames = torch.zeros(1, 3 * (2 * model_spec.model_cls.context + 1), config.height, config.width)
        with FlopCounterMode(display=False) as encoder:
            embeddings = model.encode_frames(frames) if model.embedding_shapes() else {}
            if embeddings:
                torch.stack([e.sum() for e in embeddings.values()]).sum().backward()
        leaves = {n: e.detach().requires_grad_() for n, e in embeddings.items()}
        with FlopCounterMode(display=False) as decoder:
            model.decode(torch.zeros(1, dtype=torch.long), leaves).float().mean().backward()
    assert decoder.get_total_flops() > 0
    assert pass_flops(model_spec, config, 1) == (decoder.get_total_flops(), encoder.get_total_flops())
