"""Patch-wise decoding of up-sampling networks: which window of each stage's features a patch of
the output needs, and the layers' window forms, so that a patch equals the same region of a
full-frame decode.

A window is a half-open interval ``(lo, hi)`` of rows (or columns) in the coordinates of the
whole frame at one stage's resolution; it may reach past the frame's edges. Features outside the
frame are held at zero, which is what the zero padding of a full-frame convolution sees there;
bilinear up-sampling reads its sources by frame coordinates with the same clamping at the edges
as ``F.interpolate`` (align-corners false). Each 3x3 convolution spoils one row at each window
edge (its padding there is not the frame's), so a stage of ``depth`` blocks computes on its output
window widened by ``depth`` and crops; the window it reads from the stage before is the up-sampling
sources of that widened window (:func:`plan_windows`).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

Window = tuple[int, int]


def source_window(target: Window, stride: int) -> Window:
    """The source rows bilinear up-sampling by ``stride`` reads for target rows ``target``."""
    lo = math.floor((target[0] + 0.5) / stride - 0.5)
    hi = math.floor((target[1] - 1 + 0.5) / stride - 0.5) + 1
    return lo, hi + 1


def plan_windows(out: Window, strides: tuple[int, ...], depths: list[int]) -> tuple[Window, list[tuple]]:
    """For output rows ``out``: the window of the stem's input (the base grid) and, per stage,
    (source window, widened window its blocks compute on, output window)."""
    stages, current = [], out
    for stride, depth in zip(reversed(strides), reversed(depths), strict=True):
        wide = (current[0] - depth, current[1] + depth)
        source = source_window(wide, stride)
        stages.append((source, wide, current))
        current = source
    return (current[0] - 1, current[1] + 1), stages[::-1]


def crop_or_zero(x: torch.Tensor, rows: Window, cols: Window) -> torch.Tensor:
    """Rows ``rows`` and columns ``cols`` of ``x`` (N x C x H x W), zero outside it."""
    h, w = x.shape[-2:]
    pad = (max(-cols[0], 0), max(cols[1] - w, 0), max(-rows[0], 0), max(rows[1] - h, 0))
    x = F.pad(x, pad)
    top, left = rows[0] + pad[2], cols[0] + pad[0]
    return x[..., top : top + rows[1] - rows[0], left : left + cols[1] - cols[0]]


def inside(rows: Window, cols: Window, size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """1 where a window pixel lies in the frame of ``size`` (height, width), else 0: 1 x 1 x h x w."""
    r = torch.arange(*rows, device=like.device)
    c = torch.arange(*cols, device=like.device)
    mask = ((r >= 0) & (r < size[0]))[:, None] & ((c >= 0) & (c < size[1]))[None, :]
    return mask.to(like.dtype)[None, None]


def _axis_weights(target: Window, source: Window, stride: int, size: int, device: torch.device) -> tuple:
    """Local source indices and weights of bilinear up-sampling along one axis."""
    dst = torch.arange(*target, device=device, dtype=torch.float64)
    u = ((dst + 0.5) / stride - 0.5).clamp(min=0.0)
    i0 = u.floor().long().clamp(max=size - 1)
    i1 = (i0 + 1).clamp(max=size - 1)
    weight = (u - i0.double()).float()
    last = source[1] - source[0] - 1
    return (i0 - source[0]).clamp(0, last), (i1 - source[0]).clamp(0, last), weight


def upsample_window(
    x: torch.Tensor, source: tuple[Window, Window], target: tuple[Window, Window], stride: int, size: tuple[int, int]
) -> torch.Tensor:
    """Bilinear up-sampling by ``stride`` of the window ``x`` (rows, columns ``source`` of a frame of
    ``size`` at the source resolution) to the target window, as ``F.interpolate`` computes it there."""
    r0, r1, wr = _axis_weights(target[0], source[0], stride, size[0], x.device)
    c0, c1, wc = _axis_weights(target[1], source[1], stride, size[1], x.device)
    wr, wc = wr.to(x.dtype)[:, None], wc.to(x.dtype)
    y = x[..., r0, :] * (1 - wr) + x[..., r1, :] * wr
    return y[..., c0] * (1 - wc) + y[..., c1] * wc


def tiles(height: int, width: int, patch: int, multiple: int) -> list[tuple[Window, Window]]:
    """Patches covering a ``height`` x ``width`` frame: squares of about ``patch`` pixels a side,
    rounded to a multiple of ``multiple``, the last row and column of patches cut at the edge."""
    side = max(multiple, round(patch / multiple) * multiple)
    return [
        ((y, min(y + side, height)), (x, min(x + side, width)))
        for y in range(0, height, side)
        for x in range(0, width, side)
    ]
