"""Building blocks shared by the NeRV family: NeRV up-sampling blocks, the decoder trunk, ConvNeXt
encoder blocks, positional encoding, and the stride rule that picks a network grid for a frame size.
"""

from __future__ import annotations

import math
from itertools import combinations_with_replacement

import torch
from torch import nn
from torch.nn import functional as F


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize each pixel's channel vector."""
        x = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """Depthwise 7x7 conv, LayerNorm, 4x MLP with GELU, layer scale (init 1e-6), residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(channels, channels, 7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.fc1 = nn.Linear(channels, 4 * channels)
        self.fc2 = nn.Linear(4 * channels, channels)
        self.gamma = nn.Parameter(torch.full((channels,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block with its residual connection."""
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(self.norm(y)))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtEncoder(nn.Module):
    """HNeRV's frame encoder: per stage a k=s, stride-s conv with LayerNorm, then one ConvNeXt block."""

    def __init__(self, strides: tuple[int, ...], width: int, out_dim: int, in_channels: int = 3) -> None:
        super().__init__()
        dims = [width] * (len(strides) - 1) + [out_dim]
        layers: list[nn.Module] = []
        c_in = in_channels
        for i, (s, c) in enumerate(zip(strides, dims, strict=False)):
            conv = nn.Conv2d(c_in, c, s, stride=s)
            layers += [conv, LayerNorm2d(c)] if i == 0 else [LayerNorm2d(c_in), conv]
            layers.append(ConvNeXtBlock(c))
            c_in = c
        self.layers = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Frames in [0, 1], N x in_channels x H x W, to embeddings N x out_dim x H/S x W/S."""
        return self.layers(x)


class Harmonic(nn.Module):
    """HFE-HNeRV's harmonic activation ``w1 sin x + w2 cos x`` with learnable scalars (init 1 and ``cos``)."""

    def __init__(self, cos: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([1.0, cos]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the activation."""
        return self.w[0] * torch.sin(x) + self.w[1] * torch.cos(x)


class NervBlock(nn.Module):
    """Conv k x k (C_in -> C_out * s^2), PixelShuffle(s), activation (GELU unless given)."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int, act: nn.Module | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out * stride * stride, kernel, padding=kernel // 2)
        self.shuffle = nn.PixelShuffle(stride)
        self.act = act if act is not None else nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Up-sample ``x`` by the block's stride."""
        return self.act(self.shuffle(self.conv(x)))


def stage_widths(c0: int, stages: int, reduce: float, lower_width: int) -> list[int]:
    """Channel widths ``[c0, c1, ...]``: each stage divides by ``reduce`` (rounded), floored."""
    widths = [c0]
    for _ in range(stages):
        widths.append(max(int(round(widths[-1] / reduce)), lower_width))
    return widths


class NervDecoder(nn.Module):
    """A trunk of NeRV blocks and a 3x3 head of ``out`` channels (RGB: 3) with output ``tanh(x) / 2 + 0.5``."""

    def __init__(
        self,
        c0: int,
        strides: tuple[int, ...],
        kernels: tuple[int, ...],
        reduce: float,
        lower_width: int,
        out: int = 3,
    ) -> None:
        super().__init__()
        widths = stage_widths(c0, len(strides), reduce, lower_width)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], s, k) for i, (s, k) in enumerate(zip(strides, kernels, strict=False))
        )
        self.head = nn.Conv2d(widths[-1], out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map at the embedding grid to RGB frames in [0, 1]."""
        for block in self.blocks:
            x = block(x)
        return torch.tanh(self.head(x)) * 0.5 + 0.5


def positional_encoding(t: torch.Tensor, levels: int, base: float) -> torch.Tensor:
    """NeRV's encoding of normalized times ``t`` (N,): ``[sin(b^j pi t)..., cos(b^j pi t)...]``."""
    freqs = base ** torch.arange(levels, dtype=torch.float32, device=t.device) * math.pi
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def stride_lists() -> dict[int, tuple[int, ...]]:
    """Every product of 2..5 stages of strides in {2,3,4,5}, mapped to its preferred stride list."""
    best: dict[int, tuple[int, ...]] = {}
    for n in (5, 4, 3, 2):
        for combo in combinations_with_replacement((5, 4, 3, 2), n):
            s = math.prod(combo)
            if s not in best:
                best[s] = combo
    return best


def grid_candidates(height: int, width: int) -> list[tuple[tuple[int, ...], int, int]]:
    """Every decoder stride list for a frame size, best first: ``(strides, padded_height,
    padded_width)`` for each total stride S whose embedding grid is at least 2x2, ranked by
    ``log S - 20 log(overhead)`` where ``overhead`` is the padded area over the frame area (1.0 when
    S divides both sides): a coarse embedding grid is preferred unless it costs padding."""
    scored = []
    for s, strides in stride_lists().items():
        ph, pw = -(-height // s) * s, -(-width // s) * s
        if ph // s < 2 or pw // s < 2:
            continue
        scored.append((math.log(s) - 20.0 * math.log(ph * pw / (height * width)), s, (strides, ph, pw)))
    scored.sort(key=lambda c: (c[0], c[1]), reverse=True)
    return [c[2] for c in scored] or [((1,), height, width)]


def choose_grid(height: int, width: int) -> tuple[tuple[int, ...], int, int]:
    """Decoder strides for a frame size: the first of :func:`grid_candidates`."""
    return grid_candidates(height, width)[0]


def half_resolution_candidates(height: int, width: int) -> list[tuple[tuple[int, ...], int, int]]:
    """:func:`grid_candidates` for the Haar LL band (half size); each padded frame is twice that grid's."""
    return [(s, 2 * ph, 2 * pw) for s, ph, pw in grid_candidates(-(-height // 2), -(-width // 2))]


def embedding_downscale(height: int, width: int, channels: int, limit: int) -> int:
    """The smallest power-of-two factor that brings a ``channels`` x ``height`` x ``width`` per-frame
    embedding within ``limit`` values (stopping where the size no longer halves evenly)."""
    down = 1
    while (
        channels * (height // down) * (width // down) > limit and height % (2 * down) == 0 and width % (2 * down) == 0
    ):
        down *= 2
    return down
