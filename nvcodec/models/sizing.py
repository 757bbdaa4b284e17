"""Size a model from a parameter budget: the widest stem width whose transmitted count fits.

HNeRV solves a quadratic that approximates its decoder size; we count the real parameters of the
network (on the ``meta`` device, so nothing is allocated) and bisect on ``c0``, which agrees with
HNeRV's C0 on its published settings and stays exact for any stride list. Before that, a
rate-aware encode may pick where the per-frame tensors sit (:func:`embedding_layout`): fewer
embedding channels or a coarser grid when the budget cannot pay for HNeRV's 16 channels.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from nvcodec.models.base import Grid
from nvcodec.models.registry import ModelSpec

MIN_C0, MAX_C0 = 4, 2048
LOWER_WIDTHS = (12, 10, 8, 6, 4)
REFINE_TOLERANCE = 0.02
REFINE_SPANS = (1, 3)


def count_for(spec: ModelSpec, config: Any) -> int:
    """Transmitted values (weights + embeddings) of the model of ``spec`` with ``config``."""
    return spec.transmitted_count(config)


def _nearest_c0(spec: ModelSpec, make: Any, params: int) -> int:
    """The stem width whose transmitted count is nearest ``params`` (counts grow with ``c0``)."""
    lo, hi = MIN_C0, MAX_C0
    while lo < hi:  # largest c0 whose count <= params (or MIN_C0)
        mid = (lo + hi + 1) // 2
        if count_for(spec, make(mid)) <= params:
            lo = mid
        else:
            hi = mid - 1
    below, above = count_for(spec, make(lo)), count_for(spec, make(lo + 1))
    return lo + 1 if abs(above - params) < abs(params - below) else lo


def _refine_reduce(spec: ModelSpec, config: Any, params: int) -> Any:
    """If the count is more than 2% off the budget, try stem widths c0 - 1 .. c0 + 1 (then, if
    still more than 2% off, c0 - 3 .. c0 + 3) with the model's refined field
    (:attr:`~nvcodec.models.base.NeuralVideoModel.refine_field`: the width ratio between stages for
    most) within 8% of its reference value and keep the nearest (ties: the reference value)."""
    name = spec.model_cls.refine_field
    if name is None or not hasattr(config, name):
        return config
    best, best_key = config, (abs(count_for(spec, config) - params), 0.0)
    for span in REFINE_SPANS:
        if best_key[0] <= REFINE_TOLERANCE * params:
            break
        best, best_key = _refine_around(spec, config, params, name, span, (best, best_key))
    return best


def _refine_around(spec: ModelSpec, config: Any, params: int, name: str, span: int, best: tuple) -> tuple:
    """The nearest of ``best`` and the configs with stem widths within ``span`` of ``config``'s and
    the field ``name`` within 8% of its value, with its key (distance to ``params``, |step|)."""
    base = getattr(config, name)
    for c0 in range(config.c0 - span, config.c0 + span + 1):
        for step in range(-8, 9):
            value = round(base * (1 + step / 100), 4)
            value = round(value) if isinstance(base, int) else value
            if c0 < MIN_C0 or value <= 1.0:
                continue
            cand = dataclasses.replace(config, c0=c0, **{name: value})
            key = (abs(count_for(spec, cand) - params), abs(step))
            if key < best[1]:
                best = (cand, key)
    return best


def solve_config(
    spec: ModelSpec,
    height: int,
    width: int,
    frames: int,
    params: int,
    fixed: dict[str, Any] | None = None,
    grid: Grid | None = None,
) -> Any:
    """The config of the model of ``spec`` for a ``height`` x ``width`` x ``frames`` video whose transmitted
    count is nearest ``params``, as HNeRV picks its C0.

    For decoders whose widths taper, the smallest width (12 in HNeRV) is lowered step by step for
    budgets so small that the stem would otherwise be narrower than twice that floor. Where integer stem widths are too
    coarse to land within 2% of the budget (small models), the model's refined field (the width
    ratio between stages for most) is adjusted by up to 8% around its reference value. ``fixed``
    sets config fields that are not solved for (PFNR's capacity, the embedding channels, for
    instance) before counting; ``grid`` replaces the model's preferred strides and padded size (see
    :func:`embedding_layout`). A model with a fixed first width
    (:attr:`~nvcodec.models.base.NeuralVideoModel.fixed_c0`) has one config whatever the budget.
    """
    cls = spec.model_cls
    strides, ph, pw = grid or cls.grids(height, width, fixed or {})[0]
    if cls.fixed_c0 is not None:
        return cls.default_config(ph, pw, frames, strides, cls.fixed_c0, params, **(fixed or {}))
    tapered = cls.tapers_lower_width and "lower_width" in {f.name for f in dataclasses.fields(spec.config_cls)}
    for lower in LOWER_WIDTHS if tapered else (0,):

        def make(c0: int, lower: int = lower) -> Any:
            config = cls.default_config(ph, pw, frames, strides, c0, params, **(fixed or {}))
            return dataclasses.replace(config, lower_width=lower) if tapered else config

        c0 = _nearest_c0(spec, make, params)
        if c0 >= 2 * lower:
            break
    return _refine_reduce(spec, make(c0), params) if params > 0 else make(c0)


EMBED_CHANNELS = (16, 12, 8, 6, 4)
"""Embedding channel counts :func:`embedding_layout` tries, richest first (16 is HNeRV's)."""
MAX_PADDING = 1.25
"""Largest ratio of padded to real frame area a coarser embedding grid may cost."""


def per_frame_values(spec: ModelSpec, config: Any) -> int:
    """Transmitted per-frame values of one frame (every per-frame tensor's share)."""
    return sum(math.prod(shape[1:]) for shape in spec.skeleton(config).embedding_shapes().values())


def embedding_layout(
    spec: ModelSpec, height: int, width: int, frames: int, limit: int, fixed: dict[str, Any] | None = None
) -> tuple[Grid | None, dict[str, Any]]:
    """The grid and embedding channels that keep a frame's per-frame values within ``limit``.

    The model's preferred grid is tried with each of :data:`EMBED_CHANNELS` in its
    ``layout_field`` (richest first), then grids with no more cells and padding at most
    :data:`MAX_PADDING`, in the model's order of preference; the first within ``limit`` is taken,
    or, if none is, the one with the fewest values. ``fixed`` (other config fields) counts towards
    the values but is not returned. A model without a ``layout_field`` gets ``(None, {})``: its
    preferred grid, fields as they are.
    """
    field = spec.model_cls.layout_field
    if field is None:
        return None, {}
    options = spec.model_cls.grids(height, width, fixed or {})
    cells = _cells(options[0])
    grids = [g for g in options if _cells(g) <= cells and g[1] * g[2] <= MAX_PADDING * height * width]
    fewest: tuple[int, Grid, int] | None = None
    for grid in [options[0], *(g for g in grids if g != options[0])]:
        for channels in EMBED_CHANNELS:
            fields = {**(fixed or {}), field: channels}
            config = spec.model_cls.default_config(grid[1], grid[2], frames, grid[0], MIN_C0, 0, **fields)
            values = per_frame_values(spec, config)
            if values <= limit:
                return grid, {field: channels}
            if fewest is None or values < fewest[0]:
                fewest = (values, grid, channels)
    assert fewest is not None
    return fewest[1], {field: fewest[2]}


def _cells(grid: Grid) -> int:
    """Padded area over the total stride squared: the cells of the smallest feature grid (for the
    half-resolution models, four times it; only compared between grids of one model)."""
    s = math.prod(grid[0])
    return (grid[1] // s) * (grid[2] // s)
