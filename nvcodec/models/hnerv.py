"""HNeRV (Chen et al., CVPR 2023): a ConvNeXt encoder gives each frame a small embedding that is
transmitted; a decoder of NeRV blocks (kernels 1, 3, 5, 5, 5; widths divided by 1.2 per stage)
turns it back into the frame. Only the decoder and the embeddings go into the file.

With ``yuv420`` the output stage makes 4:2:0 planes natively: the blocks stop at half the frame
size and the head makes six channels there, four luma samples of each 2x2 block (put in place by
a pixel shuffle) and that block's U and V; chroma is repeated over its block, so the frame-size
output's chroma averages back exactly (:func:`~nvcodec.models.planes.chroma`). The largest block,
the one at frame size, is not run: a step costs a fraction of the full-size network's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import Grid, NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.layers import ConvNeXtEncoder, NervDecoder, stage_widths
from nvcodec.models.planes import Planes
from nvcodec.models.registry import optional_field, register

PLANE_CHANNELS = 6
"""Channels of the 4:2:0 output stage at half size: four luma samples, one U, one V."""


@dataclass(frozen=True)
class HNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a HNeRV network: the fields of
    :class:`VideoGridConfig` and these.

    Attributes:
        embed_dim: channels of the per-frame embedding (HNeRV uses 16).
        enc_width: channel width of the ConvNeXt encoder's stages (training only; not transmitted).
        reduce: width divisor from one decoder stage to the next (HNeRV: 1.2).
        lower_width: smallest decoder width.
        max_kernel: largest decoder kernel; stage i uses min(1 + 2i, max_kernel).
        yuv420: the 4:2:0 output stage (see the module): the strides take the frame to half its
            size; optional in the file (absent: False).
    """

    embed_dim: int = 16
    enc_width: int = 64
    reduce: float = 1.2
    lower_width: int = 12
    max_kernel: int = 5
    yuv420: bool = optional_field(False)

    @property
    def grid(self) -> tuple[int, int]:
        """The embedding grid: the frame over the strides' product (and the output stage's 2)."""
        s = math.prod(self.strides) * (2 if self.yuv420 else 1)
        return self.height // s, self.width // s


@register("hnerv", 2, chroma=("rgb", "yuv420"))
class HNeRV(NeuralVideoModel):
    """HNeRV: embeddings from a ConvNeXt encoder, decoded by NeRV blocks."""

    config_cls = HNeRVConfig

    recipe = Recipe(lr=1e-3, loss="l2")
    layout_field = "embed_dim"

    def __init__(self, config: HNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        self.config = config
        kernels = tuple(min(1 + 2 * i, config.max_kernel) for i in range(len(config.strides)))
        out = PLANE_CHANNELS if config.yuv420 else 3
        self.stem = nn.Conv2d(config.embed_dim, config.c0, 1)
        self.decoder = NervDecoder(config.c0, config.strides, kernels, config.reduce, config.lower_width, out)
        self.encoder = (
            ConvNeXtEncoder(config.strides, config.enc_width, config.embed_dim, out) if with_encoder else None
        )

    @classmethod
    def grids(cls, height: int, width: int, fields: dict) -> list[Grid]:
        """:meth:`~nvcodec.models.base.NeuralVideoModel.grids`; with ``yuv420`` the strides of
        the half-size frame, the padded size doubled."""
        if not fields.get("yuv420"):
            return cls.grid_options(height, width)
        return [(s, 2 * ph, 2 * pw) for s, ph, pw in cls.grid_options(-(-height // 2), -(-width // 2))]

    @classmethod
    def value_count(cls, config: HNeRVConfig) -> int:
        """The stem's, blocks' and head's weights and biases and the embeddings, from ``config``
        (the layers :meth:`__init__` builds; tested against the skeleton's count)."""
        widths = stage_widths(config.c0, len(config.strides), config.reduce, config.lower_width)
        out = PLANE_CHANNELS if config.yuv420 else 3
        count = (config.embed_dim + 1) * config.c0 + (widths[-1] * 9 + 1) * out
        for i, stride in enumerate(config.strides):
            kernel, out = min(1 + 2 * i, config.max_kernel), widths[i + 1] * stride * stride
            count += (widths[i] * kernel * kernel + 1) * out
        return count + config.frames * config.embed_dim * math.prod(config.grid)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """One embedding tensor: frames x embed_dim x grid."""
        c = self.config
        return {"embedding": (c.frames, c.embed_dim, *c.grid)}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings of frames in [0, 1] (N x 3 x H x W), from the training encoder."""
        if self.encoder is None:
            raise RuntimeError("this HNeRV was built without its encoder")
        if self.config.yuv420:  # the planes as the output stage holds them
            frames = torch.cat([F.pixel_unshuffle(frames[:, :1], 2), F.avg_pool2d(frames[:, 1:3], 2)], 1)
        return {"embedding": self.encoder(frames)}

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames (N x 3 x H x W in [0, 1]) from their embeddings ``embeddings['embedding']``
        (with ``yuv420``: Y, and U and V repeated over their 2x2 blocks)."""
        planes = self.decode_planes(index, embeddings)
        if planes is None:
            return self.decoder(F.gelu(self.stem(embeddings["embedding"])))
        chroma = planes.chroma.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        return torch.cat([planes.luma, chroma], 1)

    def decode_planes(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> Planes | None:
        """With ``yuv420``: the output stage's planes, luma at frame size and chroma at half (the
        fit's loss reads them without the repeat :meth:`decode` makes); None otherwise."""
        if not self.config.yuv420:
            return None
        out = self.decoder(F.gelu(self.stem(embeddings["embedding"])))
        return Planes(F.pixel_shuffle(out[:, :4], 2), out[:, 4:])
