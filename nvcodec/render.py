"""The decoder's path: quantized parameters and embeddings -> network -> uint8 frames, shared by
``decode`` and by the encoder's own report (so the encoder measures exactly what the decoder produces)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from nvcodec.compress import QTensor
from nvcodec.models import ModelSpec
from nvcodec.models.planes import chroma

RENDER_BATCH = 4


def build_decoder(spec: ModelSpec, config: Any, params: dict[str, QTensor], device: torch.device) -> torch.nn.Module:
    """A decoder-only model with every transmitted parameter set to its dequantized value."""
    model = spec.build(config)
    targets = model.transmitted_parameters()
    if list(targets) != list(params):
        raise ValueError("parameter names do not match the model")
    with torch.no_grad():
        for pname, q in params.items():
            targets[pname].copy_(torch.from_numpy(q.dequantize()).reshape(targets[pname].shape))
    return model.to(device).eval()


def dequantize_embeddings(embeddings: dict[str, QTensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Per-frame embeddings as float32 on ``device``."""
    return {k: torch.from_numpy(q.dequantize()).to(device) for k, q in embeddings.items()}


@torch.no_grad()
def render(
    model: torch.nn.Module,
    embeddings: dict[str, torch.Tensor],
    indices: Sequence[int],
    size: tuple[int, int],
    device: torch.device,
    batch: int = RENDER_BATCH,
) -> Iterator[np.ndarray]:
    """Yield uint8 H x W x 3 frames for ``indices``, cropped to ``size`` (height, width).

    Always float32 and a fixed batch size, so the encoder's report and the decoder agree bit for bit.
    """
    height, width = size
    for i in range(0, len(indices), batch):
        idx = torch.as_tensor(list(indices[i : i + batch]), dtype=torch.long, device=device)
        out = model.decode(idx, {k: v[idx] for k, v in embeddings.items()})[..., :height, :width]
        frames = (out.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        yield from frames


@torch.no_grad()
def render_planes(
    model: Any,
    embeddings: dict[str, torch.Tensor],
    indices: Sequence[int],
    size: tuple[int, int],
    device: torch.device,
    layout: tuple[int, int],
    batch: int = RENDER_BATCH,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield the Y, U, V planes of a natively coded video's frames ``indices``: the network's
    outputs cropped to ``size`` through the chroma stage (:func:`~nvcodec.models.planes.chroma`),
    at ``layout`` = (bit depth, chroma subsampling); uint8 planes at 8 bits, uint16 above. Float32
    at a fixed batch size, as :func:`render`."""
    height, width = size
    depth, sub = layout
    top, dtype = float((1 << depth) - 1), np.uint8 if depth <= 8 else np.uint16
    for i in range(0, len(indices), batch):
        idx = torch.as_tensor(list(indices[i : i + batch]), dtype=torch.long, device=device)
        out = model.decode(idx, {k: v[idx] for k, v in embeddings.items()})[..., :height, :width]
        luma = (out[:, 0].clamp(0, 1) * top).round().cpu().numpy().astype(dtype)
        uv = (chroma(out, sub).clamp(0, 1) * top).round().cpu().numpy().astype(dtype)
        yield from zip(luma, uv[:, 0], uv[:, 1], strict=True)
