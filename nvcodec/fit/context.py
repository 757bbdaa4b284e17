"""The grid context model: a masked convolution over already-coded grid values that predicts the
mean and scale of each value's Laplace, trained inside the rate–distortion fit.

A grid is a volume of integer symbols, channels x time steps x height x width. The value at
``(c, t, y, x)`` is predicted from :data:`TAPS` = 12 neighbours of the same channel that the
decoder already has: the 3x3 window around ``(y, x)`` at ``t - 1`` and the three values above it
at ``t`` (row ``y - 1``, columns ``x - 1 .. x + 1``); neighbours outside the volume are zero. A
row ``(t, y)`` therefore depends only on earlier rows, and the decoder predicts and decodes a
whole row (every channel, every column) at once.

The predictor is a two-layer perceptron in fixed point, so that encoder and decoder compute the
same integers on any machine (floating-point sums may differ with the order of operations;
integer sums never do). Its units (``TAPS``, ``FRAC``, ``SCALE_STEPS``...) are the coder's
contract and live beside the code that evaluates it in int64, :mod:`nvcodec.entropy.context`;
:class:`GridContext` here is the same function in floating point with the weights rounded to the
fixed point (straight-through gradient), so the rate the fit trains on is the rate the file pays.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.compress.quantize import Coding, QTensor
from nvcodec.entropy.context import (
    FRAC,
    HIDDEN,
    MIN_SCALE,
    SCALE_INDEX,
    SCALE_STEPS,
    TAP_CLIP,
    TAPS,
    WEIGHT_LIMIT,
    ContextNet,
)


def grid_taps(volume: torch.Tensor) -> torch.Tensor:
    """The :data:`TAPS` causal neighbours of every value of ``volume`` (C x T x H x W):
    C x T x H x W x TAPS (zeros outside the volume)."""
    _, t, h, w = volume.shape
    p = F.pad(volume, (1, 1, 1, 1, 1, 0))  # p[:, t + 1, y + 1, x + 1] = volume[:, t, y, x]
    taps = [p[:, :t, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    taps += [p[:, 1:, 0:h, dx : dx + w] for dx in range(3)]
    return torch.stack(taps, dim=-1)


def laplace_bits_mean(y: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Bits of symbols ``y`` under discretized Laplaces of ``mean`` and ``scale`` (broadcast):
    ``P(q) = F(q + 1/2) - F(q - 1/2)``, in the log domain so that tails stay finite."""
    d = (y - mean).abs()
    inner = 1 - 0.5 * (torch.exp(-(0.5 - d).clamp_min(0) / scale) + torch.exp(-(0.5 + d) / scale))
    tail = math.log(0.5) - (d - 0.5).clamp_min(0) / scale + torch.log1p(-torch.exp(-1.0 / scale))
    log_p = torch.where(d < 0.5, torch.log(inner.clamp_min(1e-12)), tail)
    return -log_p.sum() / math.log(2.0)


def _fixed(x: torch.Tensor, frac: int) -> torch.Tensor:
    """``x`` rounded to multiples of ``2^-frac``, with a straight-through gradient."""
    unit = float(1 << frac)
    return x + (torch.round(x * unit) / unit - x).detach()


class GridContext(nn.Module):
    """The context model of one file (shared by all its grids), in floating point for training."""

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.fc1 = nn.Linear(TAPS, hidden)
        self.fc2 = nn.Linear(hidden, 2)
        with torch.no_grad():  # start near a zero-mean Laplace whose scale follows the neighbours
            self.fc2.weight.mul_(0.1)
            self.fc2.bias.copy_(torch.tensor([0.0, 1.0]))

    def predict(self, volume: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log2 scale (before the channel multiplier) of every value of ``volume``."""
        taps = grid_taps(volume).clamp(-TAP_CLIP, TAP_CLIP)
        h = F.relu(F.linear(taps, _fixed(self.fc1.weight, FRAC), _fixed(self.fc1.bias, FRAC)))
        out = F.linear(h, _fixed(self.fc2.weight, FRAC), _fixed(self.fc2.bias, 2 * FRAC))
        lo, hi = SCALE_INDEX
        return out[..., 0], out[..., 1].clamp(lo / SCALE_STEPS, hi / SCALE_STEPS)

    def bits(self, volume: torch.Tensor, log_multiplier: torch.Tensor) -> torch.Tensor:
        """Bits of ``volume``'s symbols (C x T x H x W) with per-channel scale multipliers
        ``exp(log_multiplier)``."""
        mean, log2_scale = self.predict(volume)
        scale = torch.exp2(log2_scale) * log_multiplier.exp().view(-1, 1, 1, 1)
        return laplace_bits_mean(volume, mean, scale.clamp_min(MIN_SCALE))

    @torch.no_grad()
    def export(self) -> ContextNet:
        """The fixed-point weights the file stores."""

        def fixed(x: torch.Tensor, frac: int) -> np.ndarray:
            v = np.round(x.detach().double().cpu().numpy() * (1 << frac)).astype(np.int64)
            return np.clip(v, -WEIGHT_LIMIT + 1, WEIGHT_LIMIT - 1)

        return ContextNet(
            fixed(self.fc1.weight, FRAC),
            fixed(self.fc1.bias, FRAC),
            fixed(self.fc2.weight, FRAC),
            fixed(self.fc2.bias, 2 * FRAC),
        )


def context_tensor(q: QTensor, multipliers: np.ndarray, net: ContextNet) -> QTensor:
    """A learned grid tensor (channels on axis 0) as a context-coded one: its ``scales`` become the
    per-channel multipliers of the predicted scales."""
    return QTensor(q.symbols, q.steps, 0, 0, np.asarray(multipliers, np.float32), net, Coding.CONTEXT)
