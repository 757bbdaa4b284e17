"""The byte layout of coded data: quantized tensors, masks, video entries and progressive archives
as ``.nrv`` sections, and back. The container below knows only sections; the maths that produces
the tensors (:mod:`nvcodec.compress`) knows no bytes. Documented in ``docs/format.md``.
"""

from nvcodec.format.archive import Archive, Session, is_archive, pack_archive, pack_session, unpack_archive
from nvcodec.format.entry import Entry, pack_entry, unpack_entries
from nvcodec.format.header import VideoMeta
from nvcodec.format.masks import read_mask, write_mask
from nvcodec.format.tensors import read_qtensor, write_qtensor

__all__ = [
    "Archive",
    "Entry",
    "Session",
    "VideoMeta",
    "is_archive",
    "pack_archive",
    "pack_entry",
    "pack_session",
    "read_mask",
    "read_qtensor",
    "unpack_archive",
    "unpack_entries",
    "write_mask",
    "write_qtensor",
]
