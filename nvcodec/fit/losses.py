"""Training losses on frames in [0, 1]: L2 (HNeRV's reference) and 0.7 L1 + 0.3 (1 - SSIM) (NeRV's)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from pytorch_msssim import ssim
from torch.nn import functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES = ("l2", "fusion6")


def _ssim_window(height: int, width: int) -> int:
    """SSIM's 11-tap window, shrunk to the largest odd size that fits small frames."""
    side = min(height, width, 11)
    return side if side % 2 else side - 1


def fusion6(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """0.7 L1 + 0.3 (1 - SSIM), NeRV's loss."""
    win = _ssim_window(*out.shape[-2:])
    s = ssim(out.float(), target.float(), data_range=1.0, size_average=True, win_size=max(win, 1))
    return 0.7 * F.l1_loss(out, target) + 0.3 * (1.0 - s)


def make_loss(name: str) -> LossFn:
    """The loss function called ``name`` (one of :data:`LOSSES`)."""
    if name == "l2":
        return lambda out, target: F.mse_loss(out.float(), target.float())
    if name == "fusion6":
        return fusion6
    raise ValueError(f"unknown loss {name!r} (known: {', '.join(LOSSES)})")
