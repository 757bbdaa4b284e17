"""NeRV (Chen et al., NeurIPS 2021): the frame index, positionally encoded, goes through an MLP stem
to a small feature grid that NeRV blocks (3x3 conv, PixelShuffle, GELU) up-sample to the frame.
Nothing per frame is transmitted; the whole video lives in the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import NervDecoder, positional_encoding
from nvcodec.models.registry import register


@dataclass(frozen=True)
class NeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a NeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        stem_dim: hidden width of the two-layer MLP stem.
        pe_levels: positional-encoding frequencies L (the encoding has 2L values).
        pe_base: positional-encoding base b (frequencies b^j * pi).
        reduce: width divisor from one stage to the next.
        lower_width: smallest stage width.
        kernel: conv kernel size of every stage.
    """

    stem_dim: int = 128
    pe_levels: int = 80
    pe_base: float = 1.25
    reduce: float = 2.0
    lower_width: int = 12
    kernel: int = 3


@register("nerv", 1, NeRVConfig)
class NeRV(NeuralVideoModel):
    """NeRV: frame index -> positional encoding -> MLP -> NeRV blocks -> RGB."""

    recipe = Recipe(lr=5e-4, loss="fusion6", betas=(0.5, 0.999), warmup=0.2)  # as released (haochen-rye/NeRV)

    def __init__(self, config: NeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        self.config = config
        gh, gw = config.grid
        self.fc1 = nn.Linear(2 * config.pe_levels, config.stem_dim)
        self.fc2 = nn.Linear(config.stem_dim, config.c0 * gh * gw)
        kernels = (config.kernel,) * len(config.strides)
        self.decoder = NervDecoder(config.c0, config.strides, kernels, config.reduce, config.lower_width)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> NeRVConfig:
        """The config for a padded frame size, frame count, strides and stem width; the MLP's hidden
        width follows the stem width (4 x c0, between 16 and 128) so small budgets stay feasible (unless ``fields``
        sets it; ``fields`` sets any other field too)."""
        fields.setdefault("stem_dim", max(16, min(128, 4 * c0)))
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
        x = F.gelu(self.fc2(F.gelu(self.fc1(pe))))
        return self.decoder(x.view(-1, c.c0, *c.grid))
