"""HiNeRV with camera motion: the network renders each frame index's canvas, a picture of the shot
larger than the frame, and the frame is read from it through that frame's map
(:mod:`nvcodec.motion.canvas`). A still scene under a moving camera is then one picture on the
canvas, not a shifted copy per frame; the grids still vary in time for what moves in the scene.

Why the output and not the base grid's coordinates (the reference note's option (b) before (a)):
HiNeRV adds its local grids at ``(y mod s, x mod s)`` of the stage's output, so a shift of the base
grid by less than its 32-pixel cells cannot move the detail the stages build; reading the rendered
canvas through a pixel map moves all of it exactly. The maps live in the config (``motion``), so
``decode`` needs nothing but the file and any frame decodes on its own.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nvcodec.models.hinerv import HiNeRV, HiNeRVConfig
from nvcodec.models.registry import register
from nvcodec.motion.canvas import MAX_CANVAS_AREA, frame_points, pack_fields, read_canvas, unpack_fields


@dataclass(frozen=True)
class HiNeRVMCConfig(HiNeRVConfig):
    """A :class:`~nvcodec.models.hinerv.HiNeRVConfig` (``height`` and ``width``: the frames the
    network outputs) and the canvas.

    Attributes:
        canvas_height: rows of the canvas the network renders (a multiple of the total stride).
        canvas_width: columns of the canvas (likewise).
        motion: every frame's map from its pixels to the canvas's, six fixed-point fields a frame
            as second differences along time (:func:`nvcodec.motion.canvas.pack_fields`).
    """

    canvas_height: int = 1
    canvas_width: int = 1
    motion: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        """Refuse (:class:`ValueError`) maps out of range and a canvas beyond
        :data:`~nvcodec.motion.canvas.MAX_CANVAS_AREA` times the padded frame (a file cannot make the
        decoder render a picture much larger than its frames)."""
        unpack_fields(self.motion, self.frames)
        p = math.prod(self.strides)
        if self.canvas_height * self.canvas_width > MAX_CANVAS_AREA * (self.height + p) * (self.width + p):
            raise ValueError(
                f"canvas {self.canvas_width}x{self.canvas_height} is too large for {self.width}x{self.height} frames"
            )

    @property
    def grid(self) -> tuple[int, int]:
        """The base grid's cells: the canvas over the total stride."""
        s = math.prod(self.strides)
        return self.canvas_height // s, self.canvas_width // s


@register("hinerv-mc", 14, grids=True, motion=True)
class HiNeRVMC(HiNeRV):
    """HiNeRV rendering a canvas, each frame read from it through its map."""

    config_cls = HiNeRVMCConfig
    decode_window = None  # type: ignore[assignment]  # a canvas window is no frame window: no --patch

    def __init__(self, config: HiNeRVMCConfig, with_encoder: bool = False) -> None:
        super().__init__(config, with_encoder)
        self.maps = unpack_fields(config.motion, config.frames)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> HiNeRVMCConfig:
        """HiNeRV's config for the canvas (``canvas_height`` and ``canvas_width`` in ``fields``, the
        footprint to cover, rounded up to the strides; a frame-sized canvas without them), then
        ``height`` x ``width`` frames read from it."""
        s = math.prod(strides)
        canvas_h = -(-fields.pop("canvas_height", height) // s) * s
        canvas_w = -(-fields.pop("canvas_width", width) // s) * s
        motion = fields.pop("motion", None)
        if motion is None:  # still camera: frame pixel (x, y) is canvas pixel (x, y)
            motion = pack_fields(np.tile(np.eye(2, 3), (frames, 1, 1)))
        base = HiNeRV.default_config(canvas_h, canvas_w, frames, strides, c0, params, **fields)
        values = {**dataclasses.asdict(base), "height": height, "width": width}
        return HiNeRVMCConfig(**values, canvas_height=canvas_h, canvas_width=canvas_w, motion=tuple(motion))

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames ``index`` (N x 3 x H x W in [0, 1]): their canvases read through their maps."""
        canvas = super().decode(index, embeddings)
        c = self.config
        points = frame_points(self.maps, index, c.height, c.width, (c.canvas_height, c.canvas_width))
        return read_canvas(canvas, points, c.height, c.width)
