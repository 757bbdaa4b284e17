"""One measuring function for every codec: the same uint8 RGB source, the same metrics; and the
field's metrics on YUV planes (:func:`plane_metrics`)."""

from __future__ import annotations

import numpy as np

from nvcodec.io import Video, frames_to_planes, video_planes
from nvcodec.io.raw import PLANAR_DEPTHS
from nvcodec.metrics import bpp, mean_ms_ssim, mean_psnr, plane_psnr, yuv_psnr_611

RGB_SOURCE_PIX_FMT = "yuv420p"
"""The planes an RGB source (one with no planar YUV format of its own) is measured in."""


def measure(source: np.ndarray, decoded: np.ndarray, bits: int) -> dict:
    """bpp, RGB PSNR, ``psnr_yuv611`` (both RGB frames in BT.601 full-range YCbCr, no subsampling)
    and RGB MS-SSIM of decoded frames against the source."""
    t, h, w, _ = source.shape
    ms, note = mean_ms_ssim(source, decoded)
    return {
        "bpp": bpp(bits // 8, t, h, w) if bits % 8 == 0 else bits / (t * h * w),
        "psnr": mean_psnr(source, decoded),
        "psnr_yuv611": yuv_psnr_611(source, decoded),
        "ms_ssim": ms,
        "ms_ssim_note": note,
    }


def plane_metrics(
    video: Video, decoded: np.ndarray, bits: int, rec_planes: tuple[np.ndarray, ...] | None = None
) -> dict:
    """PSNR-Y, -U, -V and the 6:1:1 ``psnr_yuv`` against the source's planes at its bit depth
    (``yuv_pix_fmt``: its own format; an RGB source's frames converted to
    :data:`RGB_SOURCE_PIX_FMT`), the decoded frames converted to that format unless their own
    ``rec_planes`` (an anchor's decoder output in it) are given; and ``kbps`` at the video's rate."""
    pix_fmt = video.pix_fmt or RGB_SOURCE_PIX_FMT
    ref = video_planes(video) if video.pix_fmt else frames_to_planes(video.frames, pix_fmt)
    rec = rec_planes if rec_planes is not None else frames_to_planes(decoded, pix_fmt)
    rate = bits * float(video.fps) / video.num_frames / 1000.0
    return {"yuv_pix_fmt": pix_fmt, **plane_psnr(ref, rec, PLANAR_DEPTHS[pix_fmt]), "kbps": rate}
