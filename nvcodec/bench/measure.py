"""One measuring function for every codec: the same uint8 RGB source, the same metrics."""

from __future__ import annotations

import numpy as np

from nvcodec.metrics import bpp, mean_ms_ssim, mean_psnr, yuv_psnr_611


def measure(source: np.ndarray, decoded: np.ndarray, bits: int) -> dict:
    """bpp, RGB PSNR, YUV 6:1:1 PSNR (BT.601) and RGB MS-SSIM of decoded frames against the source."""
    t, h, w, _ = source.shape
    ms, note = mean_ms_ssim(source, decoded)
    return {
        "bpp": bpp(bits // 8, t, h, w) if bits % 8 == 0 else bits / (t * h * w),
        "psnr": mean_psnr(source, decoded),
        "psnr_yuv611": yuv_psnr_611(source, decoded),
        "ms_ssim": ms,
        "ms_ssim_note": note,
    }
