"""``info``: what a ``.nrv`` file holds (format version, videos, models, sections), read without decoding frames."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nvcodec.compress import QTensor
from nvcodec.container import read_nrv, read_version, section_size
from nvcodec.format import Archive, Entry, VideoMeta, is_archive, unpack_archive, unpack_entries
from nvcodec.format.segments import SEGMENT_TAG, Segment, read_segments
from nvcodec.metrics import bpp
from nvcodec.models import config_fields_of, kmac_per_pixel
from nvcodec.motion.canvas import motion_bytes, unpack_fields
from nvcodec.pipeline.progressive import bits_of, claim_note


def _depth(tensors: Iterable[QTensor]) -> int | None:
    """The bit depth of uniform tensors (None for learned, predicted and context-coded ones, which have none)."""
    return max((q.bits for q in tensors if 2 <= q.bits <= 16), default=None)


def _pixels(entry: Entry) -> dict[str, Any]:
    """An entry's ``PIXF`` as ``info`` shows it: the source's pixel format, what the network
    outputs (``rgb``, or that format's planes) and its output stage (``frame``: frame-size
    outputs, chroma averaged; ``yuv420``: the model's own 4:2:0 stage)."""
    assert entry.pixels is not None
    stage = "yuv420" if getattr(entry.config, "yuv420", False) else "frame"
    return {
        "source": entry.pixels.source,
        "coding": entry.pixels.source if entry.pixels.native else "rgb",
        "stage": stage,
    }


def _entry_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """One row per video entry: model, metadata, transmitted values, bit depths, config."""
    return [
        {
            "model": e.spec.name,
            "meta": e.meta,
            "params": e.spec.transmitted_count(e.config),
            "weight_bits": _depth(e.params.values()),
            "embed_bits": _depth(e.embeddings.values()),
            "kmac_per_pixel": kmac_per_pixel(e.spec, e.config, e.meta.height, e.meta.width),
            **({"provenance": e.provenance} if e.provenance is not None else {}),
            **({"pixels": _pixels(e)} if e.pixels is not None else {}),
            "config": e.config,
        }
        for e in entries
    ]


def _archive_rows(archive: Archive) -> list[dict[str, Any]]:
    """One row per archive video, with its claim note, mask bytes and the network's claimed share."""
    rows = []
    for i, session in enumerate(archive.sessions):
        _, used = archive.replay(i)
        rows.append(
            {
                "model": archive.spec.name,
                "meta": session.meta,
                "params": sum(q.symbols.size for q in session.values.values()) + session.head.symbols.size,
                "weight_bits": bits_of(session),
                "embed_bits": None,
                "config": archive.config,
                "note": claim_note(archive, i),
                "mask_bytes": archive.mask_bytes(i),
                "claimed": sum(int(u.sum()) for u in used.values()) / sum(u.size for u in used.values()),
            }
        )
    return rows


MAP_TOLERANCE = 2.0**-14
"""How far two linear terms may differ (four of the file's 2^-16 steps) and still count as equal."""


def map_kind(maps: np.ndarray) -> str:
    """The fewest-parameter camera model the ``[T, 2, 3]`` maps fit: ``still`` (all the same
    map), ``translation`` (one linear part for every frame), ``rotzoom`` (each a zoom and a
    rotation) or ``affine``."""
    linear = maps[:, :, :2]
    if np.abs(maps - maps[:1]).max() <= MAP_TOLERANCE:
        return "still"
    if np.abs(linear - linear[:1]).max() <= MAP_TOLERANCE:
        return "translation"
    similar = np.maximum(np.abs(linear[:, 0, 0] - linear[:, 1, 1]), np.abs(linear[:, 0, 1] + linear[:, 1, 0]))
    return "rotzoom" if similar.max() <= MAP_TOLERANCE else "affine"


def camera_of(config: Any) -> dict[str, Any] | None:
    """A motion model's camera as ``info`` shows it: the camera model the maps fit
    (:func:`map_kind`), the canvas and its time steps (a frame index each for ``hinerv-mc``), the
    bytes of the maps in the config record (all frames and a frame), and how far the frames'
    corners move on the canvas from where the first frame's are; None for a model without motion."""
    motion = getattr(config, "motion", None)
    if motion is None:
        return None
    maps = unpack_fields(motion, config.frames)
    w, h = config.width - 1, config.height - 1
    corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]])
    seen = np.einsum("ck,tjk->tcj", corners, maps)  # frame t's corners on the canvas
    moved = float(np.linalg.norm(seen - seen[:1], axis=-1).max())
    nbytes = motion_bytes(motion)
    return {
        "model": map_kind(maps),
        "canvas_width": config.canvas_width,
        "canvas_height": config.canvas_height,
        "time_steps": getattr(config, "latent_frames", config.frames),
        "motion_bytes": nbytes,
        "motion_bytes_per_frame": nbytes / config.frames,
        "largest_move_px": moved,
    }


def _video_record(index: int, row: dict[str, Any], nbytes: int) -> dict[str, Any]:
    meta = row.pop("meta")
    camera = camera_of(row["config"])
    if camera is not None:
        row["camera"] = camera
    config = config_fields_of(row.pop("config"))
    return {
        "video": index,
        "model": row.pop("model"),
        "frames": meta.frames,
        "width": meta.width,
        "height": meta.height,
        "frame_rate": float(meta.fps),
        "frame_rate_fraction": f"{meta.fps.numerator}/{meta.fps.denominator}",
        "bytes": nbytes,
        "bpp": bpp(nbytes, meta.frames, meta.height, meta.width),
        **row,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
    }


def file_info(path: Path) -> dict[str, Any]:
    """What a ``.nrv`` file holds: format version, videos (frames, size, fps, bytes, bpp of each),
    models and section sizes. ``bpp`` of the file counts its bytes over every video's pixels; the
    file's framing (magic, version, END) is counted in video 0's bytes."""
    sections = read_nrv(Path(path))
    if is_archive(sections):
        rows = _archive_rows(unpack_archive(sections, str(path)))
    else:
        rows = _entry_rows(unpack_entries(sections, str(path)))
    size = Path(path).stat().st_size
    framing = size - sum(section_size(s) for s in sections)  # magic, version, END (any version's)
    videos = []
    for i, row in enumerate(rows):
        nbytes = sum(section_size(s) for s in sections if s.video == i) + (framing if i == 0 else 0)
        videos.append(_video_record(i, row, nbytes))
    found = read_segments([s for s in sections if s.tag in (b"VHDR", SEGMENT_TAG)], str(path))
    if found is not None:
        return _segmented_info(path, size, found[0], found[1], videos, sections)
    first = videos[0]
    pixels = sum(v["frames"] * v["width"] * v["height"] for v in videos)
    return {
        "format_version": "{}.{}".format(*read_version(Path(path))),
        "bytes": size,
        "model": first["model"],
        "videos_count": len(videos),
        "frames": sum(v["frames"] for v in videos),
        "width": first["width"],
        "height": first["height"],
        "frame_rate": first["frame_rate"],
        "bpp": 8.0 * size / pixels,
        "videos": videos,
        "sections": [
            {"tag": s.tag.decode("ascii", "replace"), "video": s.video, "bytes": section_size(s)} for s in sections
        ],
    }


def _segmented_info(
    path: Path, size: int, whole: VideoMeta, segments: list[Segment], rows: list[dict[str, Any]], sections: list
) -> dict[str, Any]:
    """``info`` of a segmented file: the one video, and one row per segment (its first frame,
    frames, bytes, bpp, model and values)."""
    for seg, row in zip(segments, rows, strict=True):
        row.pop("video")
        row.update(segment=seg.index, first_frame=seg.first)
    return {
        "format_version": "{}.{}".format(*read_version(Path(path))),
        "bytes": size,
        "model": rows[0]["model"],
        "videos_count": 1,
        "segments_count": len(segments),
        "frames": whole.frames,
        "width": whole.width,
        "height": whole.height,
        "frame_rate": float(whole.fps),
        "bpp": bpp(size, whole.frames, whole.height, whole.width),
        "segments": rows,
        "sections": [
            {"tag": s.tag.decode("ascii", "replace"), "video": s.video, "bytes": section_size(s)} for s in sections
        ],
    }
