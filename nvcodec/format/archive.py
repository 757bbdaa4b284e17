"""Progressive archives (PFNR): videos appended one by one to one ``.nrv`` file, earlier bytes kept.

Video ``s`` is entry ``s`` of the container (see ``docs/format.md``):

* entry 0: ``VHDR``, ``MODL`` (model id 8 and the network config, fixed for the archive), ``SESS``;
* entry s > 0: ``VHDR``, ``SESS``.

``SESS`` payload: u32 CRC32 of the masked tensors' names and shapes and the head's shape; u16 the
video's index; then for each masked tensor in the model's order, the video's mask coded against
the positions earlier videos used (:mod:`nvcodec.format.masks`), followed, if the mask claims
positions no earlier video used, by the quantized values of exactly those positions in raster order
(a 1-D tensor record); then the video's head (3 x C tensor record).

Decoding video ``s`` replays sessions 0..s: every weight's value comes from the session that first
claimed it, so appending never changes what an earlier video decodes to. Weights no video claimed
are not stored; an encoder resuming the archive regenerates them from the config's seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
from nvcodec.compress import QTensor
from nvcodec.container import Section, packed_size
from nvcodec.errors import CorruptFileError
from nvcodec.format.header import (
    VideoMeta,
    check_justified,
    group_by_entry,
    layout_crc,
    model_spec_of,
    pack_meta,
    pack_model,
    read_meta,
    read_model,
)
from nvcodec.format.masks import read_mask, write_mask
from nvcodec.format.tensors import read_qtensor, write_qtensor
from nvcodec.models import ModelSpec, ProgressiveModel

ARCHIVE_SECTIONS = (b"VHDR", b"SESS")


@dataclass
class Session:
    """One video of an archive: its metadata, masks, newly claimed values and head."""

    meta: VideoMeta
    masks: dict[str, np.ndarray]
    values: dict[str, QTensor]
    head: QTensor


@dataclass
class Archive:
    """A progressive archive: the model (spec and config, fixed for the archive) and its videos in order."""

    spec: ModelSpec
    config: Any
    sessions: list[Session]

    def skeleton(self) -> ProgressiveModel:
        """The archive's network on the ``meta`` device (names, shapes, selection counts)."""
        return self.spec.skeleton(self.config)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the masked tensors, in file order."""
        return self.skeleton().masked_shapes()

    def replay(self, upto: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Weights (zero where unclaimed) and the union of masks after videos ``0..upto``."""
        shapes = self.shapes()
        weights = {n: np.zeros(s, np.float32) for n, s in shapes.items()}
        used = {n: np.zeros(s, bool) for n, s in shapes.items()}
        for session in self.sessions[: upto + 1]:
            for n, mask in session.masks.items():
                new = mask & ~used[n]
                if n in session.values:
                    weights[n][new] = session.values[n].dequantize()
                used[n] |= mask
        return weights, used

    def mask_bytes(self, index: int) -> int:
        """Bytes the coded masks of video ``index`` take in its ``SESS`` section."""
        _, used = self.replay(index - 1)
        w = ByteWriter()
        for n, mask in self.sessions[index].masks.items():
            write_mask(w, mask, used[n])
        return len(w.getvalue())


def is_archive(sections: list[Section]) -> bool:
    """Whether a parsed file is a progressive archive (its first model is a progressive one)."""
    for s in sections:
        if s.tag == b"MODL" and s.video == 0:
            spec = model_spec_of(s.payload)
            return spec is not None and spec.progressive
    return False


def session_layout(shapes: dict[str, tuple[int, ...]], head: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """The tensors a ``SESS`` section's layout checksum covers: the masked tensors, then the head."""
    return {**shapes, "head": tuple(head)}


def pack_session(archive: Archive, index: int) -> list[Section]:
    """The sections of video ``index`` (entry 0 also carries the archive's ``MODL``)."""
    session = archive.sessions[index]
    _, used = archive.replay(index - 1)
    w = ByteWriter()
    shapes = archive.shapes()
    w.u32(layout_crc(session_layout(shapes, session.head.symbols.shape)))
    w.u16(index)
    for n in shapes:
        write_mask(w, session.masks[n], used[n])
        if (session.masks[n] & ~used[n]).any():
            write_qtensor(w, session.values[n])
    write_qtensor(w, session.head)
    sections = [Section(b"VHDR", index, pack_meta(session.meta))]
    if index == 0:
        sections.append(Section(b"MODL", 0, pack_model(archive.spec, archive.config)))
    return sections + [Section(b"SESS", index, w.getvalue())]


def pack_archive(archive: Archive) -> list[Section]:
    """Every section of the archive, video by video."""
    return [s for i in range(len(archive.sessions)) for s in pack_session(archive, i)]


def _group(sections: list[Section], name: str) -> list[dict[bytes, bytes]]:
    groups = group_by_entry(sections, name)
    if sorted(groups) != list(range(len(groups))):
        raise CorruptFileError(name, "videos are not numbered 0, 1, 2, ...")
    for i, tags in groups.items():
        want = {*ARCHIVE_SECTIONS, b"MODL"} if i == 0 else set(ARCHIVE_SECTIONS)
        if set(tags) != want:
            raise CorruptFileError(name, f"video {i}: sections {sorted(t.decode(errors='replace') for t in tags)}")
    return [groups[i] for i in range(len(groups))]


def _read_session(
    payload: bytes, index: int, meta: VideoMeta, model: ProgressiveModel, used: dict[str, np.ndarray]
) -> Session:
    shapes, head_shape = model.masked_shapes(), tuple(model.head.shape)
    r = ByteReader(payload)
    if r.u32() != layout_crc(session_layout(shapes, head_shape)):
        raise ReadError("tensor layout does not match this decoder's model")
    if r.u16() != index:
        raise ReadError("session number does not match its entry")
    masks, values = {}, {}
    for n, shape in shapes.items():
        masks[n] = read_mask(r, used[n])
        if int(masks[n].sum()) != model.kept(int(np.prod(shape))):
            raise ReadError(f"mask of {n} selects the wrong number of weights")
        count = int((masks[n] & ~used[n]).sum())
        if count:
            values[n] = read_qtensor(r, (count,))
    head = read_qtensor(r, head_shape)
    r.expect_end()
    return Session(meta, masks, values, head)


def unpack_archive(sections: list[Section], name: str) -> Archive:
    """Parse and check every video of a progressive archive."""
    groups = _group(sections, name)
    file_bytes = packed_size(sections)
    try:
        first = read_meta(groups[0][b"VHDR"])
        spec, config, model = read_model(groups[0][b"MODL"], first, file_bytes)
    except ReadError as exc:
        raise CorruptFileError(name, f"video 0: {exc}") from None
    if not spec.progressive:
        raise CorruptFileError(name, f"video 0: {spec.name} does not make progressive archives")
    if len(groups) > config.max_videos:
        raise CorruptFileError(name, f"{len(groups)} videos, more than the archive's limit {config.max_videos}")
    archive = Archive(spec, config, [])
    used = {n: np.zeros(s, bool) for n, s in model.masked_shapes().items()}
    for i, tags in enumerate(groups):
        try:
            meta = read_meta(tags[b"VHDR"])
            check_justified(meta, file_bytes)
            if (meta.width, meta.height) != (first.width, first.height):
                raise ReadError("frame size differs from the archive's")
            session = _read_session(tags[b"SESS"], i, meta, model, used)
        except ReadError as exc:
            raise CorruptFileError(name, f"video {i}: {exc}") from None
        for n, m in session.masks.items():
            used[n] |= m
        archive.sessions.append(session)
    return archive
