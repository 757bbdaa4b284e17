"""SNeRV-T, SNeRV's temporal extension: besides the LL-band embedding of frame t, two small temporal
embeddings come from the temporal-low bands of the Haar DWT of the frame pairs (t-1, t) and
(t, t+1) (2D Haar per frame, then a 1D Haar along time); the last three up-sampling blocks become
temporal up-sampling blocks (TUBs) that process [backward, current, forward] features with 3D
convolutions, and the last TUB collapses the three time slots into frame t. LL and HFR heads and
the inverse DWT as in SNeRV; the same loss.

Choices for any frame size (../shared/reference/frequency_models.md section 3.2 leaves several open):
the temporal embeddings (3 channels each, one DB encoder each) sit at the resolution of the block
before the TUBs divided by ``t_down``, the smallest power of two that keeps both within four times the
content embedding; they enter through a 1x1 conv and a transposed conv to that block's resolution;
each TUB up-samples every time slot with the block's conv + PixelShuffle, then applies Conv3d
(C -> 2C, 3x3x3), LeakyReLU(0.1), Conv3d (2C -> C) with a residual; the last TUB's second Conv3d
has no temporal padding. The LL range (min, max) is shared by the three frames of the window; the
temporal-low band is the mean of the two LL bands.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe
from nvcodec.models.layers import (
    ConvNeXtEncoder,
    NervBlock,
    embedding_downscale,
    half_resolution_candidates,
    stage_widths,
)
from nvcodec.models.registry import register
from nvcodec.models.snerv import HFR, HalfResolutionConfig
from nvcodec.models.wavelet import haar_dwt, haar_idwt

TUBS = 3


@dataclass(frozen=True)
class SNeRVTConfig(HalfResolutionConfig):
    """Everything the decoder needs to rebuild a SNeRV-T network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the LL embedding.
        t_dim: channels of each of the two temporal embeddings.
        t_down: the temporal embeddings' resolution is the pre-TUB features' divided by this.
        enc_width: width of the training-only encoders.
        reduce: width divisor from one block to the next.
        lower_width: smallest block width.
        max_kernel: largest spatial kernel; block i uses min(1 + 2i, max_kernel).
    """

    embed_dim: int = 16
    t_dim: int = 3
    t_down: int = 1
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5

    @property
    def split(self) -> int:
        """Index of the first TUB among the blocks."""
        return max(0, len(self.strides) - TUBS)

    @property
    def pre_tub_size(self) -> tuple[int, int]:
        """Size of the features entering the first TUB."""
        s = math.prod(self.strides[: self.split])
        return self.grid[0] * s, self.grid[1] * s

    @property
    def t_grid(self) -> tuple[int, int]:
        """Temporal embedding height and width."""
        h, w = self.pre_tub_size
        return h // self.t_down, w // self.t_down


class TUB(nn.Module):
    """Temporal up-sampling block over N x C x 3 x H x W features."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int, collapse: bool) -> None:
        super().__init__()
        self.up = NervBlock(c_in, c_out, stride, kernel)
        self.conv1 = nn.Conv3d(c_out, 2 * c_out, 3, padding=1)
        self.conv2 = nn.Conv3d(2 * c_out, c_out, 3, padding=(0 if collapse else 1, 1, 1))
        self.collapse = collapse

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Up-sample every time slot, mix them in 3D, keep 3 slots (or collapse to the middle one)."""
        n, c, t, h, w = z.shape
        up = self.up(z.transpose(1, 2).reshape(n * t, c, h, w))
        up = up.reshape(n, t, *up.shape[1:]).transpose(1, 2)
        mixed = self.conv2(F.leaky_relu(self.conv1(up), 0.1))
        return mixed + (up[:, :, 1:2] if self.collapse else up)


@register("snerv-t", 6, SNeRVTConfig)
class SNeRVT(NeuralVideoModel):
    """SNeRV-T: LL + temporal embeddings, spatial blocks then TUBs, LL/HFR heads, inverse DWT."""

    recipe = Recipe(lr=1e-3, loss="snerv", clip=1.0, warmup=0.2)  # as released (qwertja/SNeRV, train_snerv_t.py)
    context = 1
    embedding_min_bits = {"ll_range": 10}  # the ranges scale the whole LL band

    def __init__(self, config: SNeRVTConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        widths = stage_widths(c.c0, len(c.strides), c.reduce, c.lower_width)
        k = c.split
        self.stem = nn.Conv2d(c.embed_dim, c.c0, 1)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], c.strides[i], min(1 + 2 * i, c.max_kernel)) for i in range(k)
        )
        self.t_in = nn.ModuleList(nn.Conv2d(c.t_dim, widths[k], 1) for _ in range(2))
        self.t_up = nn.ModuleList(
            nn.ConvTranspose2d(widths[k], widths[k], c.t_down, stride=c.t_down) if c.t_down > 1 else nn.Identity()
            for _ in range(2)
        )
        n = len(c.strides)
        self.tubs = nn.ModuleList(
            TUB(widths[i], widths[i + 1], c.strides[i], min(1 + 2 * i, c.max_kernel), collapse=i == n - 1)
            for i in range(k, n)
        )
        self.ll_head = nn.Conv2d(widths[-1], 3, 3, padding=1)
        self.hfr = nn.ModuleList(HFR(widths[-1]) for _ in range(3))
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)
            self.encoder_t = nn.ModuleList(ConvNeXtEncoder(t_strides_for(c), c.enc_width, c.t_dim) for _ in range(2))

    grid_options = staticmethod(half_resolution_candidates)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> SNeRVTConfig:
        """The config for a padded size, frames, strides and stem width, ``fields`` set as given;
        unless set, ``t_down`` keeps the two temporal embeddings within four times the LL embedding's size."""
        cfg = SNeRVTConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)
        if "t_down" in fields:
            return cfg
        limit = 4 * cfg.embed_dim * cfg.grid[0] * cfg.grid[1]
        return dataclasses.replace(cfg, t_down=embedding_downscale(*cfg.pre_tub_size, 2 * cfg.t_dim, limit))

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """LL embedding, shared LL range, and the backward/forward temporal embeddings (stacked)."""
        c = self.config
        return {
            "embedding": (c.frames, c.embed_dim, *c.grid),
            "ll_range": (c.frames, 2),
            "t_embedding": (c.frames, 2 * c.t_dim, *c.t_grid),
        }

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings from [previous, current, next] frames stacked on channels."""
        lls = [haar_dwt(frames[:, 3 * i : 3 * i + 3])[0] for i in range(3)]
        stacked = torch.stack(lls, dim=1)
        lo, hi = stacked.amin(dim=(1, 2, 3, 4)), stacked.amax(dim=(1, 2, 3, 4))
        span = (hi - lo).clamp_min(1e-6)[:, None, None, None]
        norm = [(ll - lo[:, None, None, None]) / span for ll in lls]
        temporal = [enc((norm[j] + norm[j + 1]) / 2) for j, enc in enumerate(self.encoder_t)]
        return {
            "embedding": self.encoder(norm[1]),
            "ll_range": torch.stack([lo, hi], dim=1),
            "t_embedding": torch.cat(temporal, dim=1),
        }

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames from their LL embedding, LL range and temporal embeddings."""
        x = F.gelu(self.stem(embeddings["embedding"]))
        for block in self.blocks:
            x = block(x)
        tb, tf = embeddings["t_embedding"].chunk(2, dim=1)
        slots = [up(proj(t)) for t, proj, up in zip((tb, tf), self.t_in, self.t_up, strict=True)]
        z = torch.stack([slots[0], x, slots[1]], dim=2)
        for tub in self.tubs:
            z = tub(z)
        m = z[:, :, 0]
        rng = embeddings["ll_range"]
        lo, hi = rng[:, 0, None, None, None], rng[:, 1, None, None, None]
        ll = (torch.tanh(self.ll_head(m)) * 0.5 + 0.5) * (hi - lo) + lo
        lh, hl, hh = (head(m) for head in self.hfr)
        return haar_idwt(ll, lh, hl, hh)


def t_strides_for(c: SNeRVTConfig) -> tuple[int, ...]:
    """Strides of a temporal encoder: from LL resolution down to the temporal grid."""
    strides = tuple(s for s in (*c.strides[c.split :][::-1], c.t_down) if s > 1)
    return strides or (1,)
