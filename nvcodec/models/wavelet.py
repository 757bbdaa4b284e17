"""One-level 2D Haar wavelet transform and its exact inverse, on N x C x H x W tensors (H, W even).

Orthonormal filters (1/sqrt 2): ``LL = (a + b + c + d) / 2`` over each 2x2 block ``[[a, b], [c, d]]``,
``LH = (a + b - c - d) / 2`` (vertical detail), ``HL = (a - b + c - d) / 2`` (horizontal detail),
``HH = (a - b - c + d) / 2``. :func:`haar_idwt` inverts it exactly (up to float rounding).
"""

from __future__ import annotations

import torch


def haar_dwt(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(LL, LH, HL, HH), each N x C x H/2 x W/2."""
    if x.shape[-2] % 2 or x.shape[-1] % 2:
        raise ValueError(f"Haar DWT needs even height and width, got {tuple(x.shape[-2:])}")
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return (a + b + c + d) / 2, (a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2


def haar_idwt(ll: torch.Tensor, lh: torch.Tensor, hl: torch.Tensor, hh: torch.Tensor) -> torch.Tensor:
    """The image whose :func:`haar_dwt` is (ll, lh, hl, hh): N x C x 2h x 2w."""
    a = (ll + lh + hl + hh) / 2
    b = (ll + lh - hl - hh) / 2
    c = (ll - lh + hl - hh) / 2
    d = (ll - lh - hl + hh) / 2
    n, ch, h, w = ll.shape
    out = torch.stack([torch.stack([a, b], dim=-1), torch.stack([c, d], dim=-1)], dim=-3)
    return out.reshape(n, ch, 2 * h, 2 * w)
