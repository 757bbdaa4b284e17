"""HFS-HNeRV (Electronics 14(13):2574, 2025): HNeRV whose decoder blocks are each a sub-pixel conv
followed by an HFSCM (channel attention, Haar-wavelet spatial attention with per-band enhancement
factors, an extra conv, a residual), plus a multi-scale feature-reuse path (MSFRP) from the
third-to-last block to the output; trained with MSE plus the high-frequency spectrum loss.

Choices where the paper is silent (the project's reading of it): the spatial
branch runs at C/r channels (r = 5) so that the band additions match in shape; the Haar bands use
averaging filters as the paper writes them; enhancement factors (LL, HL, LH, HH) = (1, 2, 2, 2);
the spatial branch's normalization is a channel LayerNorm rather than BatchNorm (BatchNorm's
running statistics would differ between overfitting and decoding and would have to be sent);
MSFRP adds to the head's pre-activation so the output stays in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import ConvNeXtEncoder, LayerNorm2d, NervBlock, stage_widths
from nvcodec.models.registry import register
from nvcodec.models.wavelet import haar_dwt

ENHANCE = (1.0, 2.0, 2.0, 2.0)  # LL, LH, HL, HH


@dataclass(frozen=True)
class HFSHNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a HFS-HNeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the per-frame embedding.
        enc_width: width of the training-only ConvNeXt encoder.
        reduce: width divisor from one decoder stage to the next.
        lower_width: smallest decoder width.
        max_kernel: largest sub-pixel conv kernel; stage i uses min(1 + 2i, max_kernel).
        attn_kernel: kernel of the spatial-attention convs (the paper's k = 7).
        attn_reduce: channel reduction r of both attention branches (5).
        tap: MSFRP taps the output of this block counted from the end (3 = third-to-last).
    """

    embed_dim: int = 16
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5
    attn_kernel: int = 7
    attn_reduce: int = 5
    tap: int = 3


class HFSCM(nn.Module):
    """Channel attention, then Haar spatial attention at C/r channels, then conv back to C, residual."""

    def __init__(self, channels: int, kernel: int, reduce: int) -> None:
        super().__init__()
        cr = max(1, channels // reduce)
        self.ca1, self.ca2 = nn.Conv2d(channels, cr, 1), nn.Conv2d(cr, channels, 1)
        self.squeeze = nn.Conv2d(channels, cr, kernel, padding=kernel // 2)
        self.norm = LayerNorm2d(5 * cr)
        self.spatial = nn.Conv2d(5 * cr, cr, kernel, padding=kernel // 2)
        self.expand = nn.Conv2d(cr, channels, 3, padding=1)

    def _bands(self, x: torch.Tensor) -> list[torch.Tensor]:
        h, w = x.shape[-2:]
        padded = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate") if h % 2 or w % 2 else x
        bands = [b / 2 for b in haar_dwt(padded)]  # averaging filters: (a + b) / 2 per axis
        return [F.interpolate(b, scale_factor=2, mode="bilinear", align_corners=False)[..., :h, :w] for b in bands]

    def forward(self, f1: torch.Tensor) -> torch.Tensor:
        """Attend over channels and wavelet-enhanced space; add the input back."""
        f2 = f1 * torch.sigmoid(self.ca2(F.gelu(self.ca1(f1)))) + f1
        r = self.squeeze(f2)
        enhanced = [r + k * b for k, b in zip(ENHANCE, self._bands(r), strict=True)]
        sa = torch.sigmoid(self.spatial(F.gelu(self.norm(torch.cat([r, *enhanced], dim=1)))))
        return self.expand(F.gelu(r * sa + r)) + f1


@register("hfs-hnerv", 4)
class HFSHNeRV(NeuralVideoModel):
    """HFS-HNeRV: HNeRV embeddings; decoder of sub-pixel conv + HFSCM blocks; MSFRP to the output."""

    config_cls = HFSHNeRVConfig

    recipe = Recipe(lr=1e-3, loss="hfs")
    layout_field = "embed_dim"

    def __init__(self, config: HFSHNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        widths = stage_widths(c.c0, len(c.strides), c.reduce, c.lower_width)
        self.stem = nn.Conv2d(c.embed_dim, c.c0, 1)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], s, min(1 + 2 * i, c.max_kernel)) for i, s in enumerate(c.strides)
        )
        self.attn = nn.ModuleList(HFSCM(w, c.attn_kernel, c.attn_reduce) for w in widths[1:])
        self.tap_index = max(0, len(c.strides) - c.tap)
        self.reuse = nn.Conv2d(widths[self.tap_index + 1], 3, 1)
        self.head = nn.Conv2d(widths[-1], 3, 3, padding=1)
        if with_encoder:
            self.encoder = ConvNeXtEncoder(c.strides, c.enc_width, c.embed_dim)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """One embedding tensor: frames x embed_dim x grid."""
        c = self.config
        return {"embedding": (c.frames, c.embed_dim, *c.grid)}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings of frames in [0, 1]."""
        return {"embedding": self.encoder(frames)}

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames from their embeddings."""
        x = F.gelu(self.stem(embeddings["embedding"]))
        reuse = None
        for i, (block, attn) in enumerate(zip(self.blocks, self.attn, strict=True)):
            x = attn(block(x))
            if i == self.tap_index:
                reuse = self.reuse(x)
        assert reuse is not None
        reuse = F.interpolate(reuse, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.tanh(self.head(x) + reuse) * 0.5 + 0.5
