"""A synthetic test clip: textured background, moving shapes and a gradient, deterministic per seed."""

from __future__ import annotations

import numpy as np


def synthetic_clip(frames: int = 8, height: int = 32, width: int = 64, seed: int = 0) -> np.ndarray:
    """A T x H x W x 3 uint8 clip with smooth motion, edges and texture (for tests and fallbacks)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = rng.normal(0, 1, (height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    texture = np.kron(texture, np.ones((4, 4, 1), np.float32))[:height, :width]
    colors = rng.uniform(40, 220, (3, 3)).astype(np.float32)
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):
        phase = 2 * np.pi * t / max(frames, 1)
        base = 90 + 50 * np.sin(xx / width * 4 + phase)[..., None] + 30 * np.cos(yy / height * 3)[..., None]
        img = base + 12 * texture
        for k in range(3):
            cy = height * (0.5 + 0.3 * np.sin(phase + 2 * k))
            cx = width * (0.5 + 0.35 * np.cos(phase * (k + 1) / 2 + k))
            r = (0.12 + 0.05 * k) * min(height, width)
            mask = (
                ((yy - cy) ** 2 + (xx - cx) ** 2) < r * r if k != 1 else ((np.abs(yy - cy) < r) & (np.abs(xx - cx) < r))
            )
            img[mask] = colors[k]
        out[t] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return out
