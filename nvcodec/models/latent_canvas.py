"""A latent canvas (``canvas``): a pyramid of latent grids over a canvas larger than the frame, a
small per-pixel synthesis network, and each frame read from the canvas through its camera map.

Learned from Cool-chic (Ladune et al., ICCV 2023): the picture lives in the latents themselves,
one value per canvas pixel at the finest level and a quarter as many at each coarser one, each
level up-sampled bilinearly to the canvas and the stack mapped to RGB by two 1x1 layers and a 3x3
layer. Every latent is a parameter the rate–distortion fit quantizes and prices with the grid
context model, so the rate goes where the picture needs it. Where a network has to learn each
pixel through shared convolutions, a latent is the pixel's own: a few thousand steps fit it.

Motion (issue 29's option (b)): the canvas is the shot seen by the camera (``canvas_height`` x
``canvas_width``, the maps in ``motion`` as :class:`~nvcodec.models.hinerv_mc.HiNeRVMCConfig`
stores them) and frame t is read from it through its map (:mod:`nvcodec.motion.canvas`). With
``latent_frames`` 1 the canvas is one still picture for every frame: a still scene under a moving
(or still) camera is stored once. With more time steps each level is read at frame t by linear
interpolation in time, as HiNeRV reads its grids, and the grid context model predicts each step
from the one before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.hinerv import time_lerp
from nvcodec.models.registry import register
from nvcodec.motion.canvas import MAX_CANVAS_AREA, frame_points, pack_fields, read_canvas, unpack_fields

LEVELS = 7
"""Latent levels where the canvas allows (Cool-chic's seven); the coarsest keeps 2 pixels a side."""
SYNTHESIS_WIDTH = 16
"""Hidden width of the synthesis layers (``c0``): the rate lives in the latents, not here."""


@dataclass(frozen=True)
class CanvasConfig(VideoGridConfig):
    """The fields of :class:`VideoGridConfig` (``height`` x ``width``: the frames read from the
    canvas; ``c0``: the synthesis width; ``strides``: ``(1,)``, no up-sampling stages) and these.

    Attributes:
        canvas_height: rows of the canvas.
        canvas_width: columns of the canvas.
        motion: every frame's map from its pixels to the canvas's (as in ``hinerv-mc``).
        latent_levels: latent grids, level l of ``ceil(canvas / 2^l)`` pixels a side.
        latent_frames: time steps of every level (1: one still canvas for every frame).
    """

    canvas_height: int = 1
    canvas_width: int = 1
    motion: tuple[int, ...] = ()
    latent_levels: int = 1
    latent_frames: int = 1

    def __post_init__(self) -> None:
        """Refuse (:class:`ValueError`) maps out of range, a canvas beyond
        :data:`~nvcodec.motion.canvas.MAX_CANVAS_AREA` times the frame, more time steps than
        frames, and a level smaller than one pixel."""
        unpack_fields(self.motion, self.frames)
        if self.canvas_height * self.canvas_width > MAX_CANVAS_AREA * (self.height + 1) * (self.width + 1):
            raise ValueError(
                f"canvas {self.canvas_width}x{self.canvas_height} is too large for {self.width}x{self.height} frames"
            )
        if self.latent_frames > self.frames:
            raise ValueError(f"latent_frames {self.latent_frames} exceeds the {self.frames} frames")
        if 2 ** (self.latent_levels - 1) > min(self.canvas_height, self.canvas_width):
            raise ValueError(
                f"{self.latent_levels} latent levels do not fit a {self.canvas_width}x{self.canvas_height} canvas"
            )


def levels_for(height: int, width: int) -> int:
    """:data:`LEVELS`, or fewer so that the coarsest level keeps 2 pixels on the shorter side."""
    return max(1, min(LEVELS, int(math.log2(max(min(height, width), 2) / 2)) + 1))


@register("canvas", 15, grids=True, motion=True, steps=True)
class LatentCanvas(NeuralVideoModel):
    """Latent pyramid -> bilinear up-sampling -> per-pixel synthesis -> canvas -> frames through maps."""

    config_cls = CanvasConfig
    recipe = Recipe(lr=1e-2, loss="l2", warm_share=0.1)
    """Cool-chic's learning rate; a short distortion-only warm-up (the latents are the rate: on the
    zoom clip at 0.05 bpp and ``--time 40s``, 29.93 dB after a tenth of the time without rate
    against 29.15 after half; 26.91 at a quarter of this learning rate, 29.26 at twice it)."""
    fixed_c0 = SYNTHESIS_WIDTH
    pixel_step_seconds = 2e-7
    """Measured at ``--time 30s`` on 2 cores: 26 ms a step on the photograph's 412x225 canvas and
    13 ms on qcif's 184x153 (four time steps), where the counted operations give 10 and 6 ms."""
    refine_field = None

    def __init__(self, config: CanvasConfig, with_encoder: bool = False) -> None:
        super().__init__()
        self.config = config
        self.latents = nn.ParameterList(
            nn.Parameter(
                torch.zeros(
                    1, config.latent_frames, -(-config.canvas_height // 2**lv), -(-config.canvas_width // 2**lv)
                )
            )
            for lv in range(config.latent_levels)
        )
        self.synthesis = nn.Sequential(
            nn.Conv2d(config.latent_levels, config.c0, 1),
            nn.GELU(),
            nn.Conv2d(config.c0, config.c0, 1),
            nn.GELU(),
        )
        self.head = nn.Conv2d(config.c0, 3, 3, padding=1)
        self.maps = unpack_fields(config.motion, config.frames)

    @staticmethod
    def grid_options(height: int, width: int) -> list[tuple[tuple[int, ...], int, int]]:
        """No up-sampling stages: stride 1, no padding."""
        return [((1,), height, width)]

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> CanvasConfig:
        """The config for ``height`` x ``width`` frames: a frame-sized, still canvas with identity
        maps unless ``fields`` give the canvas, its maps and ``latent_frames``;
        :func:`levels_for` the canvas. ``c0`` is the synthesis width (sizing passes
        :attr:`fixed_c0`: the latents' rate is set by λ, not by their count)."""
        fields.setdefault("canvas_height", height)
        fields.setdefault("canvas_width", width)
        if fields.get("motion") is None:  # still camera: frame pixel (x, y) is canvas pixel (x, y)
            fields["motion"] = pack_fields(np.tile(np.eye(2, 3), (frames, 1, 1)))
        fields["motion"] = tuple(fields["motion"])
        fields.setdefault("latent_frames", 1)
        fields.setdefault("latent_levels", levels_for(fields["canvas_height"], fields["canvas_width"]))
        return CanvasConfig(height=height, width=width, frames=frames, strides=(1,), c0=c0, **fields)

    @classmethod
    def rendered_pixels(cls, config: Any) -> int:
        """The canvas's pixels: every step renders the whole canvas."""
        return int(config.canvas_height * config.canvas_width)

    def grid_parameters(self) -> list[str]:
        """Every latent level (1 channel x time steps x rows x columns)."""
        return [n for n in self.transmitted_parameters() if n.startswith("latents.")]

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """Nothing per frame is transmitted beyond the latents and the maps."""
        return {}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """No per-frame tensors."""
        return {}

    def render_canvas(self, index: torch.Tensor) -> torch.Tensor:
        """The canvases of frames ``index`` (N x 3 x canvas rows x columns)."""
        c = self.config
        size = (c.canvas_height, c.canvas_width)
        stack = []
        for z in self.latents:
            x = time_lerp(z, index, c.frames)
            stack.append(
                x if x.shape[-2:] == size else F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            )
        return self.head(self.synthesis(torch.cat(stack, dim=1)))

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames ``index`` (N x 3 x H x W, about [0, 1]): their canvases read through their maps
        (one still canvas is rendered once for all of them)."""
        c = self.config
        n = index.shape[0]
        if c.latent_frames == 1:
            canvas = self.render_canvas(index[:1]).expand(n, -1, -1, -1)
        else:
            canvas = self.render_canvas(index)
        points = frame_points(self.maps, index, c.height, c.width, (c.canvas_height, c.canvas_width))
        return read_canvas(canvas, points, c.height, c.width)
