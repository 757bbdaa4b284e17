"""What a preset buys: the training of an encode counted in floating-point operations, so that a
preset plans the same steps on every machine (the same seed still gives the same file) and takes
about the preset's seconds on the reference machine, 2 CPU cores.

A preset names seconds of fitting for a clip of :data:`REFERENCE_PIXELS` pixels (30 frames of
144x176), growing as the clip's pixels to the power :data:`GROWTH` (a clip 9x larger gets about
twice the time). The seconds become epochs through the cost of one epoch of the model sized for
the budget on that machine: its operations at :data:`REFERENCE_FLOPS` per second plus
:data:`STEP_SECONDS` a step (and, for a model that declares it, a cost per rendered pixel the
counter does not see). Operations are forward and backward passes counted on PyTorch's ``meta``
device (:class:`~nvcodec.models.complexity.OpCounter`) for the decoder and the frame encoder, the stages weighted as
:class:`~nvcodec.pipeline.training.Training` splits them (the ``rd`` and ``exact`` stages'
quantizers and rate term at :data:`RD_COST` times the decoder's pass).
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from nvcodec.models import ModelSpec
from nvcodec.models.complexity import OpCounter

PRESET_SECONDS = {"fast": 30.0, "medium": 110.0, "slow": 440.0}
"""Seconds of fitting each preset plans for a clip of :data:`REFERENCE_PIXELS` on the reference machine."""
REFERENCE_PIXELS = 30 * 144 * 176
GROWTH = 0.3
"""How a preset's seconds grow with the clip's pixels: (pixels / reference) ** GROWTH."""
REFERENCE_FLOPS = 1.0e11
"""Operations per second of a fit on the reference machine (2 CPU cores, torch's CPU kernels)."""
STEP_SECONDS = 0.0045
"""Seconds of a step beyond its operations on the reference machine (Python, the optimizer, small
kernels): what a tiny model's step costs. Measured with ``--epochs`` on this project's clips,
2 cores: 144x176 at 0.05 / 0.2 / 0.8 bpp 7.9 / 9.8 / 20.9 ms a step, 160x320 at 0.05 / 0.2 bpp
21.1 / 71.9 ms, 48x64 4.9 ms; this model puts them at 8.6 / 11.3 / 23.4, 17.4 / 63 and 4.6 ms."""
RD_COST = 1.3
"""A rate–distortion step's cost as a multiple of the decoder's pass (quantizers and rate term)."""
MIN_EPOCHS, MAX_EPOCHS = 5, 100_000
TIMED_FIT_SHARE = 0.75
"""Share of ``--time`` that sizing expects the fit to get (the probe, renders and export take the rest)."""


@functools.lru_cache(maxsize=64)
def pass_flops(spec: ModelSpec, config: Any, batch: int) -> tuple[float, float]:
    """Operations of one training step of ``batch`` whole frames: the decoder's forward and backward
    pass from the embeddings, and the frame encoder's (0 without one), counted on the meta device
    (the encoder's once per shape of its weights: sizing asks for many decoders behind one)."""
    has_table = bool(spec.skeleton(config).embedding_shapes())
    model = spec.skeleton(config, with_encoder=has_table)
    shapes = tuple((n, tuple(p.shape)) for n, p in model.named_parameters() if n.startswith(("encoder.", "encoder_")))
    encoder = _encoder_flops(spec, config, batch, shapes) if has_table else 0.0
    with torch.device("meta"):
        index = torch.zeros(batch, dtype=torch.long)
        leaves = {n: torch.empty((batch, *s[1:]), requires_grad=True) for n, s in model.embedding_shapes().items()}
        with OpCounter() as decoder:
            model.decode(index, leaves).float().mean().backward()
    return float(decoder.total), encoder


_ENCODER_FLOPS: dict[tuple, float] = {}
"""The frame encoder's operations by model, batch, frame size and the shapes of its weights."""


def _encoder_flops(spec: ModelSpec, config: Any, batch: int, shapes: tuple) -> float:
    """Operations of the frame encoder's forward and backward pass over ``batch`` frames of
    ``config``'s model, whose encoder weights have ``shapes`` (computed once per key)."""
    key = (spec, batch, config.height, config.width, shapes)
    if key not in _ENCODER_FLOPS:
        model = spec.skeleton(config, with_encoder=True)
        with torch.device("meta"):
            frames = torch.zeros(batch, 3 * (2 * spec.model_cls.context + 1), config.height, config.width)
            with OpCounter() as counter:
                torch.stack([e.sum() for e in model.encode_frames(frames).values()]).sum().backward()
        _ENCODER_FLOPS[key] = float(counter.total)
    return _ENCODER_FLOPS[key]


def preset_seconds(preset: str, pixels: int) -> float:
    """Seconds of fitting ``preset`` plans, on the reference machine, for a clip of ``pixels``."""
    return PRESET_SECONDS[preset] * (max(pixels, 1) / REFERENCE_PIXELS) ** GROWTH


def epoch_flops(spec: ModelSpec, config: Any, frames: int, batch: int, training: Any, model_has_table: bool) -> float:
    """Operations of one epoch averaged over the stages as ``training`` splits them."""
    decoder, encoder = pass_flops(spec, config, batch)
    warm = training.warmup_share
    through = 1.0 if training.encoder_share is None or not model_has_table else training.encoder_share
    per_step = warm * (decoder + through * encoder) + (1.0 - warm) * RD_COST * decoder
    return -(-frames // batch) * per_step


def epoch_seconds(spec: ModelSpec, config: Any, frames: int, batch: int, training: Any) -> float:
    """Seconds of one epoch on the reference machine (:data:`REFERENCE_FLOPS`, :data:`STEP_SECONDS`)."""
    has_table = bool(spec.skeleton(config).embedding_shapes())
    flops = epoch_flops(spec, config, frames, batch, training, has_table)
    cls = spec.model_cls
    uncounted = cls.pixel_step_seconds * cls.rendered_pixels(config)
    return flops / REFERENCE_FLOPS + -(-frames // batch) * (STEP_SECONDS + uncounted)


def epochs_for(seconds: float, spec: ModelSpec, config: Any, frames: int, batch: int, training: Any) -> int:
    """Epochs that ``seconds`` of the reference machine buy for the model of ``config``."""
    cost = epoch_seconds(spec, config, frames, batch, training)
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, seconds // max(cost, 1e-9))))


def fit_seconds(options: Any, pixels: int) -> float | None:
    """Seconds of fitting on the reference machine that ``options`` plan for a clip of ``pixels``:
    the preset's, or a share of ``--time``; None with ``--epochs`` (no time is planned)."""
    if options.epochs is not None:
        return None
    if options.time is not None:
        return TIMED_FIT_SHARE * options.time
    return preset_seconds(options.preset, pixels)
