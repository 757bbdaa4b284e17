"""The one question rate control asks: how many bytes would the file be with these tensors?

The answer is never an estimate: the candidate's real sections are packed and their size taken
from the container (:func:`nvcodec.container.packed_size`), headers and framing included.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nvcodec.compress import QTensor
from nvcodec.container import FILE_FRAMING, packed_size, section_size
from nvcodec.entropy import SpanError
from nvcodec.format import Archive, Entry, Session, VideoMeta, pack_entry, pack_session
from nvcodec.format.pixels import Pixels
from nvcodec.models import ModelSpec


@dataclass(frozen=True)
class CodedSize:
    """Candidate files of one encode: the video ``meta`` coded by the model of ``spec`` with
    ``config``, each entry with the ``provenance`` fields (:mod:`nvcodec.pipeline.provenance`;
    None: no ``PROV`` section, as in archives) and ``pixels`` (the ``PIXF`` record, None: none)."""

    meta: VideoMeta
    spec: ModelSpec
    config: Any
    provenance: dict[str, Any] | None = None
    pixels: Pixels | None = None

    def entry(self, params: dict[str, QTensor], embeddings: dict[str, QTensor]) -> Entry:
        """The video entry these quantized parameters and embeddings make."""
        return Entry(self.meta, self.spec, self.config, params, embeddings, self.provenance, self.pixels)

    def entry_bytes(self, params: dict[str, QTensor], embeddings: dict[str, QTensor]) -> int:
        """Bytes of the one-video file holding this entry."""
        return packed_size(pack_entry(self.entry(params, embeddings)))

    def session(self, masks: dict[str, np.ndarray], values: dict[str, QTensor], head: QTensor) -> Session:
        """The archive video these masks, newly claimed values and head make."""
        return Session(self.meta, masks, values, head)

    def session_bytes(self, before: list[Session], session: Session) -> int:
        """Bytes ``session`` adds to an archive that holds the videos ``before`` (the whole file's
        size when it is the first video)."""
        archive = Archive(self.spec, self.config, [*before, session])
        added = sum(section_size(s) for s in pack_session(archive, len(before)))
        return added + (FILE_FRAMING if not before else 0)


def coded_or_over(size_at: Callable[[float], int]) -> Callable[[float], int]:
    """``size_at`` (bytes of the file at a step scale) giving ``sys.maxsize``, a size over any
    budget, where the steps are too fine for the coder to hold the symbols' span
    (:class:`~nvcodec.entropy.SpanError`): the step-scale search then looks coarser instead of
    failing (Bunny 160x320 at ``--time 60s``, 0.2 bpp on the network the time allows)."""

    def size_of(scale: float) -> int:
        try:
            return size_at(scale)
        except SpanError:
            return sys.maxsize

    return size_of
