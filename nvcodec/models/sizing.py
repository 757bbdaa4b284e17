"""Size a model from a parameter budget: the widest stem width whose transmitted count fits.

HNeRV solves a quadratic that approximates its decoder size; we count the real parameters of the
network (on the ``meta`` device, so nothing is allocated) and bisect on ``c0``, which agrees with
HNeRV's C0 on its published settings and stays exact for any stride list.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from nvcodec.models.layers import choose_grid
from nvcodec.models.registry import get

MIN_C0, MAX_C0 = 4, 2048
LOWER_WIDTHS = (12, 10, 8, 6, 4)


def count_for(name: str, config: Any) -> int:
    """Transmitted values (weights + embeddings) of model ``name`` with ``config``."""
    with torch.device("meta"):
        model = get(name).model_cls(config)
    return model.transmitted_count()


def _nearest_c0(name: str, make: Any, params: int) -> int:
    """The stem width whose transmitted count is nearest ``params`` (counts grow with ``c0``)."""
    lo, hi = MIN_C0, MAX_C0
    while lo < hi:  # largest c0 whose count <= params (or MIN_C0)
        mid = (lo + hi + 1) // 2
        if count_for(name, make(mid)) <= params:
            lo = mid
        else:
            hi = mid - 1
    below, above = count_for(name, make(lo)), count_for(name, make(lo + 1))
    return lo + 1 if abs(above - params) < abs(params - below) else lo


def solve_config(name: str, height: int, width: int, frames: int, params: int) -> Any:
    """The config of model ``name`` for a ``height`` x ``width`` x ``frames`` video whose transmitted
    count is nearest ``params``, as HNeRV picks its C0.

    The decoder's smallest width (12 in HNeRV) is lowered step by step for budgets so small that
    the stem would otherwise be narrower than twice that floor.
    """
    cls = get(name).model_cls
    strides, ph, pw = choose_grid(height, width)
    for lower in LOWER_WIDTHS:

        def make(c0: int, lower: int = lower) -> Any:
            return dataclasses.replace(cls.default_config(ph, pw, frames, strides, c0), lower_width=lower)

        c0 = _nearest_c0(name, make, params)
        if c0 >= 2 * lower:
            break
    return make(c0)
