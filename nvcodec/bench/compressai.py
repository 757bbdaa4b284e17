"""Bench results in CompressAI's results-JSON layout, so our curves and the anchors' overlay with
its plotting tool (``python -m compressai.utils.plot``): one file per clip and curve,
``{"name", "description", "results": {metric: [values by rising bpp]}}``, with CompressAI's
metric names (``psnr-rgb``, ``psnr-y``, ``psnr-u``, ``psnr-v``, ``psnr-yuv``, ``ms-ssim-rgb``,
``bitrate`` in kbps) and ours beside them (``encode-seconds``, ``decode-fps``, ``kmac-per-pixel``).
"""

from __future__ import annotations

import re
from typing import Any

METRICS = {
    "bpp": "bpp",
    "psnr-rgb": "psnr",
    "psnr-y": "psnr_y",
    "psnr-u": "psnr_u",
    "psnr-v": "psnr_v",
    "psnr-yuv": "psnr_yuv",
    "ms-ssim-rgb": "ms_ssim",
    "bitrate": "kbps",
    "encode-seconds": "encode_seconds",
    "decode-fps": "decode_fps",
    "kmac-per-pixel": "kmac_per_pixel",
}
"""CompressAI's (and our added) metric names -> the bench row's fields."""


def file_name(clip: str, curve: str) -> str:
    """A file name for one curve of one clip: ``<clip>/<curve>.json`` with every character that is
    not a letter, digit, dot or dash made ``-``."""
    safe = lambda text: re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "curve"  # noqa: E731
    return f"{safe(clip)}/{safe(curve)}.json"


def compressai_results(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One CompressAI results object per clip and curve of the bench ``rows`` (points that
    failed left out), by :func:`file_name`; a metric is given only when every point has it."""
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if "error" not in row:
            curves.setdefault((row["clip"], row["curve"]), []).append(row)
    out = {}
    for (clip, curve), points in sorted(curves.items()):
        points = sorted(points, key=lambda r: r["bpp"])
        results = {
            name: [p[field] for p in points]
            for name, field in METRICS.items()
            if all(p.get(field) is not None for p in points)
        }
        kind = "nvcodec" if points[0]["kind"] == "nvcodec" else f"anchor, {points[0].get('encoder_version', '')}"
        description = f"{clip}: {len(points)} points ({kind}; preset {points[0].get('preset')})"
        out[file_name(clip, curve)] = {"name": curve, "description": description, "results": results}
    return out
