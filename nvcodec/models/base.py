"""The interface every registered model implements, and the budget solver built on it."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from nvcodec.models.layers import choose_grid


class NeuralVideoModel(nn.Module):
    """A neural video representation split into what is transmitted and what is not.

    Transmitted: every parameter except those under ``encoder`` (the training-only frame encoders),
    plus the per-frame side tensors named by :meth:`embedding_shapes`. ``default_lr`` and
    ``default_loss`` are the model's reference training settings. ``context`` is how many
    neighbouring frames on each side the encoder reads (they arrive stacked along channels:
    previous, current, next). ``side_min_bits`` gives side tensors a quantization floor.
    """

    spec: Any
    config: Any
    default_lr: float = 1e-3
    default_loss: str = "l2"
    context: int = 0
    side_min_bits: dict[str, int] = {}

    @staticmethod
    def grid_for(height: int, width: int) -> tuple[tuple[int, ...], int, int]:
        """Decoder strides and padded frame size for a frame size (see :func:`choose_grid`)."""
        return choose_grid(height, width)

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the transmitted per-frame tensors (first axis: frames)."""
        raise NotImplementedError

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Side tensors for a batch of frames in [0, 1] (training encoder)."""
        raise NotImplementedError

    def decode(self, index: torch.Tensor, side: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames N x 3 x H x W in [0, 1] from frame indices and their side tensors."""
        raise NotImplementedError

    def forward(self, index: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Training pass: encode the frames (if the model has an encoder) and decode them."""
        return self.decode(index, self.encode_frames(frames))

    def transmitted_parameters(self) -> dict[str, nn.Parameter]:
        """Parameters that go into the file, in a fixed order (encoder excluded)."""
        return {n: p for n, p in self.named_parameters() if not n.startswith(("encoder.", "encoder_"))}

    def prunable_parameters(self) -> dict[str, nn.Parameter]:
        """Weights that pruning may zero: conv and linear kernels except the RGB head."""
        return {n: p for n, p in self.transmitted_parameters().items() if p.dim() > 1 and "head" not in n}

    def transmitted_count(self) -> int:
        """Number of transmitted values: decoder parameters plus per-frame embeddings."""
        n = sum(p.numel() for p in self.transmitted_parameters().values())
        return n + sum(math.prod(s) for s in self.embedding_shapes().values())
