"""Quality and rate measures: on uint8 RGB frames PSNR (mean of per-frame), MS-SSIM, bpp; on YUV
planes at their own bit depth PSNR-Y, -U, -V and the 6:1:1 weighted YUV PSNR, as the field reports
them; kbps."""

from __future__ import annotations

import math

import numpy as np
import torch
from pytorch_msssim import ms_ssim

PSNR_CAP = 100.0
MS_SSIM_NOTE = "no MS-SSIM: frames of 32 px or less on a side are too small for 5-scale MS-SSIM"


def frame_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of one pair of uint8 frames (capped at 100 dB for identical frames)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))


def psnr_per_frame(ref: np.ndarray, rec: np.ndarray) -> list[float]:
    """Per-frame RGB PSNR of two T x H x W x 3 uint8 arrays."""
    if ref.shape != rec.shape:
        raise ValueError(f"shape mismatch {ref.shape} vs {rec.shape}")
    return [frame_psnr(a, b) for a, b in zip(ref, rec, strict=False)]


def mean_psnr(ref: np.ndarray, rec: np.ndarray) -> float:
    """Mean over frames of per-frame RGB PSNR."""
    return float(np.mean(psnr_per_frame(ref, rec)))


# BT.601 full-range RGB -> YCbCr (JPEG/JFIF matrix), on the 0..255 scale.
_BT601 = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_BT601_OFFSET = np.array([0.0, 128.0, 128.0])


def yuv_psnr_611(ref: np.ndarray, rec: np.ndarray) -> float:
    """Mean over frames of (6 PSNR_Y + PSNR_U + PSNR_V) / 8, with both RGB frames converted to
    YCbCr by the BT.601 full-range matrix (no chroma subsampling) in float64."""
    out = []
    for a, b in zip(ref, rec, strict=True):
        ya = a.astype(np.float64) @ _BT601.T + _BT601_OFFSET
        yb = b.astype(np.float64) @ _BT601.T + _BT601_OFFSET
        mse = np.mean((ya - yb) ** 2, axis=(0, 1))
        p = [PSNR_CAP if m == 0 else min(PSNR_CAP, 10.0 * math.log10(255.0**2 / m)) for m in mse]
        out.append((6 * p[0] + p[1] + p[2]) / 8)
    return float(np.mean(out))


def plane_psnr(ref: tuple[np.ndarray, ...], rec: tuple[np.ndarray, ...], depth: int) -> dict[str, float]:
    """``psnr_y``, ``psnr_u``, ``psnr_v`` (each the mean over frames of the plane's PSNR, peak
    ``2 ** depth - 1``) and ``psnr_yuv``, the mean over frames of ``(6 Y + U + V) / 8``, of two
    videos given as (Y, U, V) planes, each T x h x w."""
    peak = float((1 << depth) - 1)
    per_plane = []
    for a, b in zip(ref, rec, strict=True):
        if a.shape != b.shape:
            raise ValueError(f"plane shape mismatch {a.shape} vs {b.shape}")
        mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2, axis=(1, 2))
        with np.errstate(divide="ignore"):
            per_plane.append(np.minimum(PSNR_CAP, 10.0 * np.log10(peak**2 / mse)))
    y, u, v = per_plane
    names = ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv")
    return dict(zip(names, map(float, (y.mean(), u.mean(), v.mean(), ((6 * y + u + v) / 8).mean())), strict=True))


def kbps(num_bytes: int, frames: int, fps: float) -> float:
    """Kilobits per second of a file of ``num_bytes`` holding ``frames`` frames played at ``fps``."""
    return num_bytes * 8.0 * fps / frames / 1000.0


def ms_ssim_window(height: int, width: int) -> int | None:
    """The Gaussian window for 5-scale MS-SSIM: the standard 11 taps when the frame allows it
    (smaller side > 160), else the largest odd window that fits; None below 3 taps (side <= 32)."""
    side = min(height, width)
    for win in (11, 9, 7, 5, 3):
        if side > (win - 1) * 16:
            return win
    return None


def mean_ms_ssim(ref: np.ndarray, rec: np.ndarray, batch: int = 8) -> tuple[float | None, str | None]:
    """Mean RGB MS-SSIM (data range 255) and a note when the window is not the standard one or
    the frames are too small for MS-SSIM at all (then the value is None). Computed in float32,
    as CompressAI and the package's own examples do: within 3e-7 of float64 on Bunny's frames
    and 14x faster on a 2-core CPU (its depthwise float64 convolutions took a third of a short
    timed encode)."""
    win = ms_ssim_window(*ref.shape[1:3])
    if win is None:
        return None, MS_SSIM_NOTE
    total = 0.0
    for i in range(0, ref.shape[0], batch):
        x = torch.from_numpy(ref[i : i + batch]).permute(0, 3, 1, 2).float()
        y = torch.from_numpy(rec[i : i + batch]).permute(0, 3, 1, 2).float()
        total += float(ms_ssim(x, y, data_range=255.0, size_average=False, win_size=win).sum())
    note = None if win == 11 else f"MS-SSIM computed with a {win}-tap window (frames too small for 11)"
    return total / ref.shape[0], note


def bpp(num_bytes: int, frames: int, height: int, width: int) -> float:
    """Bits per pixel of a file: bytes x 8 / (frames x height x width)."""
    return num_bytes * 8.0 / (frames * height * width)
