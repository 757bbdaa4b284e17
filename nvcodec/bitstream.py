"""Map one encoded video (metadata, model config, quantized tensors) to ``.nrv`` sections and back.

Sections of a video entry, in order (payloads; see ``docs/format.md``):

* ``VHDR``: u32 frames, u32 width, u32 height, u32 fps numerator, u32 fps denominator.
* ``MODL``: u16 model id, then the model's config as a typed record.
* ``PARM``: u32 CRC32 of the parameter layout (names and shapes), uvarint count, then each
  transmitted parameter as a quantized tensor record, in the model's parameter order.
* ``EMBD``: uvarint count, then each per-frame side tensor as a quantized tensor record.

Shapes are never stored: the reader rebuilds the network on PyTorch's ``meta`` device from the
config (allocating nothing) and takes the shapes from it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.compress import QTensor, read_qtensor, write_qtensor
from nvcodec.container import Section, decode_record, encode_record
from nvcodec.errors import CorruptFileError
from nvcodec.models import get, get_by_id
from nvcodec.models.registry import config_fields_of, config_from_fields

MAX_FRAMES = 1 << 20
MAX_SIDE = 1 << 15
MAX_VALUES = 1 << 28


@dataclass(frozen=True)
class VideoMeta:
    """The video an entry reconstructs: frame count, size (unpadded) and frame rate."""

    frames: int
    width: int
    height: int
    fps: Fraction


@dataclass
class Entry:
    """One coded video: its metadata, model name and config, and quantized tensors."""

    meta: VideoMeta
    model: str
    config: Any
    params: dict[str, QTensor]
    side: dict[str, QTensor]


def skeleton(name: str, config: Any) -> torch.nn.Module:
    """The model on the ``meta`` device: names and shapes only, no memory."""
    with torch.device("meta"):
        return get(name).model_cls(config)


def layout_crc(model: torch.nn.Module) -> int:
    """CRC32 of the transmitted parameters' names and shapes, in order."""
    text = ";".join(f"{n}:{tuple(p.shape)}" for n, p in model.transmitted_parameters().items())
    return zlib.crc32(text.encode("ascii"))


def pack_entry(e: Entry, entry: int = 0) -> list[Section]:
    """The sections of one video entry."""
    sections = [Section(b"VHDR", entry, pack_meta(e.meta)), Section(b"MODL", entry, pack_model(e.model, e.config))]
    w = ByteWriter()
    w.u32(layout_crc(skeleton(e.model, e.config)))
    w.uvarint(len(e.params))
    for q in e.params.values():
        write_qtensor(w, q)
    sections.append(Section(b"PARM", entry, w.getvalue()))
    w = ByteWriter()
    w.uvarint(len(e.side))
    for q in e.side.values():
        write_qtensor(w, q)
    sections.append(Section(b"EMBD", entry, w.getvalue()))
    return sections


def pack_meta(meta: VideoMeta) -> bytes:
    """The ``VHDR`` payload of a video."""
    w = ByteWriter()
    for v in (meta.frames, meta.width, meta.height, meta.fps.numerator, meta.fps.denominator):
        w.u32(v)
    return w.getvalue()


def pack_model(name: str, config: Any) -> bytes:
    """The ``MODL`` payload: model id and config record."""
    w = ByteWriter()
    w.u16(get(name).model_id)
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


def read_model(payload: bytes, meta: VideoMeta) -> tuple[str, Any, torch.nn.Module]:
    """Parse a ``MODL`` payload: model name, config, and the model's skeleton on ``meta``."""
    r = ByteReader(payload)
    model_id = r.u16()
    try:
        spec = get_by_id(model_id)
    except KeyError:
        raise ReadError(f"unknown model id {model_id}") from None
    try:
        config = config_from_fields(spec, decode_record(r))
    except (TypeError, ValueError) as exc:
        raise ReadError(f"bad {spec.name} config: {exc}") from None
    r.expect_end()
    if config.frames != meta.frames or config.height < meta.height or config.width < meta.width:
        raise ReadError("model config does not match the video header")
    try:
        model = skeleton(spec.name, config)
    except Exception as exc:  # a config the model cannot be built from
        raise ReadError(f"cannot build {spec.name} from its config: {exc}") from None
    if model.transmitted_count() > MAX_VALUES:
        raise ReadError("model too large")
    return spec.name, config, model


def _read_tensors(r: ByteReader, shapes: dict[str, tuple[int, ...]]) -> dict[str, QTensor]:
    if r.uvarint(len(shapes)) != len(shapes):
        raise ReadError("tensor count does not match the model")
    out = {}
    for name, shape in shapes.items():
        out[name] = read_qtensor(r, shape)
    r.expect_end()
    return out


def group_by_entry(sections: list[Section], name: str) -> dict[int, dict[bytes, bytes]]:
    """Section payloads by entry and tag; a repeated tag within an entry, or no entry, is corrupt."""
    by_entry: dict[int, dict[bytes, bytes]] = {}
    for s in sections:
        slot = by_entry.setdefault(s.entry, {})
        if s.tag in slot:
            raise CorruptFileError(name, f"video {s.entry}: duplicate {s.tag.decode(errors='replace')} section")
        slot[s.tag] = s.payload
    if not by_entry:
        raise CorruptFileError(name, "no video in the file")
    return by_entry


def unpack_entries(sections: list[Section], name: str) -> list[Entry]:
    """Every video entry of a parsed file, fully decoded to quantized tensors."""
    by_entry = group_by_entry(sections, name)
    entries = []
    for idx in sorted(by_entry):
        tags = by_entry[idx]
        missing = [t.decode() for t in (b"VHDR", b"MODL", b"PARM", b"EMBD") if t not in tags]
        if missing:
            raise CorruptFileError(name, f"video {idx} lacks sections {', '.join(missing)}")
        try:
            meta = read_meta(tags[b"VHDR"])
            model_name, config, model = read_model(tags[b"MODL"], meta)
            r = ByteReader(tags[b"PARM"])
            if r.u32() != layout_crc(model):
                raise ReadError("parameter layout does not match this decoder's model")
            params = _read_tensors(r, {n: tuple(p.shape) for n, p in model.transmitted_parameters().items()})
            side = _read_tensors(ByteReader(tags[b"EMBD"]), model.embedding_shapes())
        except ReadError as exc:
            raise CorruptFileError(name, f"video {idx}: {exc}") from None
        entries.append(Entry(meta, model_name, config, params, side))
    return entries
