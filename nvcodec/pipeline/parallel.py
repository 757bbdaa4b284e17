"""Where segments are fitted beyond this process: spread over the processes ``torchrun`` starts
(``torch.distributed``: rank r fits segments r, r + W, r + 2W, ... on its own device and sends them
to rank 0, which writes the file), and the one decoding pass that hands segments their frames.
PyTorch's launcher does the scheduling across processes and machines; nothing here schedules beyond
a round-robin split. ``--workers`` processes: :mod:`~nvcodec.pipeline.workers`; the flow that
chooses: :mod:`~nvcodec.pipeline.run`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import torch
import torch.distributed as dist

from nvcodec.errors import NvcError
from nvcodec.files import write_atomic
from nvcodec.io import InputSpec, Span, Video
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.report import EncodeReport
from nvcodec.pipeline.segments import encode_one, finish, reusable
from nvcodec.pipeline.workdir import WorkDir, fingerprint_digest
from nvcodec.progress import Reporter

WAIT_POLL_S = 0.2
"""How often a rank looks for the keys it waits on, in seconds."""


def launched_ranks() -> tuple[int, int, int]:
    """(rank, world size, local rank) as ``torchrun`` sets them; (0, 1, 0) otherwise."""
    env = os.environ
    return int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0))


def distributed(
    source: InputSpec,
    work: WorkDir,
    options: list[EncodeOptions],
    spans: list[Span],
    reporter: Reporter,
    ranks: tuple[int, int, int],
    opening: tuple[dict, bool, list[str]],
    started: float,
) -> EncodeReport | None:
    """One rank of a ``torchrun`` encode: fit its share of the segments on its device and hand
    every segment's file and manifest to rank 0, which writes the output (``opening``: the work
    folder's plan, whether to resume it, and the input's notes, for rank 0). The ranks meet only
    through the launcher's key-value store: no process group, so no collective is in flight when
    a rank exits (a gloo gather still held by its worker thread aborted the interpreter at exit)."""
    rank, world, local = ranks
    plan, resume, notes = opening
    if torch.cuda.is_available() and options[0].device in ("auto", "cuda"):
        torch.cuda.set_device(local)
    store = _store(rank, world, fingerprint_digest(plan))
    redone: list[str] = []
    if rank == 0:
        work = work.open(plan, resume)
        redone = reusable(work, spans, reporter)[1]
        _put(store, "opened", b"1")
    else:
        _wait(store, ["opened"])
    work = WorkDir(work.output, fingerprint_digest(plan))
    work.path.mkdir(exist_ok=True)  # a rank on another machine without a shared folder
    ours = range(rank, len(spans), world)
    mine = [k for k in ours if work.check(k, spans[k]) is not None]
    quiet = Reporter() if rank else reporter
    quiet.start("segments", len(ours))
    for k, video in _own_spans(source, spans, mine):
        encode_one(video, k, spans[k], work, options[k])
        quiet.advance(1, segment=k)
    if rank != 0:
        for k in ours:
            _put(store, f"segment/{k}", work.segment(k).read_bytes())
            _put(store, f"manifest/{k}", work.manifest(k).read_bytes())
        return None
    for k in (k for k in range(len(spans)) if k % world):
        data, manifest = (bytes(store.get(key)) for key in _wait(store, [f"segment/{k}", f"manifest/{k}"]))
        if work.check(k, spans[k]) is not None:
            write_atomic(work.segment(k), lambda tmp, data=data: tmp.write_bytes(data))
            write_atomic(work.manifest(k), lambda tmp, manifest=manifest: tmp.write_bytes(manifest))
    return finish(work.output, work, spans, started, notes + redone)


def _store(rank: int, world: int, plan: str) -> dist.Store:
    """The launcher's key-value store (``env://``: the one ``torchrun``'s agent holds, or rank 0's
    when the environment names a master without an agent), under keys of this encode and attempt."""
    store, _, _ = next(dist.rendezvous("env://", rank=rank, world_size=world))
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return dist.PrefixStore(f"nvcodec/{plan}/{attempt}/", store)


def _put(store: dist.Store, key: str, data: bytes) -> None:
    """Set ``key`` to ``data`` (the store takes bytes as they are; its type stub says str)."""
    store.set(key, data)  # type: ignore[arg-type]


def _wait(store: dist.Store, keys: list[str]) -> list[str]:
    """``keys`` once another rank has set them all (however long its segments take to fit; the
    launcher ends every rank when one fails)."""
    while not store.check(keys):
        time.sleep(WAIT_POLL_S)
    return keys


def _own_spans(source: InputSpec, spans: list[Span], mine: list[int]) -> Iterator[tuple[int, Video]]:
    """The frames of segments ``mine``, read in one pass (the others decoded and dropped), one at a time."""
    wanted = set(mine)
    return ((k, video) for k, video in read_spans(source, spans, list(range(len(spans)))) if k in wanted)


def read_spans(source: InputSpec, spans: list[Span], todo: list[int]) -> Iterator[tuple[int, Video]]:
    """Segments ``todo`` with their frames, in one decoding pass; an input that ends before a
    segment is complete (fewer frames than its container declares) is an error naming the frame."""
    for k, video in zip(todo, source.spans([spans[k] for k in todo]), strict=False):
        if video.num_frames != spans[k][1]:
            raise NvcError(f"{source.label}: the input ends inside segment {k} (truncated? it declares more frames)")
        yield k, video
        todo = todo[1:]
    if todo:
        raise NvcError(f"{source.label}: the input ends before segment {todo[0]} (truncated? it declares more frames)")
