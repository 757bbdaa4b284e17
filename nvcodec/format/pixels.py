"""The pixel-format section (``PIXF``, format 5.0): the source's planar YUV format, and whether
the network was fitted to those planes natively (its three outputs are Y, U and V, chroma averaged
to the format's subsampling, at the format's bit depth) or to 8-bit RGB. Two bytes: the source
format's id (:data:`PIX_FMT_IDS`; 0: not planar YUV, or unknown) and the coding (0: RGB, 1: the
source's planes). A file without the section is RGB-coded from an unknown source (format 4.x).
"""

from __future__ import annotations

from dataclasses import dataclass

from nvcodec.bitio import ByteReader, ByteWriter, ReadError

TAG = b"PIXF"
PIX_FMT_IDS = {1: "yuv420p", 2: "yuv420p10le", 3: "yuv444p"}
"""Source formats a file can name, by id (never reused)."""


@dataclass(frozen=True)
class Pixels:
    """An entry's pixels: ``source``, the pixel format of the video it was fitted to (None: not
    one of :data:`PIX_FMT_IDS`), and ``native``: whether the network outputs that format's planes
    (True) or RGB (False)."""

    source: str | None
    native: bool = False

    def __post_init__(self) -> None:
        """Refuse (:class:`ValueError`) native coding without a known planar source."""
        if self.native and self.source not in PIX_FMT_IDS.values():
            raise ValueError(f"native coding needs a planar YUV source ({', '.join(PIX_FMT_IDS.values())})")


def pack_pixels(pixels: Pixels) -> bytes:
    """The ``PIXF`` payload."""
    ids = {name: i for i, name in PIX_FMT_IDS.items()}
    w = ByteWriter()
    w.u8(ids.get(pixels.source or "", 0))
    w.u8(int(pixels.native))
    return w.getvalue()


def read_pixels(payload: bytes) -> Pixels:
    """Parse a ``PIXF`` payload (:class:`ReadError` for an unknown id or coding)."""
    r = ByteReader(payload)
    source, coding = r.u8(), r.u8()
    r.expect_end()
    if source and source not in PIX_FMT_IDS:
        raise ReadError(f"unknown source pixel format id {source}")
    if coding > 1 or (coding and not source):
        raise ReadError(f"pixel coding {coding} is not one this reader knows for source id {source}")
    return Pixels(PIX_FMT_IDS.get(source), bool(coding))
