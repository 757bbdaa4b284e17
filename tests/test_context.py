"""The grid context model: integer predictions causal and equal row by row and all at once, exact
round trips of grids and of the GCTX payload, the fit's floating-point rate against the coder's,
and the reader's bounds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.compress import Coding
from nvcodec.compress.quantize import QTensor
from nvcodec.entropy.context import all_taps, context_bits, decode_context, encode_context, predict, row_taps
from nvcodec.fit.context import GridContext, grid_taps
from nvcodec.format import read_qtensor, write_qtensor
from nvcodec.format.tensors import pack_context_net, read_context_net


def _grid(seed: int, shape: tuple[int, ...] = (3, 12, 5, 7), spread: float = 3.0) -> np.ndarray:
    """Integer grid values that drift slowly over time (what a context model can exploit)."""
    rng = np.random.default_rng(seed)
    return np.cumsum(np.round(rng.laplace(0, spread, shape)), axis=1).astype(np.int64)


def _trained_net(volume: np.ndarray, steps: int = 150) -> GridContext:
    torch.manual_seed(0)
    net = GridContext()
    log_mult = torch.zeros(volume.shape[0], requires_grad=True)
    opt = torch.optim.Adam([*net.parameters(), log_mult], lr=1e-2)
    v = torch.from_numpy(volume).float()
    for _ in range(steps):
        loss = net.bits(v, log_mult)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def test_taps_read_only_earlier_rows_and_agree_row_by_row_and_all_at_once() -> None:
    volume = _grid(0)
    taps = all_taps(volume)
    for t in range(volume.shape[1]):
        for y in range(volume.shape[2]):
            np.testing.assert_array_equal(taps[:, t, y], row_taps(volume, t, y))
            later = volume.copy()
            later[:, t, y:] = 99  # this row and everything after it: the prediction must not see them
            later[:, t + 1 :] = 99
            np.testing.assert_array_equal(row_taps(later, t, y), taps[:, t, y])
    torch.testing.assert_close(grid_taps(torch.from_numpy(volume).double()).long(), torch.from_numpy(taps))


@pytest.mark.parametrize("shape", [(3, 12, 5, 7), (1, 1, 1, 1), (2, 30, 1, 16)])
def test_a_grid_round_trips_exactly_and_costs_what_the_fit_estimates(shape: tuple[int, ...]) -> None:
    volume = _grid(1, shape)
    net = _trained_net(volume)
    fixed = net.export()
    multipliers = np.array([1.0, 0.75, 2.0][: shape[0]], np.float32)
    data = encode_context(volume, fixed, multipliers)
    r = ByteReader(data)
    np.testing.assert_array_equal(decode_context(r, shape, fixed, multipliers), volume)
    assert r.remaining == 0
    ideal = context_bits(volume, fixed, multipliers)
    assert 8 * len(data) <= ideal + 0.02 * ideal + 96
    fit = float(net.bits(torch.from_numpy(volume).float(), torch.log(torch.from_numpy(multipliers))).detach())
    assert fit == pytest.approx(ideal, rel=0.02, abs=2.0)


def test_the_trained_context_model_beats_a_laplace_per_channel_on_drifting_grids() -> None:
    volume = _grid(2, (2, 40, 4, 6), spread=2.0)
    fixed = _trained_net(volume, steps=300).export()
    bits = context_bits(volume, fixed, np.ones(2, np.float32))
    scales = np.maximum(np.abs(volume).reshape(2, -1).mean(axis=1), 0.05)
    d = np.abs(volume.reshape(2, -1))
    b = scales[:, None]
    p = np.where(d < 0.5, 1 - np.exp(-0.5 / b), 0.5 * np.exp(-(d - 0.5) / b) * (1 - np.exp(-1 / b)))
    assert bits < 0.8 * float(-np.log2(p).sum())


def test_integer_predictions_are_reproducible_and_means_are_exact_binary_fractions() -> None:
    volume = _grid(3)
    fixed = _trained_net(volume, steps=20).export()
    m1, s1 = predict(fixed, all_taps(volume), np.ones(3))
    m2, s2 = predict(fixed, all_taps(volume.copy()), np.ones(3))
    assert np.array_equal(m1, m2) and np.array_equal(s1, s2)
    assert np.array_equal(m1 * 65536, np.round(m1 * 65536))


def test_the_context_model_payload_round_trips_and_is_bounded() -> None:
    fixed = GridContext().export()
    back = read_context_net(pack_context_net(fixed))
    np.testing.assert_array_equal(back.values(), fixed.values())
    with pytest.raises(ReadError, match="width"):
        read_context_net(b"\x00")
    with pytest.raises(ReadError):
        read_context_net(pack_context_net(fixed)[:-1])
    with pytest.raises(ReadError):
        read_context_net(pack_context_net(fixed) + b"\x00")


def test_a_context_coded_record_needs_the_context_model_and_a_grid_shape() -> None:
    volume = _grid(4, (2, 6, 3, 4))
    fixed = GridContext().export()
    steps = np.full(2, 0.5, np.float32)
    q = QTensor(volume, steps, 0, 0, np.ones(2, np.float32), fixed, Coding.CONTEXT)
    w = ByteWriter()
    write_qtensor(w, q)
    back = read_qtensor(ByteReader(w.getvalue()), volume.shape, fixed)
    np.testing.assert_array_equal(back.symbols, volume)
    np.testing.assert_array_equal(back.dequantize(), q.dequantize())
    with pytest.raises(ReadError, match="context model"):
        read_qtensor(ByteReader(w.getvalue()), volume.shape)
    with pytest.raises(ReadError, match="grid"):
        read_qtensor(ByteReader(w.getvalue()), (2, 6, 12), fixed)
