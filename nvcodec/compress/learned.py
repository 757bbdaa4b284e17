"""Learned quantization for the rate–distortion fit: a trainable step per slice of every tensor,
a differentiable stand-in for rounding, and the rate of the integers under a per-slice Laplace.

A tensor is read as slices along its ``axis`` (output channels for weights, channels for
embeddings, one slice for short tensors): ``q = round(x / step)``, ``x_hat = q * step``. While
fitting, rounding is replaced by additive uniform noise (``noise``) or by rounding with a
straight-through gradient (``round``: the values are the exact integers the file will hold). The
rate of slice ``s`` is ``-log2 P(q)`` with ``P`` the discretized zero-mean Laplace whose scale is
the slice's mean ``|q|`` (its maximum-likelihood value, floored at ``MIN_SCALE``), the same model
:mod:`nvcodec.entropy.laplace` codes with. Per-frame tensors (embeddings) may instead be coded as
residuals from the previous frame (:func:`frame_residuals`), which costs far less where frames
change slowly; :func:`frame_bits` prices both ways and the file takes the cheaper.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nvcodec.compress.quantize import Coding, QTensor, frame_residuals, to_bf16_up

MIN_SCALE = 0.05
MAX_SYMBOL = 32000
"""The largest symbol magnitude :meth:`LearnedQuantizer.export` makes (the format allows below 32768):
a step is never smaller than the slice's peak over this."""
INIT_LEVELS = 32
"""Initial step: the slice's largest magnitude spread over this many levels on each side."""


def slice_axis(shape: tuple[int, ...], embedding: bool = False) -> int | None:
    """The axis whose slices get their own step and scale: channels (axis 1) of an embedding
    (frames x channels x ...), output channels (axis 0) of a weight with more than one axis and
    more than one output, else None (one slice)."""
    if embedding:
        return 1 if len(shape) > 1 else None
    return 0 if len(shape) > 1 and shape[0] > 1 else None


def as_slices(x: torch.Tensor, axis: int | None) -> torch.Tensor:
    """``x`` as (slices x n): the slices along ``axis`` first, flattened."""
    return x.reshape(1, -1) if axis is None else x.movedim(axis, 0).reshape(x.shape[axis], -1)


def laplace_bits(y: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Bits of (continuous or integer) symbols ``y`` (slices x n) under zero-mean discretized
    Laplace models of ``scale`` (slices x 1), computed in the log domain so that tails stay finite."""
    a = y.abs()
    zero = torch.log1p(-torch.exp(-0.5 / scale))
    tail = math.log(0.5) - (a - 0.5) / scale + torch.log1p(-torch.exp(-1.0 / scale))
    log_p = torch.where(a < 0.5, zero.expand_as(a), tail)
    return -log_p.sum() / math.log(2.0)


def ml_bits(y: torch.Tensor) -> torch.Tensor:
    """Bits of symbols ``y`` (slices x n) under per-slice Laplaces of maximum-likelihood scale."""
    scale = y.abs().mean(dim=1, keepdim=True).clamp_min(MIN_SCALE)
    return laplace_bits(y, scale)


def ml_bits_joint(ys: list[torch.Tensor]) -> torch.Tensor:
    """The sum of :func:`ml_bits` over several symbol tensors (each slices x n, its own n), from
    per-slice sums over their concatenation: a slice of ``n`` symbols with ``n0`` below one half in
    magnitude and the rest summing to ``A`` costs ``n0 zero + (n - n0) offset - A / scale`` nats
    (``zero``, ``offset``: the Laplace's terms, see :func:`laplace_bits`). The same bits up to the
    order of float sums, in a few dozen operations however many tensors (a network's weights)."""
    if not ys:
        return torch.zeros(())
    a = torch.cat([y.reshape(-1) for y in ys]).abs()
    big = (a >= 0.5).to(a.dtype)
    widths = torch.tensor([y.shape[1] for y in ys for _ in range(y.shape[0])], device=a.device)
    sums = torch.segment_reduce(torch.stack([a, a * big, big], 1), "sum", lengths=widths, axis=0)
    total, tail_sum, n_big = sums.unbind(1)
    scale = (total / widths).clamp_min(MIN_SCALE)
    zero = torch.log1p(-torch.exp(-0.5 / scale))
    offset = math.log(0.5) + 0.5 / scale + torch.log1p(-torch.exp(-1.0 / scale))
    log_p = (widths - n_big) * zero + n_big * offset - tail_sum / scale
    return -log_p.sum() / math.log(2.0)


def slice_frame_residuals(y: torch.Tensor, frames: int) -> torch.Tensor:
    """Slices (slices x frames*k, frame-major within a slice) minus the previous frame's values."""
    s = y.reshape(y.shape[0], frames, -1)
    return torch.diff(s, dim=1, prepend=torch.zeros_like(s[:, :1])).reshape(y.shape)


def frame_bits(y: torch.Tensor, frames: int, noise: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Bits of per-frame symbols ``y`` (slices x frames*k) coded as they are and as frame
    residuals. With ``noise`` the residuals of the clean values get their own uniform noise (the
    stand-in for rounding them)."""
    residuals = slice_frame_residuals(y, frames)
    if noise:
        return ml_bits(y + torch.empty_like(y).uniform_(-0.5, 0.5)), ml_bits(
            residuals + torch.empty_like(y).uniform_(-0.5, 0.5)
        )
    return ml_bits(y), ml_bits(residuals)


def perturbed_all(quantizers: list[LearnedQuantizer], tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """``[q.perturbed(x) for q, x in zip(quantizers, tensors)]`` with the same values (the noise drawn
    in one call, which gives the same draws in the same order, and every step in one ``exp``), in a
    few operations per tensor instead of six: a small network's step is bound by its number of
    operations. The tensors share one dtype and device."""
    if not tensors:
        return []
    sizes = [x.numel() for x in tensors]
    noise = torch.empty(sum(sizes), dtype=tensors[0].dtype, device=tensors[0].device).uniform_(-0.5, 0.5)
    steps = torch.cat([q.log_step for q in quantizers]).exp().split([q.log_step.numel() for q in quantizers])
    out = []
    for q, x, u, step in zip(quantizers, tensors, noise.split(sizes), steps, strict=True):
        shape = [1] * x.dim()
        if q.axis is not None:
            shape[q.axis] = -1
        out.append(x + u.view(x.shape) * step.reshape(shape))
    return out


class LearnedQuantizer(nn.Module):
    """One trainable log-step per slice of one tensor."""

    def __init__(self, x: torch.Tensor, axis: int | None) -> None:
        super().__init__()
        self.axis = axis
        peak = as_slices(x.detach().float(), axis).abs().amax(dim=1).clamp_min(1e-8)
        self.log_step = nn.Parameter(torch.log(peak / INIT_LEVELS))

    def step(self) -> torch.Tensor:
        """Steps, one per slice (slices x 1)."""
        return self.log_step.exp()[:, None]

    def symbols(self, x: torch.Tensor, mode: str) -> torch.Tensor:
        """``x / step`` (slices x n) made integer: with uniform noise (``noise``), rounded with a
        straight-through gradient (``round``), or left as it is (``clean``)."""
        y = as_slices(x, self.axis) / self.step()
        if mode == "noise":
            return y + torch.empty_like(y).uniform_(-0.5, 0.5)
        if mode == "clean":
            return y
        return y + (torch.round(y) - y).detach()

    def perturbed(self, x: torch.Tensor) -> torch.Tensor:
        """``x + u step`` with ``u`` uniform in [-0.5, 0.5): the value ``restore(symbols(x, "noise"))``
        gives (the same noise draws, in the same order, for slices along the first axis or one
        slice), without forming the symbols."""
        shape = [1] * x.dim()
        if self.axis is not None:
            shape[self.axis] = -1
        return x + torch.empty_like(x).uniform_(-0.5, 0.5) * self.log_step.exp().reshape(shape)

    def restore(self, y: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Symbols (slices x n) back to values in ``like``'s shape: ``y * step``."""
        x = y * self.step()
        if self.axis is None:
            return x.reshape(like.shape)
        moved = like.movedim(self.axis, 0).shape
        return x.reshape(moved).movedim(0, self.axis)

    def bits(self, y: torch.Tensor) -> torch.Tensor:
        """Bits of symbols ``y`` under per-slice Laplaces of maximum-likelihood scale."""
        return ml_bits(y)

    @torch.no_grad()
    def export(self, x: torch.Tensor, step_scale: float = 1.0, predicted: bool = False) -> QTensor:
        """The integers, steps and scales the file holds for ``x`` (steps rounded up to bfloat16
        first, as the decoder reads them; ``step_scale`` multiplies every step, for rate control).
        ``predicted``: code the symbols as frame residuals (``x``'s first axis is frames)."""
        slices = as_slices(x.detach().float().cpu(), self.axis).numpy()
        peak = np.abs(slices).max(axis=1, initial=0.0)
        steps = (self.step()[:, 0] * step_scale).float().cpu().numpy()
        steps = to_bf16_up(np.maximum(steps, peak / MAX_SYMBOL).astype(np.float32))
        q = np.round(slices / steps[:, None]).astype(np.int64)
        shape = tuple(x.shape)
        if self.axis is None:
            symbols = q.reshape(shape)
        else:
            moved = (shape[self.axis], *shape[: self.axis], *shape[self.axis + 1 :])
            symbols = np.moveaxis(q.reshape(moved), 0, self.axis)
        coded = frame_residuals(symbols) if predicted else symbols
        magnitude = np.abs(as_slices(torch.from_numpy(coded), self.axis).numpy()).mean(axis=1)
        scales = to_bf16_up(np.maximum(magnitude, MIN_SCALE).astype(np.float32))
        return QTensor(symbols, steps, self.axis, 0, scales, kind=Coding.PREDICTED if predicted else Coding.LEARNED)
