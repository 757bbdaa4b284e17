"""SNeRV-T, SNeRV's temporal extension (arXiv 2501.01681, section 3.3; the authors' release
qwertja/SNeRV): besides the LL-band embedding of frame t, two small temporal embeddings come from
the temporal-low bands of the Haar DWT of the frame pairs (t-1, t) and (t, t+1) (2D Haar per frame,
then a 1D Haar along time). The last three up-sampling blocks become temporal up-sampling blocks
(TUBs) over [backward, current, forward] features: each time slot has its own transposed conv
(kernel = stride), then Conv3d (C -> 2C), LeakyReLU(0.1), Conv3d (2C -> C), LeakyReLU(0.1) and the
up-sampled slots added back; the last TUB's second Conv3d has no temporal padding and keeps frame t.
The MFU then fuses the current slot of every TUB (transposed conv of the fused features, concat,
3x3 conv, residual blocks, as in SNeRV), and the LL and HFR heads and the inverse DWT finish the frame.

Choices for any frame size: the temporal embeddings (3 channels per direction) sit near the paper's
default resolution, a sixteenth of the LL band per side (3x20x40 at 640x1280): the features entering
the first TUB divided by ``t_down``, the divisor of both their sides whose area is nearest (in log
scale) to the LL area / 256, so odd sizes (720p: 45x81 before the TUBs) get an exact factor (3, 15x27),
coarser where they would take more than half the parameter budget (1080p at 3M).
One shared 1x1 conv + GELU and a shared chain of transposed convs (one per prime factor of
``t_down``) bring both to that resolution. The MFU's transposed convs use the stride of the TUB
they lead into, its residual blocks follow the stem width as in SNeRV. The LL range (min, max) is
shared by the three frames of the window; the temporal-low band is the mean of the two LL bands.
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
from nvcodec.models.layers import ConvNeXtEncoder, NervBlock, half_resolution_candidates, stage_widths
from nvcodec.models.registry import register
from nvcodec.models.snerv import HFR, MFB, HalfResolutionConfig, SNeRV
from nvcodec.models.wavelet import haar_dwt, haar_idwt

TUBS = 3
T_SIDE = 16
"""The paper's temporal embeddings are the LL band divided by this on each side."""
TEMPORAL_SHARE = 2
"""The temporal embeddings take at most 1 / this of a budget (the paper's 1.5M Bunny model: 42 %)."""


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
        max_kernel: largest spatial kernel of the blocks before the TUBs; block i uses min(1 + 2i, max_kernel).
        res_blocks: residual blocks in each MFU block.
    """

    embed_dim: int = 16
    t_dim: int = 3
    t_down: int = 2
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5
    res_blocks: int = 2

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


def temporal_downscale(pre_tub: tuple[int, int], ll: tuple[int, int], limit: float = math.inf) -> int:
    """The divisor of both pre-TUB sides that puts the temporal grid's area nearest (in log scale)
    to the paper's LL area / 16**2 (ties: the finer grid) among those within ``limit`` cells
    (the coarsest if none is)."""
    h, w = pre_tub
    target = ll[0] * ll[1] / T_SIDE**2
    divisors = [d for d in range(1, min(h, w) + 1) if h % d == 0 and w % d == 0]
    fitting = [d for d in divisors if h * w / d**2 <= limit] or divisors[-1:]
    return min(fitting, key=lambda d: (abs(math.log(h * w / d**2 / target)), d))


def prime_factors(n: int) -> list[int]:
    """The prime factors of ``n`` in increasing order (empty for 1)."""
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


class TUB(nn.Module):
    """Temporal up-sampling block over N x C x 3 x H x W features: one transposed conv per time slot,
    two Conv3d with LeakyReLU, the up-sampled slots added (the last TUB keeps the current slot only)."""

    def __init__(self, c_in: int, c_out: int, stride: int, collapse: bool) -> None:
        super().__init__()
        self.up = nn.ModuleList(nn.ConvTranspose2d(c_in, c_out, stride, stride=stride) for _ in range(3))
        self.conv1 = nn.Conv3d(c_out, 2 * c_out, 3, padding=1)
        self.conv2 = nn.Conv3d(2 * c_out, c_out, 3, padding=(0 if collapse else 1, 1, 1))
        self.collapse = collapse

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Up-sample each time slot with its own conv, mix them in 3D, keep 3 slots (or the middle one)."""
        up = torch.stack([conv(z[:, :, t]) for t, conv in enumerate(self.up)], dim=2)
        mixed = F.leaky_relu(self.conv2(F.leaky_relu(self.conv1(up), 0.1)), 0.1)
        return mixed + (up[:, :, 1:2] if self.collapse else up)


@register("snerv-t", 13)
class SNeRVT(NeuralVideoModel):
    """SNeRV-T: LL + temporal embeddings, spatial blocks, TUBs, MFU over the TUBs, LL/HFR heads, inverse DWT."""

    config_cls = SNeRVTConfig

    recipe = Recipe(lr=1e-3, loss="snerv", clip=1.0, warmup=0.2)  # as released (qwertja/SNeRV, train_snerv_t.py)
    context = 1
    embedding_min_bits = {"ll_range": 10}  # the ranges scale the whole LL band

    def __init__(self, config: SNeRVTConfig, with_encoder: bool = False) -> None:
        super().__init__()
        c = self.config = config
        n, k = len(c.strides), c.split
        widths = stage_widths(c.c0, n, c.reduce, c.lower_width)
        self.stem = nn.Conv2d(c.embed_dim, c.c0, 1)
        self.blocks = nn.ModuleList(
            NervBlock(widths[i], widths[i + 1], c.strides[i], min(1 + 2 * i, c.max_kernel)) for i in range(k)
        )
        self.t_in = nn.Conv2d(c.t_dim, widths[k], 1)
        self.t_up = nn.Sequential(
            *(nn.ConvTranspose2d(widths[k], widths[k], f, stride=f) for f in prime_factors(c.t_down))
        )
        self.tubs = nn.ModuleList(TUB(widths[i], widths[i + 1], c.strides[i], collapse=i == n - 1) for i in range(k, n))
        self.mfu = nn.ModuleList(MFB(widths[j], widths[j + 1], c.strides[j], c.res_blocks) for j in range(k + 1, n))
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
        unless set, ``t_down`` puts the temporal embeddings near the paper's LL/16 (:func:`temporal_downscale`)
        within half the budget ``params`` (if given), and ``res_blocks`` follows the stem width as in SNeRV."""
        fields.setdefault("res_blocks", SNeRV.default_config(height, width, frames, strides, c0).res_blocks)
        cfg = SNeRVTConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)
        if "t_down" in fields:
            return cfg
        limit = params / (2 * TEMPORAL_SHARE * cfg.t_dim * frames) if params > 0 else math.inf
        return dataclasses.replace(cfg, t_down=temporal_downscale(cfg.pre_tub_size, (height // 2, width // 2), limit))

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
        n = x.shape[0]
        t = embeddings["t_embedding"]
        both = t.reshape(n * 2, self.config.t_dim, *t.shape[2:])  # backward and forward share the input path
        tb, tf = self.t_up(F.gelu(self.t_in(both))).reshape(n, 2, *x.shape[1:]).unbind(1)
        z = torch.stack([tb, x, tf], dim=2)
        current = []
        for tub in self.tubs:
            z = tub(z)
            current.append(z[:, :, z.shape[2] // 2])
        m = current[0]
        for mfb, skip in zip(self.mfu, current[1:], strict=True):
            m = mfb(m, skip)
        rng = embeddings["ll_range"]
        lo, hi = rng[:, 0, None, None, None], rng[:, 1, None, None, None]
        ll = (torch.tanh(self.ll_head(m)) * 0.5 + 0.5) * (hi - lo) + lo
        lh, hl, hh = (head(m) for head in self.hfr)
        return haar_idwt(ll, lh, hl, hh)


def t_strides_for(c: SNeRVTConfig) -> tuple[int, ...]:
    """Strides of a temporal encoder: from LL resolution down to the temporal grid."""
    strides = tuple(s for s in (*c.strides[c.split :][::-1], *prime_factors(c.t_down)) if s > 1)
    return strides or (1,)
