"""Segments: a long video coded as consecutive groups of frames, each an entry of one ``.nrv`` file
with its own network (format 4.1; see ``docs/format.md``).

Entry k of a segmented file is an ordinary video entry (its ``VHDR`` holds the segment's frame
count) plus a ``SEGM`` section right after its ``VHDR``, payload:

* u32 the segment's first frame in the video;
* u32 the number of segments in the file.

Either every entry has a ``SEGM`` or none does; segment k starts where segment k - 1 ends, and all
share one frame size and rate. Segments are independent: a reader renders frames ``a:b`` from the
entries that hold them alone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from nvcodec.bitio import ReadError
from nvcodec.container import Section
from nvcodec.errors import CorruptFileError
from nvcodec.format.header import VideoMeta, read_meta

SEGMENT_TAG = b"SEGM"
MAX_SEGMENTS = 1 << 15


@dataclass(frozen=True)
class Segment:
    """One segment of a video: its entry index, first frame in the video, and frame count."""

    index: int
    first: int
    frames: int

    @property
    def end(self) -> int:
        """One past the segment's last frame in the video."""
        return self.first + self.frames


def join_segments(entries: list[list[Section]], firsts: list[int]) -> list[Section]:
    """The sections of a segmented file from each segment's entry sections (entry 0 of its own
    file) and first frames: entry k renumbered k, its ``SEGM`` after its ``VHDR``."""
    if len(entries) != len(firsts) or not 0 < len(entries) <= MAX_SEGMENTS:
        raise ValueError("one first frame per segment, 1 .. MAX_SEGMENTS segments")
    out = []
    for k, (sections, first) in enumerate(zip(entries, firsts, strict=True)):
        for s in sections:
            out.append(Section(s.tag, k, s.payload, s.flags))
            if s.tag == b"VHDR":
                out.append(Section(SEGMENT_TAG, k, struct.pack("<II", first, len(entries))))
    return out


def read_segments(heads: list[Section], name: str) -> tuple[VideoMeta, list[Segment]] | None:
    """The whole video's metadata and its segments from the ``VHDR`` and ``SEGM`` sections of a
    file (None when the file is not segmented); any inconsistency is a :class:`CorruptFileError`."""
    metas = {s.video: s.payload for s in heads if s.tag == b"VHDR"}
    marks = {s.video: s.payload for s in heads if s.tag == SEGMENT_TAG}
    if not marks:
        return None
    if set(marks) != set(metas) or sorted(metas) != list(range(len(metas))):
        raise CorruptFileError(name, "a segment lacks its SEGM or VHDR section")
    segments, first = [], 0
    try:
        parsed = [read_meta(metas[k]) for k in range(len(metas))]
    except ReadError as exc:
        raise CorruptFileError(name, str(exc)) from None
    for k, meta in enumerate(parsed):
        if len(marks[k]) != 8:
            raise CorruptFileError(name, f"segment {k}: SEGM section of {len(marks[k])} bytes (8 expected)")
        start, count = struct.unpack("<II", marks[k])
        if start != first or count != len(parsed):
            raise CorruptFileError(name, f"segment {k}: starts at frame {start} of {count} segments, not {first}")
        if (meta.width, meta.height, meta.fps) != (parsed[0].width, parsed[0].height, parsed[0].fps):
            raise CorruptFileError(name, f"segment {k}: frame size or rate differs from segment 0's")
        segments.append(Segment(k, first, meta.frames))
        first += meta.frames
    whole = VideoMeta(first, parsed[0].width, parsed[0].height, parsed[0].fps)
    return whole, segments


def segments_for(segments: list[Segment], first: int, end: int) -> list[Segment]:
    """The segments holding frames ``first .. end - 1``."""
    return [s for s in segments if s.first < end and s.end > first]
