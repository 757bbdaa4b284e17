"""What every video entry of a ``.nrv`` file starts with: the video header (``VHDR``) and the
model header (``MODL``: model id and config record), the grouping of sections by entry, and the
layout checksum that ties coded tensors to the network that reads them (see ``docs/format.md``).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.container import Section, decode_record, encode_record
from nvcodec.errors import CorruptFileError
from nvcodec.models import RETIRED, ModelSpec, config_fields_of, spec_by_id

MAX_FRAMES = 1 << 20
MAX_SIDE = 1 << 15
MAX_VALUES = 1 << 28
VALUES_PER_BYTE = 4096
"""Most transmitted values one byte of coded payload may stand for (real files: about 1)."""
PIXELS_PER_BYTE = 80_000
"""Most output pixels one byte of file may stand for (0.0001 bpp; real files: 0.005 and up)."""


@dataclass(frozen=True)
class VideoMeta:
    """The video an entry reconstructs: frame count, size (unpadded) and frame rate."""

    frames: int
    width: int
    height: int
    fps: Fraction


def layout_crc(shapes: dict[str, tuple[int, ...]]) -> int:
    """CRC32 of tensor names and shapes, in order (``name:(d0, d1, ...)`` joined by ``;``)."""
    text = ";".join(f"{name}:{tuple(shape)}" for name, shape in shapes.items())
    return zlib.crc32(text.encode("ascii"))


def pack_meta(meta: VideoMeta) -> bytes:
    """The ``VHDR`` payload of a video."""
    w = ByteWriter()
    for v in (meta.frames, meta.width, meta.height, meta.fps.numerator, meta.fps.denominator):
        w.u32(v)
    return w.getvalue()


def pack_model(spec: ModelSpec, config: Any) -> bytes:
    """The ``MODL`` payload: model id and config record."""
    w = ByteWriter()
    w.u16(spec.model_id)
    w.raw(encode_record(config_fields_of(config)))
    return w.getvalue()


def read_meta(payload: bytes) -> VideoMeta:
    """Parse a ``VHDR`` payload (raises :class:`ReadError` on implausible values)."""
    r = ByteReader(payload)
    frames, width, height, num, den = (r.u32() for _ in range(5))
    r.expect_end()
    if not (0 < frames <= MAX_FRAMES and 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and num > 0 and den > 0):
        raise ReadError(f"implausible video header ({frames} frames, {width}x{height}, {num}/{den} fps)")
    return VideoMeta(frames, width, height, Fraction(num, den))


def check_justified(meta: VideoMeta, file_bytes: int) -> None:
    """Refuse a video header that claims more pixels than ``file_bytes`` can justify, so that a tiny
    file cannot make the decoder allocate or run for long (see ``PIXELS_PER_BYTE``)."""
    pixels = meta.frames * meta.width * meta.height
    if pixels > PIXELS_PER_BYTE * file_bytes:
        raise ReadError(
            f"{meta.frames} frames of {meta.width}x{meta.height} from {file_bytes} bytes (below 0.0001 bpp)"
        )


def _dry_run(model: Any, config: Any) -> None:
    """Run the decoder on PyTorch's ``meta`` device (shapes only, no memory) and check it makes
    frames of the config's size: a config whose layers do not fit together is refused here."""
    index = torch.zeros(1, dtype=torch.long, device="meta")
    embeddings = {k: torch.empty((1, *s[1:]), device="meta") for k, s in model.embedding_shapes().items()}
    try:
        out = model.decode(index, embeddings)
    except Exception as exc:  # any layer that refuses the shapes
        raise ReadError(f"the network of this config does not run ({type(exc).__name__})") from None
    if tuple(out.shape) != (1, 3, config.height, config.width):
        raise ReadError(f"the network makes frames of {tuple(out.shape[2:])}, not {config.height}x{config.width}")


def model_spec_of(payload: bytes) -> ModelSpec | None:
    """The spec named by a ``MODL`` payload's model id, or None if the id is unknown or missing."""
    if len(payload) < 2:
        return None
    try:
        return spec_by_id(int.from_bytes(payload[:2], "little"))
    except KeyError:
        return None


def read_model(payload: bytes, meta: VideoMeta, coded_bytes: int) -> tuple[ModelSpec, Any, Any]:
    """Parse a ``MODL`` payload: the model's spec, its config, and its skeleton on ``meta``.

    The config is range-checked field by field, must describe frames of the header's size (padded
    by less than two of its grid cells), a network no larger than ``coded_bytes`` of payload can
    justify (``VALUES_PER_BYTE``), and, for one-video models, a decoder that runs (:func:`_dry_run`).
    """
    r = ByteReader(payload)
    model_id = r.u16()
    try:
        spec = spec_by_id(model_id)
    except KeyError:
        if model_id in RETIRED:
            raise ReadError(f"model id {model_id} is retired ({RETIRED[model_id]})") from None
        raise ReadError(f"unknown model id {model_id}") from None
    try:
        config = spec.config_from_fields(decode_record(r))
    except (TypeError, ValueError) as exc:
        raise ReadError(f"bad {spec.name} config: {exc}") from None
    r.expect_end()
    slack = 2 * math.prod(config.strides) + 1
    if (
        config.frames != meta.frames
        or not meta.height <= config.height <= meta.height + slack
        or not meta.width <= config.width <= meta.width + slack
    ):
        raise ReadError("model config does not match the video header")
    try:
        model = spec.skeleton(config)
        count = model.transmitted_count()
    except Exception as exc:  # a config the model cannot be built from
        raise ReadError(f"cannot build {spec.name} from its config: {exc}") from None
    if count > MAX_VALUES or count > VALUES_PER_BYTE * coded_bytes:
        raise ReadError(f"a model of {count} values cannot be coded in {coded_bytes} bytes")
    if not spec.progressive:
        _dry_run(model, config)
    return spec, config, model


def group_by_entry(sections: list[Section], name: str) -> dict[int, dict[bytes, bytes]]:
    """Section payloads by entry and tag; a repeated tag within an entry, or no entry, is corrupt."""
    by_entry: dict[int, dict[bytes, bytes]] = {}
    for s in sections:
        slot = by_entry.setdefault(s.video, {})
        if s.tag in slot:
            raise CorruptFileError(name, f"video {s.video}: duplicate {s.tag.decode(errors='replace')} section")
        slot[s.tag] = s.payload
    if not by_entry:
        raise CorruptFileError(name, "no video in the file")
    return by_entry
