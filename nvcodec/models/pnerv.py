"""PNeRV (Pyramidal NeRV, CVPR 2024), shaped after its authors' release (QiZhao-NJU, d46afa4): a
content embedding (HNeRV's encoder) plus a two-channel difference embedding per frame, from the
frame's differences to its neighbours; the difference embedding is projected to every decoder scale
by KFc (per channel ``A_c E_c B_c``, a fully connected map factorized as a Kronecker product),
normalized per sample, and fused into the decoder features by BSM gates ``a F + (1 - a) r``.

Decoder as released: a 1x1 stem that keeps the embedding's 16 channels and up-samples with
PixelShuffle (x10 at 640x1280), then up to five constant-width 3x3 conv + PixelShuffle (x2 or x3) +
GELU blocks, a BSM after every block but the last, a 3x3 sigmoid head. The difference embedding
sits at the pyramid level nearest 16-pixel cells (40x80 at 640x1280, where that is the first
block's output and needs no KFc). Recipe: MSE, Adam at 5e-4 with betas (0.5, 0.999), gradient
norm clipped at 0.1, 20 % warm-up. KFc's normalization is per sample (instance norm with affine;
the release's batch norm stays in training mode with batch 1) and KFc has no bias (the release's
zero-initialized rank-1 bias never trains). The paper counts its "3M" as the decoder alone; our
budget counts everything the file holds (see the README's model zoo).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import ConvNeXtEncoder, NervBlock, grid_candidates
from nvcodec.models.registry import register

DIFF_CELL = 16
"""Pixels per cell of the released difference embedding at 640x1280 (40x80)."""
MAX_BLOCKS = 5


def pyramid_strides(total: int) -> tuple[int, ...]:
    """The release's up-sampling for a total stride: the stem's factor, then up to five block
    strides of 2 (or 3), peeled from the total while the stem keeps a factor of at least 5
    (640x1280, total 320: stem 10, blocks 2,2,2,2,2)."""
    blocks: list[int] = []
    rest = total
    for factor in (2, 3):
        while len(blocks) < MAX_BLOCKS and rest % factor == 0 and rest // factor >= 5:
            blocks.append(factor)
            rest //= factor
    return (rest, *blocks)


def pnerv_grid_candidates(height: int, width: int) -> list[tuple[tuple[int, ...], int, int]]:
    """:func:`grid_candidates`, each stride list regrouped as :func:`pyramid_strides`."""
    return [(pyramid_strides(math.prod(s)), ph, pw) for s, ph, pw in grid_candidates(height, width)]


def encoder_strides(cell: int) -> tuple[int, ...]:
    """Strides of the difference encoder's stages for a cell (16: 4, 2, 2, as released)."""
    out, rest = [], cell
    if rest % 4 == 0 and rest > 4:
        out.append(4)
        rest //= 4
    for factor in (2, 3, 5):
        while rest % factor == 0:
            out.append(factor)
            rest //= factor
    return (*out, rest) if rest > 1 else (tuple(out) or (1,))


@dataclass(frozen=True)
class PNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a PNeRV network: the fields of
    :class:`VideoGridConfig` (``strides``: the stem's factor first, then the blocks') and these.

    Attributes:
        embed_dim: channels of the content embedding, kept by the stem (16).
        diff_dim: channels of the difference embedding (2).
        diff_cell: pixels per cell of the difference embedding (the cell of one pyramid level).
        enc_width: width of the training-only encoders.
    """

    embed_dim: int = 16
    diff_dim: int = 2
    diff_cell: int = DIFF_CELL
    enc_width: int = 64

    def level_sizes(self) -> list[tuple[int, int]]:
        """Feature size after the stem and after every block."""
        h, w = self.grid
        sizes = []
        for s in self.strides:
            h, w = h * s, w * s
            sizes.append((h, w))
        return sizes

    @property
    def diff_grid(self) -> tuple[int, int]:
        """Difference embedding height and width."""
        return self.height // self.diff_cell, self.width // self.diff_cell


def diff_cell_for(strides: tuple[int, ...], target: int = DIFF_CELL) -> int:
    """The cell of the pyramid level (after the stem or a block but the last) nearest ``target``."""
    cells = [math.prod(strides[i:]) for i in range(1, max(2, len(strides)))]
    return min(cells, key=lambda c: (abs(math.log(c / target)), c))


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


@register("pnerv", 11)
class PNeRV(NeuralVideoModel):
    """PNeRV: content + difference embeddings, KFc pyramid, BSM fusion."""

    config_cls = PNeRVConfig

    recipe = Recipe(lr=5e-4, loss="l2", betas=(0.5, 0.999), clip=0.1, warmup=0.2)
    context = 1
    grid_options = staticmethod(pnerv_grid_candidates)

    def __init__(self, config: PNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        s0 = c.strides[0]
        self.stem = nn.Conv2d(c.embed_dim, c.embed_dim * s0 * s0, 1)
        self.stem_shuffle = nn.PixelShuffle(s0)
        widths = [c.embed_dim] + [c.c0] * (len(c.strides) - 1)
        self.blocks = nn.ModuleList(NervBlock(widths[i], c.c0, s, 3) for i, s in enumerate(c.strides[1:]))
        levels = c.level_sizes()[1:-1]
        self.kfc = nn.ModuleList(
            KFc(c.diff_dim, c.diff_grid, size) if size != c.diff_grid else nn.Identity() for size in levels
        )
        self.bsm = nn.ModuleList(BSM(c.c0, c.diff_dim) for _ in levels)
        self.head = nn.Conv2d(c.c0 if len(c.strides) > 1 else c.embed_dim, 3, 3, padding=1)
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)
            self.encoder_diff = ConvNeXtEncoder(encoder_strides(c.diff_cell), c.enc_width, c.enc_width, in_channels=6)
            self.encoder_diff_out = nn.Conv2d(c.enc_width, c.diff_dim, 1)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> PNeRVConfig:
        """The config for a padded frame size, frame count, strides and width, ``fields`` set as given;
        unless set, the difference embedding sits at the level nearest 16-pixel cells."""
        fields.setdefault("diff_cell", diff_cell_for(strides))
        return PNeRVConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

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
