"""The range of every numeric config field, by name (one name per concept across all models), so a
config read from a file is checked before any network is built from it. A field without a declared
range is refused: a new model must declare its fields here (a test walks the registry)."""

from __future__ import annotations

import math
from typing import Any

FIELD_LIMITS: dict[str, tuple[float, float]] = {
    "height": (1, 1 << 15),
    "width": (1, 1 << 15),
    "frames": (1, 1 << 20),
    "strides": (1, 16),  # each stride; a config has 1..12 of them
    "c0": (1, 4096),
    "embed_dim": (1, 1024),
    "hf_dim": (0, 1024),
    "hf_cell": (1, 4096),
    "hf_width": (1, 4096),
    "sft_blocks": (0, 16),
    "diff_dim": (1, 1024),
    "t_dim": (1, 1024),
    "enc_width": (1, 4096),
    "stem_dim": (1, 4096),
    "lower_width": (1, 4096),
    "reduce": (1.0, 16.0),
    "kernel": (1, 31),
    "max_kernel": (1, 31),
    "attn_kernel": (1, 31),
    "attn_reduce": (1, 64),
    "tap": (1, 31),
    "hfm_layers": (0, 16),
    "res_blocks": (0, 16),
    "diff_cell": (1, 4096),
    "t_down": (1, 64),
    "pe_levels": (1, 128),
    "pe_base": (1.0, 4.0),
    "capacity": (1e-6, 1.0),
    "max_videos": (1, 0xFFFF),
    "fso_stage": (-1, 16),
    "fso_fraction": (1e-6, 1.0),
    "seed": (0, (1 << 32) - 1),
    "grid_frames": (1, 1 << 20),
    "grid_channels": (1, 256),
    "grid_levels": (1, 8),
    "local_frames": (1, 1 << 20),
    "local_channels": (1, 256),
    "local_levels": (1, 8),
    "canvas_height": (1, 1 << 15),
    "canvas_width": (1, 1 << 15),
    "latent_levels": (1, 12),
    "latent_frames": (1, 1 << 20),
    "motion": (-(1 << 22), 1 << 22),  # second differences of fixed-point map fields (nvcodec.motion.canvas)
}
MAX_STRIDES = 12
MOTION_FIELDS = 6
"""Values of the ``motion`` tuple per frame; every other tuple (strides) has 1..:data:`MAX_STRIDES`."""


def check_fields(fields: dict[str, Any]) -> None:
    """Raise :class:`ValueError` naming the first field outside its range (floats must be finite,
    every stride in range, their product no larger than the frame's smaller side)."""
    for name, value in fields.items():
        if isinstance(value, (bool, str)):
            continue
        if name not in FIELD_LIMITS:
            raise ValueError(f"field {name!r} has no declared range")
        lo, hi = FIELD_LIMITS[name]
        values = value if isinstance(value, tuple) else (value,)
        if name == "motion":
            if len(value) != MOTION_FIELDS * fields.get("frames", 0):
                raise ValueError(f"motion has {len(value)} entries, not {MOTION_FIELDS} per frame")
        elif isinstance(value, tuple) and not 1 <= len(value) <= MAX_STRIDES:
            raise ValueError(f"{name} has {len(value)} entries, not 1..{MAX_STRIDES}")
        for v in values:
            if not (math.isfinite(v) and lo <= v <= hi):
                raise ValueError(f"{name} = {value!r} is outside {lo:g}..{hi:g}")
    if "strides" in fields and {"height", "width"} <= set(fields):
        if math.prod(fields["strides"]) > min(fields["height"], fields["width"]):
            raise ValueError(f"strides {fields['strides']} up-sample more than the frame is high or wide")
