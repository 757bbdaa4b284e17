"""Progressive archives (``pfnr``): one network, videos appended one at a time.

A video's session: the network as earlier videos left it (claimed weights frozen at their decoded
values) -> fit the video's selection scores, free weights and head -> its masks -> its newly
claimed values at the deepest bit depth that fits its budget -> the grown archive, written by
rename -> the report on the decoder's reconstruction of that video.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress import quantize
from nvcodec.container import Section, pack_nrv, packed_size, read_nrv, write_nrv
from nvcodec.errors import NvcError, UsageError
from nvcodec.files import locked
from nvcodec.fit import FrameSource, fit
from nvcodec.format import Archive, Session, VideoMeta, is_archive, pack_session, unpack_archive
from nvcodec.io import Video
from nvcodec.models import ProgressiveModel
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.decode import load_archive, render_archive
from nvcodec.pipeline.options import EncodeOptions, resolve_device
from nvcodec.pipeline.progressive_rd import rd_session, rd_step_seconds
from nvcodec.pipeline.report import EncodeReport, EncodeStats, float_quality, measured_report
from nvcodec.pipeline.sizing import Sizing, budget_for, size_video
from nvcodec.pipeline.timing import Costs, plan_epochs, post_seconds, time_steps, timed
from nvcodec.progress import Reporter
from nvcodec.render import RENDER_BATCH


class FrozenWeights:
    """The weights earlier videos claimed, written back after every optimizer step so they never move."""

    def __init__(self, model: ProgressiveModel, used: dict[str, np.ndarray]) -> None:
        self.model = model
        self.saved = {}
        for name, claimed in used.items():
            mask = torch.from_numpy(claimed).to(model.weights[name].device)
            self.saved[name] = (mask, model.weights[name].detach().clone())

    @torch.no_grad()
    def restore(self) -> None:
        """Put every frozen weight back to its stored value."""
        for name, (mask, value) in self.saved.items():
            w = self.model.weights[name]
            w.copy_(torch.where(mask, value, w))


def session_model(
    archive: Archive, index: int, frames: int, device: torch.device
) -> tuple[ProgressiveModel, FrozenWeights]:
    """The network at the start of video ``index``: the seed's initial weights with every claimed
    weight set to its decoded value, fresh selection scores, and the frozen-weight guard."""
    model = archive.spec.build(archive.config)
    weights, used = archive.replay(index - 1)
    with torch.no_grad():
        for name, claimed in used.items():
            model.weights[name][torch.from_numpy(claimed)] = torch.from_numpy(weights[name][claimed])
    model.set_video(index, frames)
    model.new_scores(torch.Generator().manual_seed(archive.config.seed * 100_003 + index + 1))
    model.to(device)
    return model, FrozenWeights(model, used)


def _session_at(
    model: ProgressiveModel, masks: dict[str, np.ndarray], used: dict[str, np.ndarray], cost: CodedSize, bits: int
) -> Session:
    """The next video quantized at ``bits``: its masks, the weights it claims first, and its head."""
    values = {}
    for name, w in model.weights.items():
        new = masks[name] & ~used[name]
        if new.any():
            values[name] = quantize(w.detach().float().cpu().numpy()[new], bits, None)
    head = quantize(model.head.detach().float().cpu().numpy(), max(bits, ratecontrol.HEAD_MIN_BITS), None)
    return cost.session(masks, values, head)


def _pick_session_bits(
    model: ProgressiveModel,
    masks: dict[str, np.ndarray],
    archive: Archive,
    cost: CodedSize,
    options: EncodeOptions,
    reporter: Reporter,
    notes: list[str],
) -> Session:
    """The session at the highest bit depth whose growth of the file fits the budget (the lowest if none)."""
    index, meta = len(archive.sessions), cost.meta
    depths = (options.weight_bits,) if options.weight_bits else ratecontrol.WEIGHT_BITS
    budget = budget_for(options.budget_bpp, meta.frames, meta.height, meta.width)
    limit = budget.max_bytes if budget else None
    _, used = archive.replay(index - 1)
    sessions: dict[int, Session] = {}

    def size_of(bits: int) -> int:
        sessions[bits] = _session_at(model, masks, used, cost, bits)
        size = cost.session_bytes(archive.sessions, sessions[bits])
        reporter.advance(1, wbits=bits, bytes=size)
        return size

    reporter.start("rate", len(depths))
    choice = ratecontrol.choose_depth(size_of, limit, depths)
    if not choice.fits:
        notes.append(f"over budget: even {choice.bits}-bit weights take {choice.size} bytes (budget {limit})")
    elif limit is not None and choice.bits == depths[0] and index and choice.size < ratecontrol.LOWER_FRACTION * limit:
        notes.append(
            f"video {index} adds {choice.size} bytes, under its budget of {limit}: the weights still free in the"
            " network limit what a video can add (a larger --bpp for the first video gives a larger network)"
        )
    return sessions[choice.bits]


def _encode_session(
    video: Video, output: Path, options: EncodeOptions, reporter: Reporter, archive: Archive, old: list[Section]
) -> EncodeReport:
    """Fit the next video of ``archive`` (whose file sections are ``old``), write the grown archive
    atomically to ``output`` and report what the decoder reconstructs for that video."""
    started, device, index = time.perf_counter(), resolve_device(options.device), len(archive.sessions)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    cost, notes = CodedSize(meta, archive.spec, archive.config), list(video.notes)
    model, frozen = session_model(archive, index, video.num_frames, device)
    frames = torch.from_numpy(np.ascontiguousarray(video.frames)).to(device)
    source = FrameSource(frames, (archive.config.height, archive.config.width))
    planned = None
    if options.time is not None:
        options, planned = _plan_session(video, options, archive, cost, source, started)
    epochs = options.planned_epochs
    warm = options.training.stage_epochs(epochs)[0] if options.uses_rd else epochs
    fit(model, source, options.fit_config(warm), reporter, stage=f"video {index}", after_step=frozen.restore)
    masks = {name: m.numpy() for name, m in model.hard_masks().items()}
    model.use_masks({name: torch.from_numpy(m) for name, m in masks.items()})
    if options.uses_rd:
        session = rd_session(model, masks, archive, cost, source, options, reporter)
    fit_seconds = time.perf_counter() - started
    fit_psnr, fit_ms_ssim = float_quality(model, {}, video, device)
    if not options.uses_rd:
        session = _pick_session_bits(model, masks, archive, cost, options, reporter, notes)
    archive.sessions.append(session)
    before = packed_size(old) if old else 0
    reporter.start("write", 1)
    _check_unchanged(output, old)
    total = write_nrv(output, [*old, *pack_session(archive, index)])
    reporter.advance(1)
    notes.append(claim_note(archive, index))
    added = total - before
    stats = EncodeStats(started, epochs, fit_seconds, fit_psnr, fit_ms_ssim, added, weight_bits=bits_of(session))
    stats.notes, stats.planned_seconds = notes, planned
    return _archive_report(video, output, index, device, stats, total)


def _plan_session(
    video: Video, options: EncodeOptions, archive: Archive, cost: CodedSize, source: FrameSource, started: float
) -> tuple[EncodeOptions, float]:
    """For ``--time``: the options with the epochs that fill the time, and the planned seconds of
    the whole append. Timed on a copy of the session's network: a few distortion steps, a few
    rate–distortion steps (with the rate–distortion fit), one export of the session and the render
    and measurement of a few frames (:mod:`~nvcodec.pipeline.timing`)."""
    index, quiet = len(archive.sessions), Reporter()
    twin, frozen = session_model(archive, index, video.num_frames, source.frames.device)
    few = lambda k: dataclasses.replace(options.fit_config(1), max_steps=k)  # noqa: E731
    fit_step = time_steps(lambda k: fit(twin, source, few(k), quiet, after_step=frozen.restore))
    masks = {name: m.numpy() for name, m in twin.hard_masks().items()}
    twin.use_masks({name: torch.from_numpy(m) for name, m in masks.items()})
    rd_step = rd_step_seconds(twin, masks, archive, cost, source, options) if options.uses_rd else fit_step
    used = archive.replay(index - 1)[1]
    bits = ratecontrol.DEFAULT_WEIGHT_BITS
    export = timed(lambda: cost.session_bytes(archive.sessions, _session_at(twin, masks, used, cost, bits)))
    k = min(RENDER_BATCH, video.num_frames)
    clip = Video(video.frames[:k], video.fps, video.source)
    frame = timed(lambda: float_quality(twin, {}, clip, source.frames.device)) / k
    costs, steps = Costs(fit_step, fit_step, rd_step, frame, export), -(-video.num_frames // options.batch_size)

    def seconds(epochs: int) -> float:
        if not options.uses_rd:
            return steps * epochs * fit_step
        warm, rd_epochs, exact = options.training.stage_epochs(epochs)
        return steps * (warm * fit_step + (rd_epochs + exact) * rd_step)

    spent = time.perf_counter() - started
    plan = plan_epochs(seconds, post_seconds(costs, video.num_frames), options.time - spent)
    return dataclasses.replace(options, epochs=plan.epochs, time=None), spent + plan.planned_seconds


def _check_unchanged(path: Path, old: list[Section]) -> None:
    """Refuse to replace an archive that changed since this append read it (a concurrent append)."""
    if old and (not Path(path).is_file() or Path(path).read_bytes() != pack_nrv(old)):
        raise NvcError(f"{path}: the archive changed while this video was fitted (another append?); nothing written")


def bits_of(session: Session) -> int:
    """The bit depth of a video's newly claimed weights (0 if it claimed none or they are learned)."""
    return max((q.bits for q in session.values.values()), default=0)


def claim_note(archive: Archive, index: int) -> str:
    """How video ``index``'s subnetwork splits into new and reused weights, and how full the network is."""
    _, before = archive.replay(index - 1)
    _, after = archive.replay(index)
    selected = sum(int(m.sum()) for m in archive.sessions[index].masks.values())
    new = sum(int((m & ~before[n]).sum()) for n, m in archive.sessions[index].masks.items())
    claimed = sum(int(u.sum()) for u in after.values()) / sum(u.size for u in after.values())
    return (
        f"video {index}: {new} new weights, {selected - new} reused ({(selected - new) / selected:.0%} of its"
        f" subnetwork); {claimed:.0%} of the network now claimed"
    )


def _archive_report(
    video: Video, output: Path, index: int, device: torch.device, stats: EncodeStats, total: int
) -> EncodeReport:
    """The report of video ``index``, measured on what the decoder renders from the written archive."""
    archive = load_archive(output)
    rec = np.stack(list(render_archive(archive, index, list(range(video.num_frames)), device)))
    session = archive.sessions[index]
    params = sum(q.symbols.size for q in session.values.values()) + session.head.symbols.size
    return measured_report(video, rec, archive.spec.name, params, device, stats, video=index, archive_bytes=total)


def encode_archive(
    video: Video, output: Path, options: EncodeOptions, reporter: Reporter | None = None, sizing: Sizing | None = None
) -> EncodeReport:
    """Start a progressive archive at ``output`` with ``video`` as its video 0 (``sizing``: the
    network's config as :func:`~nvcodec.pipeline.sizing.size_video` made it; made here if None)."""
    if not options.spec.progressive:
        raise UsageError(f"{options.model} does not make progressive archives")
    sizing = sizing or size_video(video, options)
    archive = Archive(options.spec, sizing.config, [])
    return _encode_session(video, output, options, reporter or Reporter(), archive, [])


def append_video(path: Path, video: Video, options: EncodeOptions, reporter: Reporter | None = None) -> EncodeReport:
    """Fit ``video`` into the archive at ``path`` as its next video; earlier videos are untouched.

    The grown archive replaces the old one by rename, so a failed or interrupted append leaves it as it was.
    The archive is locked for the whole append: a second append waits for the first, then adds its
    video to the archive the first one wrote.
    """
    if Path(path).is_file() and (not Path(path).stat().st_mode & 0o222 or not os.access(path, os.W_OK)):
        raise NvcError(f"{path}: is read-only; nothing appended")
    with locked(Path(path)):
        return _append_locked(Path(path), video, options, reporter or Reporter())


def _append_locked(path: Path, video: Video, options: EncodeOptions, reporter: Reporter) -> EncodeReport:
    sections = read_nrv(path)
    if not is_archive(sections):
        raise NvcError(f"{path}: not a progressive archive (start one with encode --model pfnr)")
    archive = unpack_archive(sections, str(path))
    if options.params is not None or options.capacity is not None or options.max_videos is not None:
        raise NvcError("--params, --capacity and --max-videos are fixed when the archive is created")
    if archive.spec is not options.spec:
        raise NvcError(f"{path}: an archive of {archive.spec.name}, not {options.model}")
    first = archive.sessions[0].meta
    if (video.width, video.height) != (first.width, first.height):
        raise NvcError(
            f"{video.source}: frame size {video.width}x{video.height} differs from the archive's "
            f"{first.width}x{first.height} (use --crop/--scale)"
        )
    if len(archive.sessions) >= archive.config.max_videos:
        raise NvcError(f"{path}: the archive is full ({archive.config.max_videos} videos)")
    options = options.for_video(video.num_frames, video.height, video.width, archive.config)
    return _encode_session(video, path, options, reporter, archive, sections)
