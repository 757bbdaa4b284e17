"""NeRV (Chen et al., NeurIPS 2021) as released (haochen-rye/NeRV): the frame index, positionally
encoded, goes through a two-layer MLP to a C0-channel feature grid of about 9 x 16 cells, and NeRV
blocks (3x3 conv, PixelShuffle, GELU) up-sample it to the frame; a 1x1 conv gives RGB. Nothing per
frame is transmitted: the whole video lives in the weights, most of them in the MLP.

The paper's proportions, kept at every budget:

* **Grid**: the total stride whose grid is nearest 9 x 16 = 144 cells without padding
  (:func:`nerv_grid_candidates`): 5,2,2,2,2 at 720x1280 (9x16) and 640x1280 (8x16), 5,3,2,2,2 at
  1080x1920, 5,2,2 at 160x320.
* **Widths**: the first block keeps C0 channels, each later one halves them down to a floor
  (96 in the release: NeRV-S/M/L differ only in C0).
* **Below the paper's 3.2M values** the MLP's hidden width (512) and the floor (96) scale with
  ``sqrt(budget / 3.2M)`` (:func:`scaled_widths`), which keeps about two thirds of the values in the
  MLP as the paper's sizes have; at 3.2M and above they are the release's.
* **Encoding**: 40 frequencies of base 1.25 (80 values, the release's ``--embed 1.25_40``), a GELU
  after both linear layers, output ``tanh(x) / 2 + 0.5``; Adam with betas (0.5, 0.999), warm-up
  20 %, fusion6 loss, learning rate 5e-4, as released.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import NervBlock, positional_encoding, stride_lists
from nvcodec.models.registry import register

PAPER_VALUES = 3_200_000
"""NeRV-S's size: at and above it the MLP width and the width floor are the release's."""
PAPER_STEM, PAPER_FLOOR = 512, 96
TARGET_CELLS = 144
"""The paper's feature grid, 9 x 16 cells."""


@dataclass(frozen=True)
class NeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a NeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        stem_dim: hidden width of the two-layer MLP (512 in the release).
        pe_levels: positional-encoding frequencies L (the encoding has 2L values; 40 as released).
        pe_base: positional-encoding base b (frequencies b^j * pi).
        lower_width: the narrowest block after the first (96 in the release); each block after the
            first has ``max(previous // 2, lower_width)`` channels.
        kernel: conv kernel size of every block.
    """

    stem_dim: int = PAPER_STEM
    pe_levels: int = 40
    pe_base: float = 1.25
    lower_width: int = PAPER_FLOOR
    kernel: int = 3

    def widths(self) -> list[int]:
        """Channels of the MLP's grid and of each block's output: C0, C0, then halving to the floor."""
        out = [self.c0, self.c0]
        for _ in self.strides[1:]:
            out.append(max(out[-1] // 2, self.lower_width))
        return out


def scaled_widths(params: int) -> tuple[int, int]:
    """The MLP width and width floor for a budget of ``params`` values: the release's at
    :data:`PAPER_VALUES` and above, scaled by ``sqrt(params / PAPER_VALUES)`` below (the floor a
    multiple of 4, at least 4; the MLP at least 16; a budget of 0 asks for the smallest model)."""
    scale = min(1.0, math.sqrt(max(params, 0) / PAPER_VALUES))
    return max(16, round(PAPER_STEM * scale)), max(4, 4 * round(PAPER_FLOOR * scale / 4))


def nerv_grid_candidates(height: int, width: int) -> list[tuple[tuple[int, ...], int, int]]:
    """Decoder stride lists and padded sizes for a frame size, best first, ranked by how near the
    grid comes to :data:`TARGET_CELLS` cells (``-|log(cells / 144)|``) less ``20 log(overhead)``
    for padding (as :func:`~nvcodec.models.layers.grid_candidates` ranks it); grids of at least 2x2."""
    scored = []
    for s, strides in stride_lists().items():
        ph, pw = -(-height // s) * s, -(-width // s) * s
        if ph // s < 2 or pw // s < 2:
            continue
        cells = (ph // s) * (pw // s)
        score = -abs(math.log(cells / TARGET_CELLS)) - 20.0 * math.log(ph * pw / (height * width))
        scored.append((score, s, (strides, ph, pw)))
    scored.sort(key=lambda c: (c[0], c[1]), reverse=True)
    return [c[2] for c in scored] or [((1,), height, width)]


@register("nerv", 12)
class NeRV(NeuralVideoModel):
    """NeRV: frame index -> positional encoding -> MLP -> NeRV blocks -> 1x1 conv -> RGB."""

    config_cls = NeRVConfig

    recipe = Recipe(lr=5e-4, loss="fusion6", betas=(0.5, 0.999), warmup=0.2)  # as released (haochen-rye/NeRV)
    grid_options = staticmethod(nerv_grid_candidates)
    tapers_lower_width = False  # default_config scales it with the budget
    refine_field = "stem_dim"  # no width ratio between stages: the MLP's width lands the budget

    def __init__(self, config: NeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        self.config = config
        gh, gw = config.grid
        widths = config.widths()
        self.fc1 = nn.Linear(2 * config.pe_levels, config.stem_dim)
        self.fc2 = nn.Linear(config.stem_dim, config.c0 * gh * gw)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], s, config.kernel) for i, s in enumerate(config.strides)
        )
        self.head = nn.Conv2d(widths[-1], 3, 1)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> NeRVConfig:
        """The config for a padded frame size, frame count, strides and C0, the MLP width and floor
        from the budget ``params`` (:func:`scaled_widths`) unless ``fields`` sets them."""
        stem, floor = scaled_widths(params)
        fields.setdefault("stem_dim", stem)
        fields.setdefault("lower_width", floor)
        return NeRVConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """NeRV transmits nothing per frame."""
        return {}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """NeRV has no encoder: no embeddings."""
        return {}

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames for integer frame indices ``index`` (N,)."""
        c = self.config
        pe = positional_encoding(index.float() / c.frames, c.pe_levels, c.pe_base)
        x = F.gelu(self.fc2(F.gelu(self.fc1(pe)))).view(-1, c.c0, *c.grid)
        for block in self.blocks:
            x = block(x)
        return torch.tanh(self.head(x)) * 0.5 + 0.5
