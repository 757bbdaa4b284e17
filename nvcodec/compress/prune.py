"""Global unstructured magnitude pruning: one threshold over all prunable tensors together."""

from __future__ import annotations

import torch


def global_magnitude_masks(tensors: dict[str, torch.Tensor], fraction: float) -> dict[str, torch.Tensor]:
    """Boolean keep-masks that zero the ``fraction`` of entries with the smallest magnitude overall.

    ``fraction`` is the share removed (0 keeps everything). Ties at the threshold are removed too,
    so at least ``fraction`` of the entries go.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"prune fraction must be in [0, 1), got {fraction}")
    if fraction == 0.0 or not tensors:
        return {k: torch.ones_like(v, dtype=torch.bool) for k, v in tensors.items()}
    flat = torch.cat([v.detach().abs().flatten().float().cpu() for v in tensors.values()])
    k = max(1, int(round(fraction * flat.numel())))
    threshold = torch.kthvalue(flat, k).values
    return {name: v.detach().abs() > threshold.to(v.device) for name, v in tensors.items()}
