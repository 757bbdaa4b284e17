"""HFE-HNeRV (arXiv 2411.06685), built after the authors' training script (Vencoders/HFE-NeRV at
f246270): HNeRV's content embedding and decoder, plus a transmitted high-frequency (HF) embedding
that modulates every decoder block, and harmonic activations ``a sin x + b cos x``.

* **HF encoder** (training only): a 2x2 stride-2 conv and a ConvNeXt block make a feature map at
  half resolution; a Haar split runs down its LL chain, and at each level the sum of the three
  detail bands joins (by concatenation) a learned stride-2 path; the last conv of that path
  ends in ``hf_dim`` channels at the HF grid (``hf_cell`` pixels a cell: 64 in the paper, about
  400 values a frame at 640x1280).
* **Decoder**: a 1x1 stem; per block conv k x k, PixelShuffle, the activation, then HFM: the HF
  features (a 1x1 conv to ``hf_width`` channels and the activation) are resized bicubically, one
  block's size after the other, and drive a spatial feature transform ``x (1 + scale) + shift``
  (two 1x1 convs with a ReLU between, for each of scale and shift), followed by a residual
  ``x + GELU(conv3x3(.))``.
* **Recipe** (:attr:`HFEHNeRV.recipe`): 0.7 L1 +
  0.3 (1 - SSIM) + 100 x focal frequency loss, Adan at 3e-3, batch 1, warm-up then cosine.

Every part can be switched off for an ablation (``hf_dim = 0``, ``sft_blocks``, ``sft_residual``,
``harmonic``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import ConvNeXtBlock, ConvNeXtEncoder, Harmonic, LayerNorm2d, NervBlock, stage_widths
from nvcodec.models.registry import register
from nvcodec.models.wavelet import haar_dwt

HF_CELL = 64
"""The paper's HF grid cell in pixels (H/64 x W/64); :func:`hf_cell_for` picks the nearest the
decoder's grids offer."""


@dataclass(frozen=True)
class HFEHNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a HFE-HNeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the content embedding (16, as HNeRV).
        hf_dim: channels of the high-frequency embedding (2 in the paper; 0: no HF branch).
        hf_cell: pixels per cell of the HF embedding's grid (the content grid's cell divided by a
            leading run of the decoder strides, so that the HF map meets a block's size).
        hf_width: channels of the HF features that drive the modulation (32).
        enc_width: width of both training-only encoders (64).
        reduce: width divisor from one decoder stage to the next (1.2).
        lower_width: smallest decoder width (12).
        max_kernel: largest decoder kernel; stage i uses min(1 + 2i, max_kernel).
        sft_blocks: how many decoder blocks, from the first, are followed by HFM (all five in the paper).
        sft_residual: HFM ends in the residual ``x + GELU(conv3x3(.))`` (False: the transform alone).
        harmonic: the harmonic activation in the stems and blocks (False: GELU, as HNeRV).
    """

    embed_dim: int = 16
    hf_dim: int = 2
    hf_cell: int = HF_CELL
    hf_width: int = 32
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5
    sft_blocks: int = 5
    sft_residual: bool = True
    harmonic: bool = True


def hf_cell_for(strides: tuple[int, ...], target: int = HF_CELL) -> int:
    """The HF grid's cell: among the content cell ``prod(strides)`` divided by a leading run of the
    strides, the one nearest ``target`` pixels (in the log)."""
    cells = [math.prod(strides[i:]) for i in range(len(strides))]
    return min(cells, key=lambda c: (abs(math.log(c / target)), c))


def hf_levels(cell: int) -> tuple[int, int, int]:
    """How the HF encoder reaches ``cell``: ``(first, levels, last)`` with ``cell = first x 2^levels
    x last``: the first conv's stride (2, or 1 for an odd cell), the Haar levels, and the last
    conv's stride (at least 2 when there is a Haar level to follow)."""
    first = 2 if cell % 2 == 0 else 1
    rest, levels = cell // first, 0
    while rest % 2 == 0 and rest // 2 >= 2:
        rest, levels = rest // 2, levels + 1
    return first, levels, rest


def _stage(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """LayerNorm, a k=s stride-s conv, one ConvNeXt block."""
    return nn.Sequential(LayerNorm2d(c_in), nn.Conv2d(c_in, c_out, stride, stride=stride), ConvNeXtBlock(c_out))


class HFEncoder(nn.Module):
    """The WFD: Haar detail bands of a learned half-resolution map, level after level, into the HF embedding."""

    def __init__(self, cell: int, width: int, out_dim: int) -> None:
        super().__init__()
        first, levels, last = hf_levels(cell)
        self.first = nn.Sequential(nn.Conv2d(3, width, first, stride=first), LayerNorm2d(width), ConvNeXtBlock(width))
        self.levels = levels
        ins = [width] + [2 * width] * (levels - 1) if levels else [width]
        outs = [width] * (len(ins) - 1) + [out_dim]
        strides = [2] * (len(ins) - 1) + [last]
        self.stages = nn.ModuleList(_stage(i, o, s) for i, o, s in zip(ins, outs, strides, strict=True))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames N x 3 x H x W to HF embeddings N x out_dim x H/cell x W/cell."""
        low = self.first(frames)
        if not self.levels:
            return self.stages[0](low)
        x = None
        for stage in self.stages:
            low, lh, hl, hh = haar_dwt(low)
            detail = lh + hl + hh
            x = stage(detail if x is None else torch.cat([x, detail], dim=1))
        return x


class HFM(nn.Module):
    """High-frequency modulation: a spatial feature transform by the HF features, then (optionally)
    the residual ``x + GELU(conv3x3(.))``."""

    def __init__(self, hf_width: int, channels: int, residual: bool) -> None:
        super().__init__()
        self.scale = nn.Sequential(nn.Conv2d(hf_width, hf_width, 1), nn.ReLU(), nn.Conv2d(hf_width, channels, 1))
        self.shift = nn.Sequential(nn.Conv2d(hf_width, hf_width, 1), nn.ReLU(), nn.Conv2d(hf_width, channels, 1))
        self.conv = nn.Conv2d(channels, channels, 3, padding=1) if residual else None

    def forward(self, x: torch.Tensor, hf: torch.Tensor) -> torch.Tensor:
        """``x`` modulated by ``hf`` (HF features at ``x``'s size)."""
        y = x * (1 + self.scale(hf)) + self.shift(hf)
        return y if self.conv is None else x + F.gelu(self.conv(y))


def _activation(config: HFEHNeRVConfig) -> nn.Module:
    """The harmonic activation (both weights at 1, as the authors' code) or GELU."""
    return Harmonic(cos=1.0) if config.harmonic else nn.GELU()


@register("hfe-hnerv", 10)
class HFEHNeRV(NeuralVideoModel):
    """HFE-HNeRV: content + high-frequency embeddings, HFM after the blocks, harmonic activations."""

    config_cls = HFEHNeRVConfig

    recipe = Recipe(lr=3e-3, loss="hfe", optimizer="adan")

    def __init__(self, config: HFEHNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        widths = stage_widths(c.c0, len(c.strides), c.reduce, c.lower_width)
        self.stem = nn.Sequential(nn.Conv2d(c.embed_dim, c.c0, 1), _activation(c))
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], s, min(1 + 2 * i, c.max_kernel), _activation(c))
            for i, s in enumerate(c.strides)
        )
        n_hfm = min(c.sft_blocks, len(c.strides)) if c.hf_dim else 0
        self.hf_stem = nn.Sequential(nn.Conv2d(c.hf_dim, c.hf_width, 1), _activation(c)) if n_hfm else None
        self.hfm = nn.ModuleList(HFM(c.hf_width, widths[i + 1], c.sft_residual) for i in range(n_hfm))
        self.head = nn.Conv2d(widths[-1], 3, 3, padding=1)
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)
            self.encoder_hf = HFEncoder(c.hf_cell, c.enc_width, c.hf_dim) if c.hf_dim else None

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields
    ) -> HFEHNeRVConfig:
        """The config with the HF grid's cell chosen for the strides (:func:`hf_cell_for`)."""
        fields.setdefault("hf_cell", hf_cell_for(strides))
        return HFEHNeRVConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """The content embedding, and the HF embedding on its finer grid (when the branch is on)."""
        c = self.config
        shapes = {"embedding": (c.frames, c.embed_dim, *c.grid)}
        if c.hf_dim:
            shapes["hf_embedding"] = (c.frames, c.hf_dim, c.height // c.hf_cell, c.width // c.hf_cell)
        return shapes

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Both embeddings of frames in [0, 1]."""
        out = {"embedding": self.encoder(frames)}
        if self.encoder_hf is not None:
            out["hf_embedding"] = self.encoder_hf(frames)
        return out

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames from their content and high-frequency embeddings."""
        x = self.stem(embeddings["embedding"])
        hf = self.hf_stem(embeddings["hf_embedding"]) if self.hf_stem is not None else None
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.hfm):
                hf = F.interpolate(hf, size=x.shape[-2:], mode="bicubic", align_corners=False)
                x = self.hfm[i](x, hf)
        return torch.tanh(self.head(x)) * 0.5 + 0.5
