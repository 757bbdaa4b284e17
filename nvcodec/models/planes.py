"""The output stage of native YUV coding: a network's three outputs (in [0, 1]) read as Y, U and
V, the chroma averaged over ``sub`` x ``sub`` blocks to the format's own samples (Cool-chic's way of
coding 4:2:0 with one synthesis: every model keeps its full-size output, and only the stage knows
the format). Shared by the fit (its distortion) and the decoder (the planes it writes).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

LUMA_WEIGHT = 6 / 8
"""Share of the distortion a native fit gives luma: the field's 6:1:1 weighting of Y, U and V."""

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def chroma(out: torch.Tensor, sub: int) -> torch.Tensor:
    """The U and V planes of ``out`` (N x 3 x H x W): channels 1 and 2 averaged over ``sub`` x
    ``sub`` blocks (a block cut by the frame's edge averages the samples it holds)."""
    uv = out[:, 1:3]
    return uv if sub == 1 else F.avg_pool2d(uv, sub, ceil_mode=True)


def plane_loss(loss: Loss, sub: int) -> Loss:
    """``loss`` applied plane by plane to native outputs against upsampled targets
    (:func:`nvcodec.io.raw.upsampled_planes`, whose chroma blocks average back exactly): luma
    weighted :data:`LUMA_WEIGHT`, the two chroma planes the rest."""

    def planes(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        luma = loss(out[:, :1], target[:, :1])
        return LUMA_WEIGHT * luma + (1 - LUMA_WEIGHT) * loss(chroma(out, sub), chroma(target, sub))

    return planes
