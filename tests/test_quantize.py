"""Quantization: every value within half a step, zero exact, steps at the stored precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nvcodec.bitio import ByteReader, ByteWriter
from nvcodec.compress import global_magnitude_masks, quantize, quantize_best_axis
from nvcodec.compress.quantize import candidate_axes, from_bf16_bits, to_bf16_up
from nvcodec.format import read_qtensor, write_qtensor

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("shape", [(48, 24, 3, 3), (300,), (132, 16, 2, 4), (7, 1), (1,)])
@pytest.mark.parametrize("bits", [4, 6, 8, 10])
def test_dequantized_within_half_step(shape: tuple[int, ...], bits: int) -> None:
    x = (RNG.normal(0.05, 0.1, shape) * RNG.uniform(0.1, 3, shape[-1])).astype(np.float32)
    q = quantize_best_axis(x, bits)
    steps = q.steps if q.axis is None else q.steps.reshape([-1 if i == q.axis else 1 for i in range(x.ndim)])
    assert np.all(np.abs(q.dequantize() - x) <= steps / 2 * (1 + 1e-6))
    slices = q.symbols.reshape(1, -1) if q.axis is None else np.moveaxis(q.symbols, q.axis, 0).reshape(len(q.steps), -1)
    assert np.all(slices.max(axis=1) - slices.min(axis=1) <= 2**bits - 1)


def test_zero_stays_exactly_zero() -> None:
    x = RNG.normal(0, 1, (64, 64)).astype(np.float32)
    x[RNG.random(x.shape) < 0.3] = 0
    q = quantize(x, 6, 0)
    assert np.all(q.dequantize()[x == 0] == 0)


def test_steps_are_bfloat16_rounded_up() -> None:
    v = np.array([0.1, 1e-5, 3.3333, 0.0], dtype=np.float32)
    up = to_bf16_up(v)
    assert np.all(up >= v)
    assert np.all(from_bf16_bits((up.view(np.uint32) >> 16).astype(np.uint16)) == up)


def test_axis_choice_prefers_lower_error() -> None:
    x = RNG.normal(0, 1, (32, 200)).astype(np.float32) * np.logspace(-3, 0, 32, dtype=np.float32)[:, None]
    assert candidate_axes(x.shape) == [None, 0]
    assert quantize_best_axis(x, 6).axis == 0


def test_record_round_trip() -> None:
    x = RNG.normal(0, 1, (20, 10, 3, 3)).astype(np.float32)
    q = quantize_best_axis(x, 8)
    w = ByteWriter()
    write_qtensor(w, q)
    back = read_qtensor(ByteReader(w.getvalue()), x.shape)
    np.testing.assert_array_equal(back.dequantize(), q.dequantize())


def test_global_pruning_removes_the_smallest_fraction() -> None:
    tensors = {"a": torch.randn(100, 10), "b": torch.randn(50) * 10}
    masks = global_magnitude_masks(tensors, 0.4)
    kept = sum(int(m.sum()) for m in masks.values())
    assert kept == 1050 - 420
    assert masks["b"].float().mean() > masks["a"].float().mean()
    assert all(m.all() for m in global_magnitude_masks(tensors, 0.0).values())
