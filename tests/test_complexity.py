"""Decode complexity: MACs per pixel counted from the model, against a count by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nvcodec.models import decode_macs, kmac_per_pixel, spec
from nvcodec.models.hnerv import HNeRVConfig


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
