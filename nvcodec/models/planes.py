"""The output stage of native YUV coding: a network's three outputs (in [0, 1]) read as Y, U and
V, the chroma averaged over ``sub`` x ``sub`` blocks to the format's own samples: every model keeps
its full-size output, and only the stage knows the format. Shared by the fit (its distortion) and
the decoder (the planes it writes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, cast

import torch
from torch.nn import functional as F

LUMA_WEIGHT = 6 / 8
"""Luma's share in the field's 6:1:1 weighting of the Y, U and V PSNRs (each chroma plane: 1/8)."""

TINY_LOSS = 1e-12
"""Floor of a plane's loss where it divides (a plane fitted exactly)."""


class Planes(NamedTuple):
    """A model's native 4:2:0 output as its stage makes it, before chroma is repeated to frame
    size: ``luma`` N x 1 x H x W and ``chroma`` (U, V) N x 2 x H/2 x W/2. The fit's loss reads
    it as the frame-size output's planes (:func:`chroma` of the repeated chroma gives ``chroma``
    back) without repeating and averaging again."""

    luma: torch.Tensor
    chroma: torch.Tensor

    def cropped(self, height: int, width: int) -> Planes:
        """The planes of the top-left ``height`` x ``width`` frame (even sides)."""
        return Planes(self.luma[..., :height, :width], self.chroma[..., : height // 2, : width // 2])

    def float(self) -> Planes:
        """Both planes as float32."""
        return Planes(self.luma.float(), self.chroma.float())

    def detach(self) -> Planes:
        """Both planes detached from the graph."""
        return Planes(self.luma.detach(), self.chroma.detach())


Output = torch.Tensor | Planes
"""What a fit's loss reads: frames N x 3 x H x W (Y, U, V for a native fit), or :class:`Planes`."""

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
OutputLoss = Callable[[Output, torch.Tensor], torch.Tensor]
"""A loss of a fit's output (frames or :class:`Planes`) against its frame-size target."""


def chroma(out: torch.Tensor, sub: int) -> torch.Tensor:
    """The U and V planes of ``out`` (N x 3 x H x W): channels 1 and 2 averaged over ``sub`` x
    ``sub`` blocks (a block cut by the frame's edge averages the samples it holds)."""
    uv = out[:, 1:3]
    return uv if sub == 1 else F.avg_pool2d(uv, sub, ceil_mode=True)


def frame_mse(out: Output, target: torch.Tensor) -> torch.Tensor:
    """The mean squared error of ``out`` against the frame-size ``target`` (for :class:`Planes`:
    that of their frame-size output, chroma repeated over its 2x2 blocks)."""
    if isinstance(out, torch.Tensor):
        return F.mse_loss(out, target)
    luma = F.mse_loss(out.luma, target[:, :1], reduction="sum")
    uv = F.mse_loss(out.chroma, target[:, 1:3, ::2, ::2], reduction="sum")
    return (luma + 4 * uv) / target.numel()


def plane_loss(loss: Loss, sub: int, adaptive: bool = True, memory: float = 0.0) -> OutputLoss:
    """``loss`` applied plane by plane to native outputs (frame-size, chroma averaged here, or a
    stage's :class:`Planes`, read as they are) against upsampled targets
    (:func:`nvcodec.io.raw.upsampled_planes`: each chroma block repeats its sample, read back as
    the block's first), weighted as the field's metric weighs them: the 6:1:1 mean of the planes'
    PSNRs is a weighted mean of
    log-distortions, whose gradient weighs each plane's distortion by its share over its value.
    So each plane's loss is scaled by ``share / reference`` (held constant in the step) and the
    sum by the 6:1:1 mean of the references: planes fitted worse get no more weight than the
    metric gives them, planes fitted better no less. The reference is the plane's loss this step
    (``memory`` 0), or its running mean over the steps so far, each step weighing ``1 - memory``:
    one batch's loss can be far below the plane's typical one (a flat chroma plane), and a weight
    that leaps for one step throws Adam's update with it. ``adaptive`` False: the planes' losses
    weighted by their shares alone. The value returned is the weighted loss at the step's weights."""
    shares = (LUMA_WEIGHT, (1 - LUMA_WEIGHT) / 2, (1 - LUMA_WEIGHT) / 2)
    held: list[torch.Tensor] = []

    def planes(out: Output, target: torch.Tensor) -> torch.Tensor:
        luma, uv_out = (out.luma, out.chroma) if isinstance(out, Planes) else (out[:, :1], chroma(out, sub))
        uv_target = target[:, 1:3, ::sub, ::sub]  # each block repeats its sample: no averaging
        parts = [loss(luma, target[:, :1]), loss(uv_out[:, :1], uv_target[:, :1])]
        parts.append(loss(uv_out[:, 1:], uv_target[:, 1:]))
        if not adaptive:
            return cast(torch.Tensor, sum(w * p for w, p in zip(shares, parts, strict=True)))
        now = [p.detach() for p in parts]
        if held and memory:
            now = [memory * h + (1 - memory) * n for h, n in zip(held, now, strict=True)]
        held[:] = now
        level = sum(w * h for w, h in zip(shares, held, strict=True))
        weighted = sum(w * p / h.clamp_min(TINY_LOSS) for w, p, h in zip(shares, parts, held, strict=True))
        return cast(torch.Tensor, level * weighted)

    return planes
