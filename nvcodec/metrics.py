"""Quality and rate measures on uint8 RGB frames: PSNR (mean of per-frame), MS-SSIM, bpp."""

from __future__ import annotations

import math

import numpy as np
import torch
from pytorch_msssim import ms_ssim

PSNR_CAP = 100.0
MS_SSIM_MIN_SIDE = 161  # 5 scales of an 11-tap window need a side > (11 - 1) * 2**4
MS_SSIM_NOTE = "frames smaller than 161 px on a side are too small for 5-scale MS-SSIM"


def frame_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of one pair of uint8 frames (capped at 100 dB for identical frames)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))


def psnr_per_frame(ref: np.ndarray, rec: np.ndarray) -> list[float]:
    """Per-frame RGB PSNR of two T x H x W x 3 uint8 arrays."""
    if ref.shape != rec.shape:
        raise ValueError(f"shape mismatch {ref.shape} vs {rec.shape}")
    return [frame_psnr(a, b) for a, b in zip(ref, rec)]


def mean_psnr(ref: np.ndarray, rec: np.ndarray) -> float:
    """Mean over frames of per-frame RGB PSNR."""
    return float(np.mean(psnr_per_frame(ref, rec)))


def mean_ms_ssim(ref: np.ndarray, rec: np.ndarray, batch: int = 8) -> float | None:
    """Mean RGB MS-SSIM (data range 255), or None when the frames are too small for it."""
    if min(ref.shape[1:3]) < MS_SSIM_MIN_SIDE:
        return None
    total = 0.0
    for i in range(0, ref.shape[0], batch):
        x = torch.from_numpy(ref[i : i + batch]).permute(0, 3, 1, 2).double()
        y = torch.from_numpy(rec[i : i + batch]).permute(0, 3, 1, 2).double()
        total += float(ms_ssim(x, y, data_range=255.0, size_average=False).sum())
    return total / ref.shape[0]


def bpp(num_bytes: int, frames: int, height: int, width: int) -> float:
    """Bits per pixel of a file: bytes x 8 / (frames x height x width)."""
    return num_bytes * 8.0 / (frames * height * width)
