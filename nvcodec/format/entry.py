"""One coded video (metadata, model spec and config, quantized tensors) as ``.nrv`` sections, and back.

Sections of a video entry, in order (payloads; see ``docs/format.md``):

* ``VHDR``: u32 frames, u32 width, u32 height, u32 fps numerator, u32 fps denominator.
* ``MODL``: u16 model id, then the model's config as a typed record.
* ``PARM``: u32 CRC32 of the parameter layout (names and shapes), uvarint count, then each
  transmitted parameter as a quantized tensor record, in the model's parameter order.
* ``EMBD``: uvarint count, then each per-frame embedding as a quantized tensor record.
* ``GCTX`` (only when a parameter is a context-coded grid, before ``PARM``): the grid context
  model's fixed-point weights.
* ``PROV`` (format 4.2, optional, right after ``MODL``): how the entry was made
  (:mod:`nvcodec.format.provenance`); the decoder does without it.
* ``PIXF`` (format 5.0, optional, right after ``VHDR``): the source's pixel format and whether the
  network codes its planes (:mod:`nvcodec.format.pixels`); absent: RGB.

Shapes are never stored: the reader rebuilds the network on PyTorch's ``meta`` device from the
config (allocating nothing) and takes the shapes from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.compress import Coding, QTensor
from nvcodec.container import Section, packed_size
from nvcodec.errors import CorruptFileError
from nvcodec.format.header import (
    VideoMeta,
    check_justified,
    group_by_entry,
    layout_crc,
    pack_meta,
    pack_model,
    read_meta,
    read_model,
)
from nvcodec.format.pixels import TAG as PIXELS_TAG
from nvcodec.format.pixels import Pixels, pack_pixels, read_pixels
from nvcodec.format.provenance import TAG as PROVENANCE_TAG
from nvcodec.format.provenance import pack_provenance, read_provenance
from nvcodec.format.tensors import pack_context_net, read_context_net, read_qtensor, write_qtensor
from nvcodec.models import ModelSpec

ENTRY_SECTIONS = (b"VHDR", b"MODL", b"PARM", b"EMBD")


@dataclass
class Entry:
    """One coded video: its metadata, model spec and config, quantized parameters and embeddings,
    how it was made (``provenance``: the ``PROV`` fields; None in files without one) and its
    pixels (``pixels``: the ``PIXF`` section; None: RGB from an unknown source)."""

    meta: VideoMeta
    spec: ModelSpec
    config: Any
    params: dict[str, QTensor]
    embeddings: dict[str, QTensor]
    provenance: dict[str, Any] | None = None
    pixels: Pixels | None = None


def _tensors(tensors: dict[str, QTensor]) -> ByteWriter:
    w = ByteWriter()
    w.uvarint(len(tensors))
    for q in tensors.values():
        write_qtensor(w, q)
    return w


def pack_entry(e: Entry, index: int = 0) -> list[Section]:
    """The sections of one video entry, as entry ``index`` of the file."""
    w = ByteWriter()
    w.u32(layout_crc(e.spec.parameter_shapes(e.config)))
    w.raw(_tensors(e.params).getvalue())
    nets = {id(q.context): q.context for q in e.params.values() if q.kind is Coding.CONTEXT}
    if len(nets) > 1:
        raise ValueError("the grids of one entry share one context model")
    context = [Section(b"GCTX", index, pack_context_net(n)) for n in nets.values()]
    made = [] if e.provenance is None else [Section(PROVENANCE_TAG, index, pack_provenance(e.provenance))]
    return [
        Section(b"VHDR", index, pack_meta(e.meta)),
        *([] if e.pixels is None else [Section(PIXELS_TAG, index, pack_pixels(e.pixels))]),
        Section(b"MODL", index, pack_model(e.spec, e.config)),
        *made,
        *context,
        Section(b"PARM", index, w.getvalue()),
        Section(b"EMBD", index, _tensors(e.embeddings).getvalue()),
    ]


def _read_tensors(r: ByteReader, shapes: dict[str, tuple[int, ...]], context: Any = None) -> dict[str, QTensor]:
    if r.uvarint(len(shapes)) != len(shapes):
        raise ReadError("tensor count does not match the model")
    out = {name: read_qtensor(r, shape, context) for name, shape in shapes.items()}
    r.expect_end()
    return out


def _read_entry(tags: dict[bytes, bytes], file_bytes: int) -> Entry:
    meta = read_meta(tags[b"VHDR"])
    check_justified(meta, file_bytes)
    spec, config, model = read_model(tags[b"MODL"], meta, len(tags[b"PARM"]) + len(tags[b"EMBD"]))
    r = ByteReader(tags[b"PARM"])
    shapes = spec.parameter_shapes(config)
    if r.u32() != layout_crc(shapes):
        raise ReadError("parameter layout does not match this decoder's model")
    context = read_context_net(tags[b"GCTX"]) if b"GCTX" in tags else None
    params = _read_tensors(r, shapes, context)
    embeddings = _read_tensors(ByteReader(tags[b"EMBD"]), model.embedding_shapes())
    made = read_provenance(tags[PROVENANCE_TAG]) if PROVENANCE_TAG in tags else None
    pixels = read_pixels(tags[PIXELS_TAG]) if PIXELS_TAG in tags else None
    return Entry(meta, spec, config, params, embeddings, made, pixels)


def unpack_entries(sections: list[Section], name: str) -> list[Entry]:
    """Every video entry of a parsed file, fully decoded to quantized tensors."""
    by_entry = group_by_entry(sections, name)
    file_bytes = packed_size(sections)
    entries = []
    for index in sorted(by_entry):
        tags = by_entry[index]
        missing = [t.decode() for t in ENTRY_SECTIONS if t not in tags]
        if missing:
            raise CorruptFileError(name, f"video {index} lacks sections {', '.join(missing)}")
        try:
            entries.append(_read_entry(tags, file_bytes))
        except ReadError as exc:
            raise CorruptFileError(name, f"video {index}: {exc}") from None
    return entries
