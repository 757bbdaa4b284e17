"""HiNeRV (Kwan et al., NeurIPS 2023): a learned feature grid over time and space, read at frame t,
then stages that up-sample bilinearly, add a temporal-local grid and apply ConvNeXt-style blocks,
and a linear RGB head. Nothing per frame is transmitted: the grids are parameters.

Structure (as the official code builds it, written from its description; see the README):

* base grid: ``grid_levels`` tensors, level l of ``grid_frames / 2^l`` time steps x the base cells x
  ``grid_channels * 2^l`` channels, each read at frame t by linear interpolation in time (clamped at
  the ends, align-corners-false convention) and concatenated; a 3x3 stem conv to ``c0`` channels;
* stage i (stride s): channel LayerNorm without affine, bilinear up-sampling by s, plus the local
  encoding: ``local_levels`` grids of ``c_i*2^l`` channels x ``local_frames / 2^l`` rows x s x s, read at t
  like the base grid, concatenated and mapped by one linear layer to an s x s table of vectors added
  at ``(y mod s, x mod s)``; then blocks ``x + fc2(gelu(fc1(ln(dwconv3x3(x)))))`` (no biases; the first
  block of a stage that changes width has no residual); widths halve from stage to stage, floored at
  ``lower_width``; depths 3 per stage and 1 in the last, MLP expansion 4 (1 in the last);
* head: a linear layer to RGB and a sigmoid.

Where frames do not divide by the total stride the network renders a padded frame that the
pipeline crops, as for the other models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import NeuralVideoModel, Recipe, VideoGridConfig
from nvcodec.models.patches import Window, crop_or_zero, inside, plan_windows, upsample_window
from nvcodec.models.registry import register

STAGES = 4
"""Up-sampling stages (HiNeRV's four)."""
BASE_CELLS_PER_PIXEL = 1 / 1024
"""Preferred base-grid cells per frame pixel (5x10 at 160x320); at most :data:`MAX_BASE_CELLS`."""
MAX_BASE_CELLS = 18 * 32
"""HiNeRV's base grid at 720p and 1080p."""
BASE_GRID_SHARE, LOCAL_GRID_SHARE = 0.1, 0.15
"""Shares of the transmitted values the sizing lets the base and the local grids take (HiNeRV's
configurations give grids 17-18 % in all)."""


@dataclass(frozen=True)
class HiNeRVConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a HiNeRV network: the fields of
    :class:`VideoGridConfig` (``c0``: width of the first stage) and these.

    Attributes:
        grid_frames: time steps of the base grid's first level (HiNeRV: about T / 3).
        grid_channels: channels of the base grid's first level (each level doubles them).
        grid_levels: levels of the base grid (each halves the time steps).
        local_frames: rows of the first level of every stage's local grid (HiNeRV: T).
        local_channels: channels per local-grid cell at the first stage (halved per stage, at least 1).
        local_levels: levels of the local grids.
        lower_width: smallest stage width.
    """

    grid_frames: int = 1
    grid_channels: int = 2
    grid_levels: int = 2
    local_frames: int = 1
    local_channels: int = 2
    local_levels: int = 3
    lower_width: int = 8


def time_lerp(grid: torch.Tensor, index: torch.Tensor, frames: int) -> torch.Tensor:
    """``grid`` (channels x time steps x ...) at frames ``index`` of ``frames``, linearly
    interpolated in time: N x channels x ... (stored channels first, so that each channel of a grid
    gets its own quantization step)."""
    grid = grid.movedim(1, 0)
    rows = grid.shape[0]
    u = ((index.double() + 0.5) * rows / frames - 0.5).clamp(min=0.0)
    i0 = u.floor().long().clamp(max=rows - 1)
    i1 = (i0 + 1).clamp(max=rows - 1)
    w = (u - i0.double()).to(grid.dtype).view(-1, *([1] * (grid.dim() - 1)))
    return grid[i0] * (1 - w) + grid[i1] * w


class Block(nn.Module):
    """``fc2(gelu(fc1(ln(dwconv3x3(x)))))``, without biases, plus ``x`` when the width is kept."""

    def __init__(self, c_in: int, c_out: int, expansion: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False)
        self.fc1 = nn.Linear(c_in, expansion * c_out, bias=False)
        self.fc2 = nn.Linear(expansion * c_out, c_out, bias=False)
        self.residual = c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to an N x C x H x W feature map."""
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(F.layer_norm(y, y.shape[-1:], eps=1e-6)))).permute(0, 3, 1, 2)
        return x + y if self.residual else y


class Stage(nn.Module):
    """LayerNorm, bilinear up-sampling by ``stride``, the local encoding, then the blocks."""

    def __init__(
        self, c_in: int, c_out: int, stride: int, depth: int, expansion: int, config: HiNeRVConfig, level: int
    ):
        super().__init__()
        self.stride = stride
        channels = max(config.local_channels >> level, 1)
        self.local = nn.ParameterList(
            nn.Parameter(torch.empty(channels << lv, max(config.local_frames >> lv, 1), stride, stride))
            for lv in range(config.local_levels)
        )
        self.local_proj = nn.Linear(sum(g.shape[0] for g in self.local), c_in)
        self.blocks = nn.ModuleList(Block(c_in if j == 0 else c_out, c_out, expansion) for j in range(depth))

    def forward(self, x: torch.Tensor, index: torch.Tensor, frames: int) -> torch.Tensor:
        """Up-sample ``x`` (frames ``index``) by the stride, add the local encoding, apply the blocks."""
        x = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], eps=1e-6).permute(0, 3, 1, 2)
        x = F.interpolate(x, scale_factor=self.stride, mode="bilinear", align_corners=False)
        s = self.stride
        x = x + self._table(index, frames).repeat(1, 1, x.shape[2] // s, x.shape[3] // s)
        for block in self.blocks:
            x = block(x)
        return x

    def _table(self, index: torch.Tensor, frames: int) -> torch.Tensor:
        """The local encoding of frames ``index``: N x C x s x s, added at ``(y mod s, x mod s)``."""
        s, n = self.stride, index.shape[0]
        codes = torch.cat([time_lerp(g, index, frames).flatten(2) for g in self.local], dim=1).transpose(1, 2)
        return self.local_proj(codes).view(n, s, s, -1).permute(0, 3, 1, 2)

    def forward_window(
        self, x: torch.Tensor, index: torch.Tensor, frames: int, plan: tuple, size: tuple[int, int]
    ) -> tuple[torch.Tensor, tuple[int, int]]:
        """:meth:`forward` on a window (:mod:`~nvcodec.models.patches`): ``x`` holds the source
        windows of ``plan`` (rows, columns) of a frame of ``size``; returns the output windows and
        the frame size at this stage."""
        (rows_src, rows_wide, rows_out), (cols_src, cols_wide, cols_out) = plan
        s = self.stride
        x = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], eps=1e-6).permute(0, 3, 1, 2)
        x = upsample_window(x, (rows_src, cols_src), (rows_wide, cols_wide), s, size)
        size = (size[0] * s, size[1] * s)
        ry = torch.arange(*rows_wide, device=x.device) % s
        rx = torch.arange(*cols_wide, device=x.device) % s
        mask = inside(rows_wide, cols_wide, size, x)
        x = (x + self._table(index, frames)[:, :, ry][:, :, :, rx]) * mask
        for block in self.blocks:
            x = block(x) * mask
        top, left = rows_out[0] - rows_wide[0], cols_out[0] - cols_wide[0]
        return x[..., top : top + rows_out[1] - rows_out[0], left : left + cols_out[1] - cols_out[0]], size


@register("hinerv", 9, patches=True, grids=True)
class HiNeRV(NeuralVideoModel):
    """HiNeRV: frame index -> base grid at t -> stem -> stages with local grids -> RGB."""

    config_cls = HiNeRVConfig

    recipe = Recipe(lr=2e-3, loss="fusion6")

    def __init__(self, config: HiNeRVConfig, with_encoder: bool = False) -> None:
        super().__init__()
        self.config = config
        gh, gw = config.grid
        self.base = nn.ParameterList(
            nn.Parameter(torch.empty(config.grid_channels << lv, max(config.grid_frames >> lv, 1), gh, gw))
            for lv in range(config.grid_levels)
        )
        self.stem = nn.Conv2d(sum(g.shape[0] for g in self.base), config.c0, 3, padding=1)
        widths = [config.c0]
        for _ in config.strides[1:]:
            widths.append(max(widths[-1] // 2, config.lower_width))
        last = len(config.strides) - 1
        self.stages = nn.ModuleList(
            Stage(widths[max(i - 1, 0)], widths[i], s, 1 if i == last else 3, 1 if i == last else 4, config, i)
            for i, s in enumerate(config.strides)
        )
        self.head = nn.Linear(widths[-1], 3)
        for g in [*self.base, *(g for st in self.stages for g in st.local)]:
            nn.init.uniform_(g, -1e-3, 1e-3)

    @staticmethod
    def grid_options(height: int, width: int) -> list[tuple[tuple[int, ...], int, int]]:
        """Four-stage stride lists (non-increasing, each 2..5), best first: least padding, then a base
        grid nearest ``BASE_CELLS_PER_PIXEL`` of the frame (at most :data:`MAX_BASE_CELLS`). A base
        grid has at least 2 cells a side where the frame allows it, else 1 (frames under 32 pixels
        a side are padded up to the strides)."""
        target = min(height * width * BASE_CELLS_PER_PIXEL, MAX_BASE_CELLS)
        scored = []
        least = 2 if min(height, width) >= 2 * 2**STAGES else 1
        for strides in {tuple(sorted(c, reverse=True)) for c in product((5, 4, 3, 2), repeat=STAGES)}:
            s = math.prod(strides)
            ph, pw = -(-height // s) * s, -(-width // s) * s
            if ph // s < least or pw // s < least:
                continue
            cells = (ph // s) * (pw // s)
            score = -20.0 * math.log(ph * pw / (height * width)) - abs(math.log(cells / target))
            scored.append((score, strides, (strides, ph, pw)))
        scored.sort(key=lambda c: (c[0], c[1]), reverse=True)
        return [c[2] for c in scored]

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> HiNeRVConfig:
        """The config for a padded frame size, frame count, strides and first width, ``fields`` set as
        given. Unless set: 1, 2 or 4 grid channels as the budget grows (about 30k, 100k, 300k
        values), and as many time steps as keep the base grid within :data:`BASE_GRID_SHARE` of
        ``params`` (at most T / 3) and the local grids within :data:`LOCAL_GRID_SHARE` (at most T)."""
        channels = 1 if params < 60_000 else 2 if params < 200_000 else 4
        fields.setdefault("grid_channels", channels)
        fields.setdefault("local_channels", channels)
        s = math.prod(strides)
        base_per_step = 2 * (height // s) * (width // s) * fields["grid_channels"]  # two levels, equal cost
        local_per_row = 3 * sum(st * st * max(fields["local_channels"] >> i, 1) for i, st in enumerate(strides))
        fields.setdefault("grid_frames", max(1, min(round(frames / 3), int(BASE_GRID_SHARE * params / base_per_step))))
        fields.setdefault("local_frames", max(1, min(frames, int(LOCAL_GRID_SHARE * params / local_per_row))))
        return HiNeRVConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

    def grid_parameters(self) -> list[str]:
        """The base grid's levels and every stage's local grids (channels x time x height x width)."""
        return [n for n in self.transmitted_parameters() if n.startswith("base.") or ".local." in n]

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """HiNeRV transmits nothing per frame."""
        return {}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """No per-frame tensors."""
        return {}

    def decode_window(
        self, index: torch.Tensor, embeddings: dict[str, torch.Tensor], rows: Window, cols: Window
    ) -> torch.Tensor:
        """Rows ``rows`` and columns ``cols`` of frames ``index``, computed on the windows that patch
        needs (:mod:`~nvcodec.models.patches`): equal to that region of :meth:`decode`."""
        frames, strides = self.config.frames, self.config.strides
        depths = [len(stage.blocks) for stage in self.stages]
        base_rows, row_plan = plan_windows(rows, strides, depths)
        base_cols, col_plan = plan_windows(cols, strides, depths)
        grid = torch.cat([time_lerp(g, index, frames) for g in self.base], dim=1)
        x = self.stem(crop_or_zero(grid, base_rows, base_cols))[..., 1:-1, 1:-1]
        size = self.config.grid
        for stage, plan in zip(self.stages, zip(row_plan, col_plan, strict=True), strict=True):
            x, size = stage.forward_window(x, index, frames, plan, size)
        return torch.sigmoid(self.head(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames ``index`` (N x 3 x H x W in [0, 1])."""
        frames = self.config.frames
        x = self.stem(torch.cat([time_lerp(g, index, frames) for g in self.base], dim=1))
        for stage in self.stages:
            x = stage(x, index, frames)
        return torch.sigmoid(self.head(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
