"""Binary masks coded conditionally on which positions earlier masks already used.

A mask is coded as two bit streams, each with the entropy coder's cheapest model (a constant or a
two-symbol histogram, i.e. an adaptive Bernoulli per context): first the mask bits at positions
``used`` marks, then those at the other positions, both in raster order. When a new mask mostly
reuses or mostly avoids earlier positions, each stream costs far less than one bit per position.
"""

from __future__ import annotations

import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.entropy import decode_symbols, encode_symbols


def write_mask(w: ByteWriter, mask: np.ndarray, used: np.ndarray) -> None:
    """Append boolean ``mask`` coded in the two contexts of boolean ``used`` (same shape)."""
    if mask.shape != used.shape:
        raise ValueError("mask and used positions differ in shape")
    w.raw(encode_symbols(mask[used].astype(np.int64)))
    w.raw(encode_symbols(mask[~used].astype(np.int64)))


def read_mask(r: ByteReader, used: np.ndarray) -> np.ndarray:
    """Read a mask of ``used``'s shape written by :func:`write_mask`."""
    mask = np.zeros(used.shape, dtype=bool)
    for where in (used, ~used):
        bits = decode_symbols(r, int(where.sum()))
        if bits.size and (bits.min() < 0 or bits.max() > 1):
            raise ReadError("mask symbol other than 0 or 1")
        mask[where] = bits.astype(bool)
    return mask
