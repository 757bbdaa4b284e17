"""Training losses on frames in [0, 1], chosen by name.

* ``l2``: mean squared error (HNeRV's reference).
* ``fusion6``: 0.7 L1 + 0.3 (1 - SSIM) (NeRV's).
* ``hfe``: HFE-HNeRV's, as its authors' script trains: fusion6 plus 100 x the focal frequency
  loss ``mean(W * D^2)`` with ``D = |FFT(out) - FFT(target)|`` (orthonormal 2D FFT per channel)
  and ``W = D / max D`` (per frame and channel) detached.
* ``hfs``: MSE plus HFS-HNeRV's high-frequency spectrum loss ``beta * MSE(g * HP(out - target))``,
  HP zeroing the centred (2m x 2m) low-frequency square of the shifted spectrum; beta 0.12, g 3,
  m = 17 at 640 px on the short side, scaled with the frame size.
* ``snerv``: SNeRV's fusion6 on the image, on the min-max normalized Haar LL band, and on the three
  Haar detail bands.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from pytorch_msssim import ssim
from torch.nn import functional as F

from nvcodec.models.wavelet import haar_dwt

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
HFE_FFL_WEIGHT = 100.0
HFS_BETA, HFS_GAIN, HFS_M, HFS_M_SIDE = 0.12, 3.0, 17, 640


def _ssim_window(height: int, width: int) -> int:
    """SSIM's 11-tap window, shrunk to the largest odd size that fits small frames."""
    side = min(height, width, 11)
    return side if side % 2 else side - 1


def fusion6(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """0.7 L1 + 0.3 (1 - SSIM), NeRV's loss (L1 alone for frames one pixel wide or high, where
    SSIM has no window)."""
    if min(out.shape[-2:]) < 2:
        return F.l1_loss(out, target)
    win = _ssim_window(*out.shape[-2:])
    s = ssim(out.float(), target.float(), data_range=1.0, size_average=True, win_size=max(win, 1))
    return 0.7 * F.l1_loss(out, target) + 0.3 * (1.0 - s)


def focal_frequency(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The focal frequency loss (Jiang et al., ICCV 2021) with alpha 1: squared spectral distances
    weighted by their own magnitude over its maximum, the weights detached."""
    diff = torch.abs(torch.fft.fft2(out.float(), norm="ortho") - torch.fft.fft2(target.float(), norm="ortho"))
    weight = diff / diff.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    return (weight.detach() * diff.square()).mean()


def high_frequency_spectrum(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """HFS-HNeRV's high-frequency spectrum loss, ``MSE(g * HP(out - target))``."""
    h, w = out.shape[-2:]
    m = max(1, round(HFS_M * min(h, w) / HFS_M_SIDE))
    spec = torch.fft.fftshift(torch.fft.fft2((out - target).float()), dim=(-2, -1))
    mask = torch.ones(h, w, device=out.device)
    mask[max(0, h // 2 - m) : h // 2 + m, max(0, w // 2 - m) : w // 2 + m] = 0
    high = torch.fft.ifft2(torch.fft.ifftshift(spec * mask, dim=(-2, -1))).real
    return (HFS_GAIN * high).pow(2).mean()


def _even(x: torch.Tensor) -> torch.Tensor:
    ph, pw = x.shape[-2] % 2, x.shape[-1] % 2
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


def snerv_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SNeRV: fusion6 on the image, on the normalized LL band and on the stacked detail bands."""
    o_ll, *o_d = haar_dwt(_even(out))
    t_ll, *t_d = haar_dwt(_even(target))
    lo = t_ll.amin(dim=(1, 2, 3), keepdim=True)
    span = (t_ll.amax(dim=(1, 2, 3), keepdim=True) - lo).clamp_min(1e-6)
    return (
        fusion6(out, target)
        + fusion6((o_ll - lo) / span, (t_ll - lo) / span)
        + fusion6(torch.cat(o_d, 1), torch.cat(t_d, 1))
    )


LOSSES: dict[str, LossFn] = {
    "l2": lambda out, target: F.mse_loss(out.float(), target.float()),
    "fusion6": fusion6,
    "hfe": lambda out, target: fusion6(out, target) + HFE_FFL_WEIGHT * focal_frequency(out, target),
    "hfs": lambda out, target: (
        F.mse_loss(out.float(), target.float()) + HFS_BETA * high_frequency_spectrum(out, target)
    ),
    "snerv": snerv_loss,
}


def make_loss(name: str) -> LossFn:
    """The loss function called ``name`` (a key of :data:`LOSSES`)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r} (known: {', '.join(LOSSES)})")
    return LOSSES[name]
