"""PNeRV (Pyramidal NeRV, CVPR 2024): a content embedding (HNeRV's encoder) plus a small two-channel
difference embedding per frame, from the frame's differences to its neighbours; the difference
embedding is projected to every decoder scale by KFc (per channel ``A_c E_c B_c``, a fully connected
map factorized as a Kronecker product), normalized per sample, and fused into the decoder features by
BSM gates ``a F + (1 - a) r``. Decoder: a 1x1 stem with PixelShuffle, then constant-width 3x3 conv +
PixelShuffle + GELU blocks; sigmoid head; MSE loss.

Choices for any frame size (../shared/reference/pfnr_pnerv.md part B): the stem up-samples by the
first stride; BSM follows every block but the last; the difference embedding sits at the first
block's output resolution divided by ``diff_down``, which the sizer sets to the smallest power of two
that keeps it within four times the content embedding (PNeRV's Table C.7 trades its size for
quality); KFc's normalization is per-sample (instance norm with affine), as the released code
effectively does at test time, and KFc has no bias (its zero-initialized rank-1 bias never trains).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import ConvNeXtEncoder, NervBlock, embedding_downscale
from nvcodec.models.registry import register


@dataclass(frozen=True)
class PNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a PNeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the content embedding.
        diff_dim: channels of the difference embedding (2).
        diff_down: the difference embedding's resolution is the first block's output divided by this.
        enc_width: width of the training-only encoders.
    """

    embed_dim: int = 16
    diff_dim: int = 2
    diff_down: int = 1
    enc_width: int = 64

    def level_sizes(self) -> list[tuple[int, int]]:
        """Output size of every block after the stem."""
        h, w = self.grid
        h, w = h * self.strides[0], w * self.strides[0]
        sizes = []
        for s in self.strides[1:]:
            h, w = h * s, w * s
            sizes.append((h, w))
        return sizes

    @property
    def diff_grid(self) -> tuple[int, int]:
        """Difference embedding height and width."""
        h, w = self.level_sizes()[0] if len(self.strides) > 1 else self.grid
        return h // self.diff_down, w // self.diff_down


class KFc(nn.Module):
    """Per channel ``A_c E_c B_c`` from the difference grid to one level's size, then norm and GELU."""

    def __init__(self, channels: int, src: tuple[int, int], dst: tuple[int, int]) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.randn(channels, dst[0], src[0]) / math.sqrt(src[0]))
        self.b = nn.Parameter(torch.randn(channels, src[1], dst[1]) / math.sqrt(dst[1]))
        self.norm = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        """N x C x h x w to N x C x H x W."""
        return F.gelu(self.norm(torch.einsum("cij,ncjk,ckl->ncil", self.a, e, self.b)))


class BSM(nn.Module):
    """Gate between the decoder features and the projected difference features."""

    def __init__(self, channels: int, diff_dim: int) -> None:
        super().__init__()
        self.feat = nn.Conv2d(channels, channels, 3, padding=1)
        self.diff = nn.Conv2d(diff_dim, channels, 3, padding=1)
        self.gate = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, f: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """``a F + (1 - a) r`` with ``r`` from the pyramid feature and ``a`` a sigmoid gate."""
        r = self.diff(p)
        a = torch.sigmoid(self.gate(F.relu(self.feat(f) + r)))
        return a * f + (1 - a) * r


def interleaved_differences(x: torch.Tensor) -> torch.Tensor:
    """From [previous, current, next] stacked on channels (N x 9 x H x W) to the six difference
    channels (R_p, R_f, G_p, G_f, B_p, B_f): ``current - previous`` and ``next - current``."""
    prev, cur, nxt = x[:, 0:3], x[:, 3:6], x[:, 6:9]
    return torch.stack([cur - prev, nxt - cur], dim=2).flatten(1, 2)


@register("pnerv", 7, PNeRVConfig)
class PNeRV(NeuralVideoModel):
    """PNeRV: content + difference embeddings, KFc pyramid, BSM fusion."""

    recipe = Recipe(lr=5e-4, loss="l2")
    context = 1

    def __init__(self, config: PNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        s0 = c.strides[0]
        self.stem = nn.Conv2d(c.embed_dim, c.c0 * s0 * s0, 1)
        self.stem_shuffle = nn.PixelShuffle(s0)
        self.blocks = nn.ModuleList(NervBlock(c.c0, c.c0, s, 3) for s in c.strides[1:])
        levels = c.level_sizes()[:-1]
        self.kfc = nn.ModuleList(
            KFc(c.diff_dim, c.diff_grid, size) if size != c.diff_grid else nn.Identity() for size in levels
        )
        self.bsm = nn.ModuleList(BSM(c.c0, c.diff_dim) for _ in levels)
        self.head = nn.Conv2d(c.c0, 3, 3, padding=1)
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)
            diff_strides = tuple(c.strides[2:]) + ((c.diff_down,) if c.diff_down > 1 else ())
            self.encoder_diff = ConvNeXtEncoder(diff_strides or (1,), c.enc_width, c.enc_width, in_channels=6)
            self.encoder_diff_out = nn.Conv2d(c.enc_width, c.diff_dim, 1)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> PNeRVConfig:
        """The config for a padded frame size, frame count, strides and width, ``fields`` set as given;
        unless set, ``diff_down`` keeps the difference embedding within four times the content
        embedding's size."""
        cfg = PNeRVConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)
        if "diff_down" in fields:
            return cfg
        limit = 4 * cfg.embed_dim * cfg.grid[0] * cfg.grid[1]
        return dataclasses.replace(cfg, diff_down=embedding_downscale(*cfg.diff_grid, cfg.diff_dim, limit))

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """Content and difference embeddings, frames first."""
        c = self.config
        return {"embedding": (c.frames, c.embed_dim, *c.grid), "diff_embedding": (c.frames, c.diff_dim, *c.diff_grid)}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings from [previous, current, next] frames stacked on channels."""
        diff = self.encoder_diff_out(self.encoder_diff(interleaved_differences(frames)))
        return {"embedding": self.encoder(frames[:, 3:6]), "diff_embedding": diff}

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames from their content and difference embeddings."""
        x = F.gelu(self.stem_shuffle(self.stem(embeddings["embedding"])))
        e = embeddings["diff_embedding"]
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.bsm):
                x = self.bsm[i](x, self.kfc[i](e))
        return torch.sigmoid(self.head(x))
