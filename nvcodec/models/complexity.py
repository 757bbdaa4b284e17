"""Decode complexity as the field reports it: multiply–accumulates (MACs) per output pixel of
rendering one frame, counted from the model itself.

The count is PyTorch's own (:class:`torch.utils.flop_counter.FlopCounterMode`: every convolution
and matrix product, two FLOPs a MAC) over one run of the decoder on the ``meta`` device, which
allocates nothing; element-wise work (activations, interpolation, bilinear reads of a canvas) is
not counted, as in the papers that report kMAC per pixel (HiNeRV, NVRC, Cool-chic).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from nvcodec.models.registry import ModelSpec


def decode_macs(spec: ModelSpec, config: Any) -> int:
    """MACs of decoding one frame with the network of ``config`` (its whole output, padding included)."""
    with torch.device("meta"):
        model = spec.build(config)
    index = torch.zeros(1, dtype=torch.long, device="meta")
    embeddings = {k: torch.empty((1, *s[1:]), device="meta") for k, s in model.embedding_shapes().items()}
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.decode(index, embeddings)
    return counter.get_total_flops() // 2


def kmac_per_pixel(spec: ModelSpec, config: Any, height: int, width: int) -> float:
    """Thousands of MACs per pixel of a ``height`` x ``width`` frame (:func:`decode_macs`)."""
    return decode_macs(spec, config) / (height * width) / 1000.0
