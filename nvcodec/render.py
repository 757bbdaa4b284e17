"""The decoder's path from dequantized tensors to uint8 frames, shared by `decode` and by the
encoder's own report (so the encoder measures exactly what the decoder produces)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from nvcodec.archive import Archive
from nvcodec.compress import QTensor
from nvcodec.models import build

RENDER_BATCH = 4


def build_decoder(name: str, config: Any, params: dict[str, QTensor], device: torch.device) -> torch.nn.Module:
    """A decoder-only model with every transmitted parameter set to its dequantized value."""
    model = build(name, config)
    targets = model.transmitted_parameters()
    if list(targets) != list(params):
        raise ValueError("parameter names do not match the model")
    with torch.no_grad():
        for pname, q in params.items():
            targets[pname].copy_(torch.from_numpy(q.dequantize()).reshape(targets[pname].shape))
    return model.to(device).eval()


def build_archive_decoder(archive: Archive, index: int, device: torch.device) -> torch.nn.Module:
    """The network of video ``index`` of a progressive archive: weights replayed from videos
    ``0..index`` (nothing later is read), that video's mask, head and codes."""
    session = archive.sessions[index]
    weights, _ = archive.replay(index)
    model = build(archive.model, archive.config)
    with torch.no_grad():
        for name, value in weights.items():
            model.weights[name].copy_(torch.from_numpy(value))
        model.head.copy_(torch.from_numpy(session.head.dequantize()))
    model.to(device)  # before use_masks: the masks are placed on the weights' device
    model.use_masks({n: torch.from_numpy(m) for n, m in session.masks.items()})
    model.set_video(index, session.meta.frames)
    return model.eval()


def dequantize_side(side: dict[str, QTensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Per-frame side tensors as float32 on ``device``."""
    return {k: torch.from_numpy(q.dequantize()).to(device) for k, q in side.items()}


@torch.no_grad()
def render(
    model: torch.nn.Module,
    side: dict[str, torch.Tensor],
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
        out = model.decode(idx, {k: v[idx] for k, v in side.items()})[..., :height, :width]
        frames = (out.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        yield from frames
