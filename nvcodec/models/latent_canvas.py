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
from nvcodec.motion.canvas import (
    MAX_CANVAS_AREA,
    frame_points,
    pack_fields,
    read_canvas,
    read_window,
    unpack_fields,
)

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
    13 ms on qcif's 184x153 (four time steps), where the counted operations give 10 and 6 ms,
    when a step rendered the whole canvas (the counted operations still do; a step now renders a
    frame's window, :meth:`rendered_pixels`)."""
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
        size = (config.canvas_height, config.canvas_width)
        self.up: list[tuple[tuple[torch.Tensor, np.ndarray] | None, ...]] = [
            tuple(bilinear_matrix(n, m) for n, m in zip(z.shape[-2:], size, strict=True)) for z in self.latents
        ]

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
        """The pixels of the largest window a frame's step renders (:meth:`render_window`): the
        bounding box of the frame's footprint on the canvas, its bilinear neighbours and the
        head's pixel around it, within the canvas."""
        maps = unpack_fields(config.motion, config.frames)
        corners = np.array([[0, 0, 1], [config.width - 1, 0, 1], [0, config.height - 1, 1]], np.float64)
        corners = np.vstack([corners, [config.width - 1, config.height - 1, 1]])
        seen = np.einsum("pk,tck->tpc", corners, maps)  # frames x corners x (x, y)
        span = np.floor(seen.max(axis=1)) - np.floor(seen.min(axis=1)) + 4  # + neighbour, head pixel each side
        cols = np.minimum(span[:, 0], config.canvas_width)
        rows = np.minimum(span[:, 1], config.canvas_height)
        return int((rows * cols).max())

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
        (one still canvas is rendered once for all of them). In training mode only the window
        the frames read is rendered (:meth:`render_window`; the same values up to float rounding)."""
        c = self.config
        n = index.shape[0]
        points = frame_points(self.maps, index, c.height, c.width, (c.canvas_height, c.canvas_width))
        if self.training and index.device.type != "meta":
            window, points = read_window(points, (c.canvas_height, c.canvas_width), margin=1)
            canvas = self.render_window(index, window)
            return read_canvas(canvas, points, c.height, c.width)
        if c.latent_frames == 1:
            canvas = self.render_canvas(index[:1]).expand(n, -1, -1, -1)
        else:
            canvas = self.render_canvas(index)
        return read_canvas(canvas, points, c.height, c.width)

    def render_window(self, index: torch.Tensor, window: tuple[int, int, int, int]) -> torch.Tensor:
        """Rows ``r0:r1`` and columns ``c0:c1`` of the canvases of frames ``index`` (the fit's
        faster path, equal to :meth:`render_canvas` there but at the window's own edges, which
        the 3x3 head sees zero-padded: a caller widens the window by a pixel). Each level is
        up-sampled by its interpolation matrices (:func:`bilinear_matrix`) restricted to the
        window, and the per-pixel layers run on channels-last values as matrix products."""
        c = self.config
        r0, r1, c0, c1 = window
        still = c.latent_frames == 1
        stack = []
        for z, (rows, cols) in zip(self.latents, self.up, strict=True):
            x = z[:, 0] if still else time_lerp(z, index, c.frames)[:, 0]
            x = _resample(x.mT, cols, c0, c1).mT
            stack.append(_resample(x, rows, r0, r1))
        hidden = torch.stack(stack, dim=-1)
        layers: list[nn.Conv2d] = [self.synthesis[0], self.synthesis[2]]  # type: ignore[list-item]
        for layer in layers:
            hidden = F.gelu(F.linear(hidden, layer.weight.flatten(1), layer.bias))
        out = self.head(hidden.permute(0, 3, 1, 2))
        return out.expand(index.shape[0], -1, -1, -1) if still else out


def _resample(x: torch.Tensor, axis: tuple[torch.Tensor, np.ndarray] | None, lo: int, hi: int) -> torch.Tensor:
    """Rows ``lo:hi`` of ``x`` (N x rows x columns) up-sampled along its rows by ``axis``
    (:func:`bilinear_matrix`; None: rows ``lo:hi`` as they are), reading only the rows they need."""
    if axis is None:
        return x[:, lo:hi]
    matrix, first = axis
    a, b = int(first[lo]), int(first[hi - 1]) + 2  # slicing stops at the input's last row
    return matrix[lo:hi, a:b].to(x) @ x[:, a:b]


def bilinear_matrix(size: int, out: int) -> tuple[torch.Tensor, np.ndarray] | None:
    """The ``out`` x ``size`` matrix of PyTorch's bilinear up-sampling along one axis
    (``align_corners=False``, ``size`` to ``out``: source position ``(i + 0.5) size / out - 0.5``,
    clamped at 0, computed in single precision as PyTorch does) and each output's first source
    (the second is the next one, within the input); None when the sizes are equal."""
    if size == out:
        return None
    scale = np.float32(size) / np.float32(out)
    src = np.maximum(scale * (np.arange(out, dtype=np.float32) + np.float32(0.5)) - np.float32(0.5), 0.0)
    i0 = src.astype(np.int64)
    i1 = np.where(i0 < size - 1, i0 + 1, i0)
    right = (src - i0).astype(np.float64)
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.arange(out), i0), 1.0 - right)
    np.add.at(matrix, (np.arange(out), i1), right)
    return torch.from_numpy(matrix).float(), i0
