"""HFE-HNeRV (arXiv 2411.06685): HNeRV plus a wavelet high-frequency encoder whose small per-frame
high-frequency embedding is transmitted, HFM blocks that modulate the decoder features with it, and
harmonic decoder activations ``w1 sin x + w2 cos x``; trained with L1/SSIM plus a dynamic weighted
frequency loss.

Where the paper's text is not available the choices follow ../shared/reference/frequency_models.md
section 1.2: the WFD sums the three Haar detail bands of the RGB frame; the HF encoder is HNeRV's
ConvNeXt encoder on that map with half the total stride, ending in ``hf_dim`` channels; HFM is a
zero-initialized FiLM (``F * (1 + gamma) + beta`` from a 1x1 conv of the nearest-upsampled HF
embedding) after the stem and after the first block; the stem keeps GELU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, VideoGridConfig
from nvcodec.models.layers import ConvNeXtEncoder, Harmonic, NervBlock, stage_widths
from nvcodec.models.registry import register
from nvcodec.models.wavelet import haar_dwt


@dataclass(frozen=True)
class HFEHNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a HFE-HNeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the content embedding (16, as HNeRV).
        hf_dim: channels of the high-frequency embedding (same grid as the content embedding).
        enc_width: width of both training-only encoders.
        reduce: width divisor from one decoder stage to the next.
        lower_width: smallest decoder width.
        max_kernel: largest decoder kernel; stage i uses min(1 + 2i, max_kernel).
        hfm_layers: how many HFM blocks: after the stem, then after each of the first blocks.
    """

    embed_dim: int = 16
    hf_dim: int = 4
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5
    hfm_layers: int = 2


def half_strides(strides: tuple[int, ...]) -> tuple[tuple[int, ...], bool]:
    """Strides with one factor 2 removed (the WFD halves the resolution first), and whether that
    was possible; when no stride is even the HF map is up-sampled x2 instead and strides stay."""
    for i in range(len(strides) - 1, -1, -1):
        if strides[i] % 2 == 0:
            rest = strides[:i] + ((strides[i] // 2,) if strides[i] > 2 else ()) + strides[i + 1 :]
            return (rest or (1,)), True
    return strides, False


class HFM(nn.Module):
    """FiLM modulation of a feature map by the high-frequency embedding; zero-initialized."""

    def __init__(self, hf_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(hf_dim, 2 * channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, hf: torch.Tensor) -> torch.Tensor:
        """``x * (1 + gamma) + beta``."""
        gamma, beta = self.proj(F.interpolate(hf, size=x.shape[-2:], mode="nearest")).chunk(2, dim=1)
        return x * (1 + gamma) + beta


class HFEncoder(nn.Module):
    """WFD (sum of the Haar detail bands of the frame) followed by a ConvNeXt encoder."""

    def __init__(self, strides: tuple[int, ...], width: int, out_dim: int) -> None:
        super().__init__()
        self.strides, self.halved = half_strides(strides)
        self.encoder = ConvNeXtEncoder(self.strides, width, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Frames N x 3 x H x W to HF embeddings on the content grid."""
        _, lh, hl, hh = haar_dwt(x)
        detail = lh + hl + hh
        if not self.halved:
            detail = F.interpolate(detail, scale_factor=2, mode="nearest")
        return self.encoder(detail)


@register("hfe-hnerv", 3, HFEHNeRVConfig)
class HFEHNeRV(NeuralVideoModel):
    """HFE-HNeRV: content + high-frequency embeddings, HFM modulation, harmonic decoder blocks."""

    default_lr = 1e-3
    default_loss = "hfe"

    def __init__(self, config: HFEHNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        widths = stage_widths(c.c0, len(c.strides), c.reduce, c.lower_width)
        self.stem = nn.Conv2d(c.embed_dim, c.c0, 1)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], s, min(1 + 2 * i, c.max_kernel), Harmonic())
            for i, s in enumerate(c.strides)
        )
        self.hfm = nn.ModuleList(HFM(c.hf_dim, widths[i]) for i in range(min(c.hfm_layers, len(widths))))
        self.head = nn.Conv2d(widths[-1], 3, 3, padding=1)
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)
            self.encoder_hf = HFEncoder(c.strides, c.enc_width, c.hf_dim)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """Content and high-frequency embeddings, frames first."""
        c = self.config
        return {"embedding": (c.frames, c.embed_dim, *c.grid), "hf_embedding": (c.frames, c.hf_dim, *c.grid)}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Both embeddings of frames in [0, 1]."""
        return {"embedding": self.encoder(frames), "hf_embedding": self.encoder_hf(frames)}

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames from their content and high-frequency embeddings."""
        hf = embeddings["hf_embedding"]
        x = F.gelu(self.stem(embeddings["embedding"]))
        for i, block in enumerate(self.blocks):
            if i < len(self.hfm):
                x = self.hfm[i](x, hf)
            x = block(x)
        return torch.tanh(self.head(x)) * 0.5 + 0.5
