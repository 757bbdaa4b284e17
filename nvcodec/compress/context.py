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
integer sums never do): taps clipped to ``±TAP_CLIP``; ``h = max(0, W1 · taps + b1)`` with ``W1``,
``b1`` in units of ``2^-FRAC``; ``(m, s) = W2 · h + b2`` with ``W2`` in units of ``2^-FRAC`` and
``b2`` in ``2^-2FRAC``. The mean is ``m / 2^(2 FRAC)``; the scale is ``2^(k / SCALE_STEPS)`` with
``k`` the nearest integer to ``s · SCALE_STEPS / 2^(2 FRAC)`` (clamped to ``SCALE_INDEX``), times the
channel's stored multiplier. :mod:`nvcodec.entropy.context` evaluates that in int64;
:class:`GridContext` here is the same function in floating point with the weights rounded to the
fixed point (straight-through gradient), so the rate the fit trains on is the rate the file pays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.compress.quantize import QTensor

TAPS = 12
"""Neighbours a value is predicted from: 9 in the previous time step, 3 in the row above."""
HIDDEN = 8
"""Width of the predictor's hidden layer."""
FRAC = 8
"""Fractional bits of the fixed-point weights."""
TAP_CLIP = 1023
"""Taps are clipped to this magnitude before the predictor sees them."""
SCALE_STEPS = 8
"""Scale indices per octave."""
SCALE_INDEX = (-40, 120)
"""Smallest and largest scale index (scales 2^-5 .. 2^15 before the channel multiplier)."""
MIN_SCALE = 0.05
"""Smallest scale used for coding (as :mod:`nvcodec.entropy.laplace`)."""
CONTEXT = 17
"""``bits`` of a grid tensor coded with the context model."""
WEIGHT_LIMIT = 1 << 20
"""Largest magnitude of a fixed-point weight the format accepts."""


@dataclass(frozen=True)
class ContextNet:
    """The predictor's fixed-point weights (int64): ``w1`` HIDDEN x TAPS, ``b1`` HIDDEN,
    ``w2`` 2 x HIDDEN, ``b2`` 2 (units in the module docstring)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def values(self) -> np.ndarray:
        """Every weight, flattened in the stored order (w1, b1, w2, b2)."""
        return np.concatenate([self.w1.ravel(), self.b1, self.w2.ravel(), self.b2]).astype(np.int64)

    @classmethod
    def from_values(cls, values: np.ndarray, hidden: int) -> ContextNet:
        """The inverse of :meth:`values` for a hidden width."""
        v = np.asarray(values, dtype=np.int64)
        sizes = np.cumsum([hidden * TAPS, hidden, 2 * hidden, 2])
        if len(v) != sizes[-1]:
            raise ValueError(f"a context net of width {hidden} has {sizes[-1]} weights, not {len(v)}")
        w1, b1, w2, b2 = np.split(v, sizes[:-1])
        return cls(w1.reshape(hidden, TAPS), b1, w2.reshape(2, hidden), b2)


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
    return QTensor(q.symbols, q.steps, 0, CONTEXT, np.asarray(multipliers, np.float32), context=net)
