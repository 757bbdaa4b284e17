"""Decode complexity as the field reports it: multiply–accumulates (MACs) per output pixel of
rendering one frame, counted from the model itself.

The count is PyTorch's own formulas (``torch.utils.flop_counter``'s registry: every convolution
and matrix product, two FLOPs a MAC) over one run of the decoder on the ``meta`` device, which
allocates nothing, summed by :class:`OpCounter`; element-wise work (activations, interpolation,
bilinear reads of a canvas) is not counted, as in the papers that report kMAC per pixel (HiNeRV, NVRC, Cool-chic).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from nvcodec.models.registry import ModelSpec


class OpCounter(TorchDispatchMode):
    """Floating-point operations of what runs inside it, by the formulas PyTorch's
    ``FlopCounterMode`` uses (the same totals on every registered model, forward and backward,
    tested), without that mode's per-module bookkeeping and decompositions."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:  # noqa: D105
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += int(formula(*args, **kwargs, out_val=out))
        return out


def decode_macs(spec: ModelSpec, config: Any) -> int:
    """MACs of decoding one frame with the network of ``config`` (its whole output, padding included)."""
    model = spec.skeleton(config)
    index = torch.zeros(1, dtype=torch.long, device="meta")
    embeddings = {k: torch.empty((1, *s[1:]), device="meta") for k, s in model.embedding_shapes().items()}
    with OpCounter() as counter, torch.no_grad():
        model.decode(index, embeddings)
    return counter.total // 2


def kmac_per_pixel(spec: ModelSpec, config: Any, height: int, width: int) -> float:
    """Thousands of MACs per pixel of a ``height`` x ``width`` frame (:func:`decode_macs`)."""
    return decode_macs(spec, config) / (height * width) / 1000.0
