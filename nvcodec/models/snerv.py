"""SNeRV (Spectra-preserving NeRV, ECCV 2024, arXiv 2501.01681): a frame's Haar LL band (min-max
normalized; min and max are sent per frame) is embedded by HNeRV's encoder; NeRV up-sampling blocks
work at LL resolution; a multi-resolution feature-fusion unit (MFU: transposed conv, concat with the
next block's output, conv + residual blocks) refines the last stages; an LL head and three
high-frequency reconstruction (HFR) heads produce the four bands, and the inverse DWT gives the frame.
Loss: L1/SSIM (alpha 0.7) on the image plus on the wavelet coefficients.

Generalizations for any frame size (choices): the MFU starts at the third-to-last block and its
transposed convs use kernel = stride = that block's stride; residual blocks per MFB follow the stem
width C0 (2 below 50, 3 below 70, 4 below 100, else 6: the paper's 2/3/4/6 at its 0.35/0.75/1.5/3M widths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import ConvNeXtEncoder, NervBlock, half_resolution_candidates, stage_widths
from nvcodec.models.registry import register
from nvcodec.models.wavelet import haar_dwt, haar_idwt


@dataclass(frozen=True)
class HalfResolutionConfig(VideoGridConfig):
    """A config whose strides work at the Haar LL band's (half) resolution."""

    @property
    def grid(self) -> tuple[int, int]:
        """Embedding height and width (the IDWT does the last x2)."""
        s = 2 * math.prod(self.strides)
        return self.height // s, self.width // s


@dataclass(frozen=True)
class SNeRVConfig(HalfResolutionConfig):
    """Everything the decoder needs to rebuild a SNeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the per-frame embedding.
        enc_width: width of the training-only ConvNeXt encoder.
        reduce: width divisor from one block to the next.
        lower_width: smallest block width.
        max_kernel: largest block kernel; block i uses min(1 + 2i, max_kernel).
        res_blocks: residual blocks in each MFU block.
    """

    embed_dim: int = 16
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5
    res_blocks: int = 2


class ResBlock(nn.Module):
    """3x3 conv, LeakyReLU(0.1), 3x3 conv, identity added."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + conv(lrelu(conv(x)))."""
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.1))


class MFB(nn.Module):
    """One MFU block: up-sample the fused features, concat the block output, conv, residual blocks."""

    def __init__(self, c_in: int, c_skip: int, stride: int, res_blocks: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_in, stride, stride=stride)
        self.fuse = nn.Conv2d(c_in + c_skip, c_skip, 3, padding=1)
        self.res = nn.Sequential(*(ResBlock(c_skip) for _ in range(res_blocks)))

    def forward(self, m: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Fuse the coarser features ``m`` with the block output ``skip``."""
        return self.res(self.fuse(torch.cat([self.up(m), skip], dim=1)))


class HFR(nn.Module):
    """High-frequency reconstruction head: 1x1 conv, LeakyReLU(0.1), 3x3 conv to 3 channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 1)
        self.conv2 = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One detail band."""
        return self.conv2(F.leaky_relu(self.conv1(x), 0.1))


def ll_range(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Haar LL band of frames and its per-frame (min, max) as an N x 2 tensor."""
    ll = haar_dwt(frames)[0]
    return ll, torch.stack([ll.amin(dim=(1, 2, 3)), ll.amax(dim=(1, 2, 3))], dim=1)


@register("snerv", 5)
class SNeRV(NeuralVideoModel):
    """SNeRV backbone: LL-band embeddings, NeRV blocks, MFU, LL and HFR heads, inverse DWT."""

    config_cls = SNeRVConfig

    recipe = Recipe(lr=1e-3, loss="snerv")
    layout_field = "embed_dim"
    embedding_min_bits = {"ll_range": 10}  # the ranges scale the whole LL band

    def __init__(self, config: SNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        n = len(c.strides)
        widths = stage_widths(c.c0, n, c.reduce, c.lower_width)
        self.stem = nn.Conv2d(c.embed_dim, c.c0, 1)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], s, min(1 + 2 * i, c.max_kernel)) for i, s in enumerate(c.strides)
        )
        self.mfu_start = max(0, n - 3)
        self.mfu = nn.ModuleList(
            MFB(widths[j], widths[j + 1], c.strides[j], c.res_blocks) for j in range(self.mfu_start + 1, n)
        )
        self.ll_head = nn.Conv2d(widths[-1], 3, 3, padding=1)
        self.hfr = nn.ModuleList(HFR(widths[-1]) for _ in range(3))
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)

    grid_options = staticmethod(half_resolution_candidates)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> SNeRVConfig:
        """The config for a padded frame size, frame count, strides and stem width, ``fields`` set as
        given (``res_blocks`` follows the stem width unless set; ``params`` is not needed)."""
        fields.setdefault("res_blocks", 2 if c0 < 50 else 3 if c0 < 70 else 4 if c0 < 100 else 6)
        return SNeRVConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """The LL embedding and the per-frame LL (min, max)."""
        c = self.config
        return {"embedding": (c.frames, c.embed_dim, *c.grid), "ll_range": (c.frames, 2)}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings of the normalized LL bands, and the LL ranges."""
        ll, rng = ll_range(frames)
        lo, span = rng[:, 0, None, None, None], (rng[:, 1] - rng[:, 0]).clamp_min(1e-6)[:, None, None, None]
        return {"embedding": self.encoder((ll - lo) / span), "ll_range": rng}

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames from embeddings and LL ranges."""
        x = F.gelu(self.stem(embeddings["embedding"]))
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        m = outs[self.mfu_start]
        for j, mfb in enumerate(self.mfu, start=self.mfu_start + 1):
            m = mfb(m, outs[j])
        rng = embeddings["ll_range"]
        lo, hi = rng[:, 0, None, None, None], rng[:, 1, None, None, None]
        ll = (torch.tanh(self.ll_head(m)) * 0.5 + 0.5) * (hi - lo) + lo
        lh, hl, hh = (head(m) for head in self.hfr)
        return haar_idwt(ll, lh, hl, hh)
