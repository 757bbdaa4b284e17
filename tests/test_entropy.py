"""Entropy coding: exact round trips for every kind of input, and a size close to the entropy."""

from __future__ import annotations

import numpy as np
import pytest

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.entropy import decode_symbols, encode_symbols
from nvcodec.entropy.coder import CONST, HIST, SPIKE_GAUSS, SPIKE_LAPLACE

RNG = np.random.default_rng(1234)
CASES = {
    "random": RNG.integers(-128, 128, 5000),
    "constant": np.full(777, -3),
    "skewed": RNG.geometric(0.2, 4000) - 1,
    "empty": np.zeros(0, dtype=np.int64),
    "single": np.array([42]),
    "laplace": np.round(RNG.laplace(0, 6, 20000)).astype(np.int64),
    "pruned": np.where(RNG.random(20000) < 0.5, 0, np.round(RNG.normal(0, 20, 20000))).astype(np.int64),
    "two-values": RNG.choice([-1000, 1000], 300),
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_exact(name: str) -> None:
    x = CASES[name]
    data = encode_symbols(x)
    r = ByteReader(data)
    y = decode_symbols(r, x.size)
    assert r.remaining == 0
    np.testing.assert_array_equal(x, y)


def test_constant_and_empty_cost_almost_nothing() -> None:
    assert len(encode_symbols(CASES["constant"])) <= 3
    assert len(encode_symbols(CASES["empty"])) <= 3
    assert encode_symbols(CASES["constant"])[0] == CONST


def test_zeros_from_pruning_are_cheap() -> None:
    dense = np.round(RNG.normal(0, 20, 20000)).astype(np.int64)
    pruned = dense.copy()
    pruned[RNG.random(20000) < 0.5] = 0
    assert len(encode_symbols(pruned)) < 0.65 * len(encode_symbols(dense))


def test_picks_a_parametric_model_for_smooth_data_and_histogram_for_skewed() -> None:
    assert encode_symbols(CASES["laplace"])[0] in (SPIKE_LAPLACE, SPIKE_GAUSS)
    assert encode_symbols(CASES["skewed"])[0] in (HIST, SPIKE_LAPLACE)


def test_size_near_entropy() -> None:
    x = CASES["laplace"]
    p = np.bincount(x - x.min()) / x.size
    entropy_bits = -(p[p > 0] * np.log2(p[p > 0])).sum() * x.size
    size_bits = 8 * len(encode_symbols(x))
    assert entropy_bits <= size_bits <= 1.02 * entropy_bits + 600


def test_truncated_payload_is_an_error() -> None:
    data = encode_symbols(CASES["random"])
    with pytest.raises(ReadError):
        decode_symbols(ByteReader(data[:-7]), CASES["random"].size)


def test_varints_round_trip() -> None:
    w = ByteWriter()
    values = [0, 1, 127, 128, 2**40, -1, -(2**33)]
    for v in values:
        w.svarint(v)
    r = ByteReader(w.getvalue())
    assert [r.svarint() for _ in values] == values
    with pytest.raises(ReadError):
        r.u8()
