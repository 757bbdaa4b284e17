"""The one module that wires the stages: video -> model -> fit -> prune -> quantize -> code -> file,
and file -> tensors -> model -> frames -> video; for progressive models (pfnr), archive -> next
video's session (fit with earlier weights frozen -> mask -> new values) -> grown archive.
The CLI and the benchmarks call only this."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nvcodec import ratecontrol as rc
from nvcodec.archive import Archive, Session, is_archive, pack_archive, pack_session, unpack_archive
from nvcodec.bitstream import Entry, VideoMeta, pack_entry, skeleton, unpack_entries
from nvcodec.compress import QTensor, global_magnitude_masks, quantize, quantize_best_axis
from nvcodec.container import FORMAT_MAJOR, FORMAT_MINOR, read_nrv, write_nrv
from nvcodec.container.nrv import pack_nrv
from nvcodec.errors import NvcError
from nvcodec.fit import PRESET_EPOCHS, FitConfig, FrameSource, export_side, fit
from nvcodec.io import Video, write_video
from nvcodec.metrics import bpp, mean_ms_ssim, mean_psnr
from nvcodec.models import build, get, solve_config
from nvcodec.models.pfnr import kept
from nvcodec.models.registry import config_fields_of
from nvcodec.progress import Reporter
from nvcodec.render import build_archive_decoder, build_decoder, dequantize_side, render

QUALITY_FRAMES = 16


@dataclass(frozen=True)
class EncodeOptions:
    """Every encoder choice a user can make.

    Attributes:
        model: registered model name.
        bpp: file-size budget in bits per pixel (exclusive with ``params``).
        params: transmitted values (weights + embeddings) when sizing directly.
        preset: ``fast``, ``medium`` or ``slow``: number of epochs.
        epochs: explicit epoch count, overriding the preset.
        prune: fraction of weights removed; None lets rate control pick (0 with ``params``).
        weight_bits: quantization depth of weights; None lets rate control pick (8 with ``params``).
        embed_bits: quantization depth of embeddings; None lets rate control pick (6 with ``params``).
        batch_size: frames per optimizer step.
        lr: peak learning rate; None takes the model's reference value.
        seed: seed of initialization and frame order.
        device: ``auto``, ``cpu`` or ``cuda``.
        capacity: progressive models (pfnr): fraction of each tensor a video selects [0.5].
        max_videos: progressive models: most videos the archive may ever hold [64].
    """

    model: str = "hnerv"
    bpp: float | None = 0.05
    params: int | None = None
    preset: str = "medium"
    epochs: int | None = None
    prune: float | None = None
    weight_bits: int | None = None
    embed_bits: int | None = None
    batch_size: int = 2
    lr: float | None = None
    seed: int = 0
    device: str = "auto"
    capacity: float | None = None
    max_videos: int | None = None


@dataclass
class EncodeReport:
    """What an encode produced, measured on the decoder's reconstruction of the written file
    (``fit_psnr`` and ``fit_ms_ssim``: the fitted model before quantization, for reference)."""

    model: str
    params: int
    frames: int
    width: int
    height: int
    bytes: int
    bpp: float
    psnr: float
    ms_ssim: float | None
    encode_seconds: float
    fit_seconds: float
    fit_psnr: float
    fit_ms_ssim: float | None
    prune: float
    weight_bits: int
    embed_bits: int
    epochs: int
    device: str
    video: int = 0
    archive_bytes: int | None = None
    notes: list[str] = field(default_factory=list)
    reconstruction: np.ndarray | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (without the reconstructed frames)."""
        out = asdict(self)
        out.pop("reconstruction")
        return out


@dataclass
class DecodeReport:
    """What a decode wrote."""

    frames: int
    width: int
    height: int
    decode_seconds: float
    fps: float
    output: str

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NvcError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise NvcError(f"--device {name}: use auto, cpu or cuda")
    return torch.device(name)


def is_progressive(model: str) -> bool:
    """Whether a model builds growing archives (pfnr) rather than one video per file."""
    return bool(getattr(get(model).model_cls, "progressive", False))


def check_options(o: EncodeOptions) -> None:
    """Reject inconsistent or out-of-range encoder options with a one-line error."""
    if is_progressive(o.model):
        _check_progressive(o)
    elif o.capacity is not None or o.max_videos is not None:
        raise NvcError(f"--capacity and --max-videos apply to progressive models (pfnr), not {o.model}")
    if (o.bpp is None) == (o.params is None):
        raise NvcError("give exactly one of --bpp and --params")
    if o.bpp is not None and not o.bpp > 0:
        raise NvcError(f"--bpp {o.bpp}: the budget must be positive")
    if o.params is not None and o.params <= 0:
        raise NvcError(f"--params {o.params}: must be positive")
    if o.preset not in PRESET_EPOCHS:
        raise NvcError(f"--preset {o.preset}: use {', '.join(PRESET_EPOCHS)}")
    if o.epochs is not None and o.epochs <= 0:
        raise NvcError(f"--epochs {o.epochs}: must be positive")
    if o.prune is not None and not 0.0 <= o.prune < 1.0:
        raise NvcError(f"--prune {o.prune}: the fraction removed must be in [0, 1)")
    for flag, bits in (("--weight-bits", o.weight_bits), ("--embed-bits", o.embed_bits)):
        if bits is not None and not 2 <= bits <= 16:
            raise NvcError(f"{flag} {bits}: must be in 2..16")
    if o.batch_size <= 0:
        raise NvcError(f"--batch-size {o.batch_size}: must be positive")


class QuantCache:
    """Quantized versions of a set of arrays, one per bit depth, computed once each; arrays named in
    ``min_bits`` never go below their floor (small side tensors such as SNeRV's LL ranges)."""

    def __init__(self, arrays: dict[str, np.ndarray], min_bits: dict[str, int] | None = None) -> None:
        self.arrays = arrays
        self.min_bits = min_bits or {}
        self._cache: dict[int, dict[str, QTensor]] = {}

    def at(self, bits: int) -> dict[str, QTensor]:
        """Every array quantized to ``bits`` (or its floor) with its best axis."""
        if bits not in self._cache:
            self._cache[bits] = {
                k: quantize_best_axis(v, max(bits, self.min_bits.get(k, 0))) for k, v in self.arrays.items()
            }
        return self._cache[bits]


def _embed_values(name: str, h: int, w: int, t: int) -> int:
    cfg = solve_config(name, h, w, t, 0)
    with torch.device("meta"):
        model = get(name).model_cls(cfg)
    return sum(int(np.prod(s)) for s in model.embedding_shapes().values())


def _floor_bytes(name: str, video: Video, meta: VideoMeta) -> int:
    """Real size of the smallest model's file at the lowest rate settings (random weights)."""
    cfg = solve_config(name, video.height, video.width, video.num_frames, 0)
    torch.manual_seed(0)
    model = build(name, cfg)
    weights = {n: p.detach().numpy() for n, p in model.transmitted_parameters().items()}
    masks = global_magnitude_masks(dict(model.prunable_parameters()), rc.PRUNE_GRID[-1])
    for n, m in masks.items():
        weights[n] = weights[n] * m.numpy()
    rng = np.random.default_rng(0)
    side = {k: rng.normal(0, 1, s).astype(np.float32) for k, s in model.embedding_shapes().items()}
    qside = QuantCache(side, model.side_min_bits).at(rc.EMBED_BITS[-1])
    entry = Entry(meta, name, cfg, QuantCache(weights).at(rc.WEIGHT_BITS[-1]), qside)
    return len(pack_nrv(pack_entry(entry)))


def _size_model(video: Video, o: EncodeOptions, meta: VideoMeta) -> tuple[Any, rc.Budget | None]:
    t, h, w = video.num_frames, video.height, video.width
    if o.params is not None:
        return solve_config(o.model, h, w, t, o.params), None
    budget = rc.Budget(o.bpp, t * h * w)
    floor = _floor_bytes(o.model, video, meta)
    if floor > budget.max_bytes:
        raise NvcError(
            f"{video.source}: budget {o.bpp:g} bpp is too small for this clip: the smallest "
            f"{o.model} file for it is about {bpp(floor, t, h, w):.4g} bpp"
        )
    embed = _embed_values(o.model, h, w, t)
    config = solve_config(o.model, h, w, t, rc.params_for_budget(budget, embed, 0))
    for _ in range(3):  # the overhead grows with the model's channel count: iterate to a fixed point
        overhead = _overhead_bytes(o.model, config, meta)
        config = solve_config(o.model, h, w, t, rc.params_for_budget(budget, embed, overhead))
    return config, budget


def _overhead_bytes(name: str, config: Any, meta: VideoMeta) -> int:
    """Size of the file of ``config`` with every value zero: headers, config, steps, tensor records."""
    model = build(name, config)
    zeros = {n: np.zeros(tuple(p.shape), np.float32) for n, p in model.transmitted_parameters().items()}
    side = {k: np.zeros(s, np.float32) for k, s in model.embedding_shapes().items()}
    qw = QuantCache(zeros).at(rc.DEFAULT_WEIGHT_BITS)
    qs = QuantCache(side, model.side_min_bits).at(rc.DEFAULT_EMBED_BITS)
    return len(pack_nrv(pack_entry(Entry(meta, name, config, qw, qs))))


def _fit_config(o: EncodeOptions, model_cls: type, epochs: int) -> FitConfig:
    return FitConfig(
        epochs=epochs,
        lr=o.lr if o.lr is not None else model_cls.default_lr,
        batch_size=o.batch_size,
        loss=model_cls.default_loss,
        seed=o.seed,
    )


def _weights(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {n: p.detach().float().cpu().numpy() for n, p in model.transmitted_parameters().items()}


def _side_arrays(model: torch.nn.Module, source: FrameSource) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in export_side(model, source).items()}


def _pick_prune(model: Any, source: FrameSource, o: EncodeOptions, budget: rc.Budget | None, make_entry: Any) -> float:
    if o.prune is not None or budget is None:
        return o.prune or 0.0
    weights, side = _weights(model), QuantCache(_side_arrays(model, source), model.side_min_bits)
    eb = o.embed_bits or rc.DEFAULT_EMBED_BITS
    wb = o.weight_bits or rc.DEFAULT_WEIGHT_BITS

    def size_at(p: float) -> int:
        masks = global_magnitude_masks(dict(model.prunable_parameters()), p)
        pruned = {n: v * masks[n].cpu().numpy() if n in masks else v for n, v in weights.items()}
        return len(pack_nrv(pack_entry(make_entry(QuantCache(pruned).at(wb), side.at(eb)))))

    return rc.choose_prune(size_at, budget)


def encode_video(video: Video, output: Path, o: EncodeOptions, reporter: Reporter | None = None) -> EncodeReport:
    """Fit, compress and write ``video`` to ``output``; report what the decoder reconstructs."""
    if is_progressive(o.model):
        return encode_archive(video, output, o, reporter)
    reporter = reporter or Reporter()
    start = time.perf_counter()
    check_options(o)
    device = resolve_device(o.device)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    spec = get(o.model)
    config, budget = _size_model(video, o, meta)
    torch.manual_seed(o.seed)
    model = build(o.model, config, with_encoder=True).to(device)
    frames = torch.from_numpy(np.ascontiguousarray(video.frames)).to(device)
    source = FrameSource(frames, (config.height, config.width), spec.model_cls.context)
    epochs = o.epochs or PRESET_EPOCHS[o.preset]
    fit_start = time.perf_counter()
    fit(model, source, _fit_config(o, spec.model_cls, epochs), reporter)

    def make_entry(params: dict[str, QTensor], side: dict[str, QTensor]) -> Entry:
        return Entry(meta, o.model, config, params, side)

    prune = _pick_prune(model, source, o, budget, make_entry)
    if prune > 0:
        masks = global_magnitude_masks(dict(model.prunable_parameters()), prune)
        for name, mask in masks.items():
            model.get_parameter(name).data.mul_(mask)
        tune = _fit_config(o, spec.model_cls, max(1, epochs // 10))
        fit(model, source, tune, reporter, stage="fine-tune", masks=masks)
    fit_seconds = time.perf_counter() - fit_start
    side = _side_arrays(model, source)
    fit_psnr, fit_ms_ssim = _float_quality(model, side, video, device)
    wq, sq = QuantCache(_weights(model)), QuantCache(side, model.side_min_bits)
    wb, eb = _pick_bits(video, o, budget, wq, sq, make_entry, device, reporter)
    nbytes = write_nrv(output, pack_entry(make_entry(wq.at(wb), sq.at(eb))))
    stats = dict(prune=prune, weight_bits=wb, embed_bits=eb, epochs=epochs, fit_seconds=fit_seconds, bytes=nbytes)
    stats.update(start=start, fit_psnr=fit_psnr, fit_ms_ssim=fit_ms_ssim)
    return _report(video, output, o, device, stats)


def _float_quality(model: Any, side: dict[str, np.ndarray], video: Video, device: torch.device) -> tuple:
    """PSNR and MS-SSIM of the fitted model before quantization (float weights and side tensors)."""
    tensors = {k: torch.from_numpy(v).to(device) for k, v in side.items()}
    indices = list(range(video.num_frames))
    frames = np.stack(list(render(model, tensors, indices, (video.height, video.width), device)))
    return mean_psnr(video.frames, frames), mean_ms_ssim(video.frames, frames)[0]


def _pick_bits(
    video: Video,
    o: EncodeOptions,
    budget: rc.Budget | None,
    wq: QuantCache,
    sq: QuantCache,
    make_entry: Any,
    device: torch.device,
    reporter: Reporter,
) -> tuple[int, int]:
    wdef, edef = o.weight_bits or rc.DEFAULT_WEIGHT_BITS, o.embed_bits or rc.DEFAULT_EMBED_BITS
    if budget is None:
        return wdef, edef
    picks = np.unique(np.linspace(0, video.num_frames - 1, min(QUALITY_FRAMES, video.num_frames)).round().astype(int))
    reporter.start("rate", 1)

    def size_of(wb: int, eb: int) -> int:
        return len(pack_nrv(pack_entry(make_entry(wq.at(wb), sq.at(eb)))))

    def quality_of(wb: int, eb: int) -> float:
        entry = make_entry(wq.at(wb), sq.at(eb))
        frames = np.stack(list(_render_entry(entry, picks.tolist(), device)))
        return mean_psnr(video.frames[picks], frames)

    choice = rc.choose_bits(
        size_of,
        quality_of,
        budget,
        (o.weight_bits,) if o.weight_bits else rc.WEIGHT_BITS,
        (o.embed_bits,) if o.embed_bits else rc.EMBED_BITS,
    )
    reporter.advance(1, wbits=choice.weight_bits, ebits=choice.embed_bits)
    return choice.weight_bits, choice.embed_bits


def _render_entry(entry: Entry, indices: list[int], device: torch.device) -> Any:
    model = build_decoder(entry.model, entry.config, entry.params, device)
    side = dequantize_side(entry.side, device)
    return render(model, side, indices, (entry.meta.height, entry.meta.width), device)


def _report(video: Video, output: Path, o: EncodeOptions, device: torch.device, s: dict[str, Any]) -> EncodeReport:
    entry = load_entries(output)[0]
    rec = np.stack(list(_render_entry(entry, list(range(entry.meta.frames)), device)))
    with torch.device("meta"):
        count = build(o.model, entry.config).transmitted_count()
    return _measured(video, rec, o.model, count, device, s)


def _measured(
    source: Video, rec: np.ndarray, model: str, params: int, device: torch.device, s: dict[str, Any], **extra: Any
) -> EncodeReport:
    """The report of an encode: the decoder's reconstruction ``rec`` measured against the source."""
    ms, note = mean_ms_ssim(source.frames, rec)
    t, h, w = source.num_frames, source.height, source.width
    return EncodeReport(
        model=model,
        params=params,
        frames=t,
        width=w,
        height=h,
        bytes=s["bytes"],
        bpp=bpp(s["bytes"], t, h, w),
        psnr=mean_psnr(source.frames, rec),
        ms_ssim=ms,
        encode_seconds=time.perf_counter() - s["start"],
        fit_seconds=s["fit_seconds"],
        fit_psnr=s["fit_psnr"],
        fit_ms_ssim=s["fit_ms_ssim"],
        prune=s["prune"],
        weight_bits=s["weight_bits"],
        embed_bits=s["embed_bits"],
        epochs=s["epochs"],
        device=str(device),
        notes=s.get("notes", []) + ([note] if note else []),
        reconstruction=rec,
        **extra,
    )


def load_entries(path: Path) -> list[Entry]:
    """Every video entry of a ``.nrv`` file, checked and decoded to quantized tensors."""
    return unpack_entries(read_nrv(Path(path)), str(path))


def _open_video(path: Path, video: int) -> tuple[VideoMeta, Any]:
    """Metadata of video ``video`` of a ``.nrv`` file and a function (indices, device) -> frames."""
    sections = read_nrv(Path(path))
    if is_archive(sections):
        archive = unpack_archive(sections, str(path))
        count = len(archive.sessions)
    else:
        entries = unpack_entries(sections, str(path))
        count = len(entries)
    if not 0 <= video < count:
        raise NvcError(f"{path}: no video {video} (the file holds {count})")
    if is_archive(sections):
        return archive.sessions[video].meta, lambda idx, dev: _render_archive(archive, video, idx, dev)
    return entries[video].meta, lambda idx, dev: _render_entry(entries[video], idx, dev)


def decode_frames(
    path: Path, frames: tuple[int, int] | None = None, device: str = "auto", video: int = 0
) -> tuple[VideoMeta, np.ndarray]:
    """The reconstructed frames ``a:b`` (all by default) of video ``video`` in a ``.nrv`` file."""
    meta, frames_of = _open_video(path, video)
    a, b = _frame_range(path, frames, meta.frames)
    return meta, np.stack(list(frames_of(list(range(a, b)), resolve_device(device))))


def _frame_range(path: Path, frames: tuple[int, int] | None, total: int) -> tuple[int, int]:
    a, b = frames if frames is not None else (0, total)
    if not 0 <= a < b <= total:
        raise NvcError(f"{path}: frame range {a}:{b} is outside 0:{total}")
    return a, b


def decode_file(
    path: Path,
    output: Path,
    frames: tuple[int, int] | None = None,
    device: str = "auto",
    lossless: bool = False,
    video: int = 0,
    reporter: Reporter | None = None,
) -> DecodeReport:
    """Decode a ``.nrv`` file (or frames ``a:b`` of it) into a video file chosen by extension."""
    reporter = reporter or Reporter()
    start = time.perf_counter()
    meta, frames_of = _open_video(path, video)
    a, b = _frame_range(path, frames, meta.frames)
    dev = resolve_device(device)
    reporter.start("decode", b - a)

    def frames_iter() -> Any:
        for frame in frames_of(list(range(a, b)), dev):
            reporter.advance(1)
            yield frame

    count = write_video(output, frames_iter(), meta.fps, lossless=lossless)
    seconds = time.perf_counter() - start
    return DecodeReport(count, meta.width, meta.height, seconds, count / seconds, str(output))


def _entry_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        with torch.device("meta"):
            count = build(e.model, e.config).transmitted_count()
        rows.append(
            {
                "model": e.model,
                "meta": e.meta,
                "params": count,
                "weight_bits": max((q.bits for q in e.params.values()), default=0),
                "embed_bits": max((q.bits for q in e.side.values()), default=0),
                "config": e.config,
            }
        )
    return rows


def _archive_rows(archive: Archive) -> list[dict[str, Any]]:
    rows = []
    for i, session in enumerate(archive.sessions):
        _, used = archive.replay(i)
        rows.append(
            {
                "model": archive.model,
                "meta": session.meta,
                "params": sum(q.symbols.size for q in session.values.values()) + session.head.symbols.size,
                "weight_bits": _bits_of(session),
                "embed_bits": 0,
                "config": archive.config,
                "note": _claim_note(archive, i),
                "mask_bytes": archive.mask_bytes(i),
                "claimed": sum(int(u.sum()) for u in used.values()) / sum(u.size for u in used.values()),
            }
        )
    return rows


def file_info(path: Path) -> dict[str, Any]:
    """What a ``.nrv`` file holds: format version, videos (frames, size, fps, bytes, bpp of each),
    models and section sizes. ``bpp`` of the file counts its bytes over every video's pixels."""
    sections = read_nrv(Path(path))
    if is_archive(sections):
        rows = _archive_rows(unpack_archive(sections, str(path)))
    else:
        rows = _entry_rows(unpack_entries(sections, str(path)))
    size = Path(path).stat().st_size
    videos = []
    for i, row in enumerate(rows):
        m = row.pop("meta")
        nbytes = sum(len(s.payload) + 16 for s in sections if s.entry == i)
        nbytes += len(pack_nrv([])) if i == 0 else 0
        config = config_fields_of(row.pop("config"))
        videos.append(
            {
                "video": i,
                "model": row.pop("model"),
                "frames": m.frames,
                "width": m.width,
                "height": m.height,
                "fps": float(m.fps),
                "fps_fraction": f"{m.fps.numerator}/{m.fps.denominator}",
                "bytes": nbytes,
                "bpp": bpp(nbytes, m.frames, m.height, m.width),
                **row,
                "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
            }
        )
    first = videos[0]
    pixels = sum(v["frames"] * v["width"] * v["height"] for v in videos)
    return {
        "format_version": f"{FORMAT_MAJOR}.{FORMAT_MINOR}",
        "bytes": size,
        "model": first["model"],
        "videos_count": len(videos),
        "frames": sum(v["frames"] for v in videos),
        "width": first["width"],
        "height": first["height"],
        "fps": first["fps"],
        "bpp": 8.0 * size / pixels,
        "videos": videos,
        "sections": [
            {"tag": s.tag.decode("ascii", "replace"), "video": s.entry, "bytes": len(s.payload) + 16} for s in sections
        ],
    }


# --- progressive archives (pfnr): one network, videos appended one session at a time ---------------

DEFAULT_CAPACITY, DEFAULT_MAX_VIDEOS = 0.5, 64
HEAD_MIN_BITS = 8


def _check_progressive(o: EncodeOptions) -> None:
    if o.prune is not None:
        raise NvcError(f"--prune: {o.model}'s sparsity is its learned mask; set --capacity instead")
    if o.embed_bits is not None:
        raise NvcError(f"--embed-bits: {o.model} transmits no embeddings")
    if o.capacity is not None and not 0.0 < o.capacity <= 1.0:
        raise NvcError(f"--capacity {o.capacity}: the fraction each video selects must be in (0, 1]")
    if o.max_videos is not None and not 1 <= o.max_videos <= 0xFFFF:
        raise NvcError(f"--max-videos {o.max_videos}: must be in 1..65535")


def _archive_overhead(archive: Archive, meta: VideoMeta, bits: int | None = None) -> int:
    """Bytes of a first video whose selected weights are zero (headers, config, masks, steps), or,
    with ``bits``, random values at that depth (the smallest real file of this network)."""
    model = skeleton(archive.model, archive.config)
    rng = np.random.default_rng(0)
    masks, values = {}, {}
    for n, shape in model.masked_shapes().items():
        flat = np.zeros(int(np.prod(shape)), bool)
        flat[rng.permutation(flat.size)[: kept(archive.config, flat.size)]] = True
        masks[n] = flat.reshape(shape)
        x = rng.normal(0, 1, int(masks[n].sum())) if bits else np.zeros(int(masks[n].sum()))
        values[n] = quantize(x.astype(np.float32), bits or rc.DEFAULT_WEIGHT_BITS, None)
    head = quantize(np.zeros(tuple(model.head.shape), np.float32), HEAD_MIN_BITS, None)
    probe = Archive(archive.model, archive.config, [Session(meta, masks, values, head)])
    return len(pack_nrv(pack_archive(probe)))


def _size_archive(video: Video, o: EncodeOptions, meta: VideoMeta) -> Any:
    """The network of a new archive, sized so that its first video fits the budget."""
    t, h, w = video.num_frames, video.height, video.width
    fixed = dict(capacity=o.capacity or DEFAULT_CAPACITY, max_videos=o.max_videos or DEFAULT_MAX_VIDEOS, seed=o.seed)
    if o.params is not None:
        return solve_config(o.model, h, w, t, o.params, fixed)
    budget = rc.Budget(o.bpp, t * h * w)
    config = solve_config(o.model, h, w, t, 0, fixed)
    floor = _archive_overhead(Archive(o.model, config, []), meta, rc.WEIGHT_BITS[-1])
    if floor > budget.max_bytes:
        raise NvcError(
            f"{video.source}: budget {o.bpp:g} bpp is too small for this clip: the smallest "
            f"{o.model} archive for it is about {bpp(floor, t, h, w):.4g} bpp"
        )
    for _ in range(3):  # the mask and step overhead grows with the network: iterate to a fixed point
        overhead = _archive_overhead(Archive(o.model, config, []), meta)
        values = rc.params_for_budget(budget, 0, overhead)
        config = solve_config(o.model, h, w, t, values, fixed)
    return config


class _Frozen:
    """Weights earlier videos claimed: written back after every optimizer step, so they never move."""

    def __init__(self, model: Any, used: dict[str, np.ndarray]) -> None:
        self.model = model
        self.saved = {}
        for n, u in used.items():
            mask = torch.from_numpy(u).to(model.weights[n].device)
            self.saved[n] = (mask, model.weights[n].detach().clone())

    @torch.no_grad()
    def restore(self) -> None:
        """Put every frozen weight back to its stored value."""
        for n, (mask, value) in self.saved.items():
            w = self.model.weights[n]
            w.copy_(torch.where(mask, value, w))


def _session_model(archive: Archive, index: int, frames: int, device: torch.device) -> tuple[Any, _Frozen]:
    """The network at the start of video ``index``: the seed's initial weights with every claimed
    weight set to its decoded value, fresh selection scores, and the frozen-weight guard."""
    model = build(archive.model, archive.config)
    weights, used = archive.replay(index - 1)
    with torch.no_grad():
        for n, u in used.items():
            model.weights[n][torch.from_numpy(u)] = torch.from_numpy(weights[n][u])
    model.set_video(index, frames)
    model.new_scores(torch.Generator().manual_seed(archive.config.seed * 100_003 + index + 1))
    model.to(device)
    return model, _Frozen(model, used)


def _session_at(model: Any, masks: dict[str, np.ndarray], archive: Archive, meta: VideoMeta, bits: int) -> Session:
    """The next video quantized at ``bits``: its mask, its newly claimed weights and its head."""
    index = len(archive.sessions)
    _, used = archive.replay(index - 1)
    values = {}
    for n, w in model.weights.items():
        new = masks[n] & ~used[n]
        if new.any():
            values[n] = quantize(w.detach().float().cpu().numpy()[new], bits, None)
    head = quantize(model.head.detach().float().cpu().numpy(), max(bits, HEAD_MIN_BITS), None)
    return Session(meta, masks, values, head)


def _pick_session_bits(
    model: Any, masks: dict[str, np.ndarray], archive: Archive, meta: VideoMeta, o: EncodeOptions, notes: list[str]
) -> Session:
    """The session at the highest bit depth whose file growth fits the budget (the lowest if none)."""
    index = len(archive.sessions)
    choices = (o.weight_bits,) if o.weight_bits else rc.WEIGHT_BITS
    limit = rc.Budget(o.bpp, meta.frames * meta.width * meta.height).max_bytes if o.bpp else None
    for bits in choices:
        session = _session_at(model, masks, archive, meta, bits)
        grown = Archive(archive.model, archive.config, [*archive.sessions, session])
        size = len(pack_nrv(pack_session(grown, index))) - (len(pack_nrv([])) if index else 0)
        if limit is None or size <= limit:
            if limit is not None and bits == choices[0] and index and size < rc.LOWER_FRACTION * limit:
                notes.append(
                    f"video {index} adds {size} bytes, under its budget of {limit}: the weights still free in the"
                    " network limit what a video can add (a larger --bpp for the first video gives a larger network)"
                )
            return session
    notes.append(f"over budget: even {choices[-1]}-bit weights take {size} bytes (budget {limit})")
    return session


def _encode_session(
    video: Video, output: Path, o: EncodeOptions, reporter: Reporter, archive: Archive, old: list
) -> EncodeReport:
    """Fit the next video of ``archive`` (whose file sections are ``old``), write the grown archive
    atomically to ``output`` and report what the decoder reconstructs for that video."""
    start, device, index = time.perf_counter(), resolve_device(o.device), len(archive.sessions)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config, notes = archive.config, []
    model, frozen = _session_model(archive, index, video.num_frames, device)
    frames = torch.from_numpy(np.ascontiguousarray(video.frames)).to(device)
    source = FrameSource(frames, (config.height, config.width))
    epochs = o.epochs or PRESET_EPOCHS[o.preset]
    fit(model, source, _fit_config(o, type(model), epochs), reporter, stage=f"video {index}", after_step=frozen.restore)
    fit_seconds = time.perf_counter() - start
    masks = {n: m.numpy() for n, m in model.hard_masks().items()}
    model.use_masks({n: torch.from_numpy(m) for n, m in masks.items()})
    fit_psnr, fit_ms_ssim = _float_quality(model, {}, video, device)
    session = _pick_session_bits(model, masks, archive, meta, o, notes)
    archive.sessions.append(session)
    before = len(pack_nrv(old)) if old else 0
    _check_unchanged(output, old)
    total = write_nrv(output, [*old, *pack_session(archive, index)])
    notes.append(_claim_note(archive, index))
    stats = dict(prune=0.0, weight_bits=_bits_of(session), embed_bits=0, epochs=epochs, fit_seconds=fit_seconds)
    stats.update(start=start, fit_psnr=fit_psnr, fit_ms_ssim=fit_ms_ssim, bytes=total - before, notes=notes)
    return _archive_report(video, output, index, device, stats, total)


def _check_unchanged(path: Path, old: list) -> None:
    """Refuse to replace an archive that changed since this append read it (a concurrent append)."""
    if old and (not Path(path).is_file() or Path(path).read_bytes() != pack_nrv(old)):
        raise NvcError(f"{path}: the archive changed while this video was fitted (another append?); nothing written")


def _bits_of(session: Session) -> int:
    return max((q.bits for q in session.values.values()), default=0)


def _claim_note(archive: Archive, index: int) -> str:
    """How the video's subnetwork splits into new and reused weights, and how full the network is."""
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
    video: Video, output: Path, index: int, device: torch.device, s: dict[str, Any], total: int
) -> EncodeReport:
    archive = load_archive(output)
    rec = np.stack(list(_render_archive(archive, index, list(range(video.num_frames)), device)))
    session = archive.sessions[index]
    params = sum(q.symbols.size for q in session.values.values()) + session.head.symbols.size
    return _measured(video, rec, archive.model, params, device, s, video=index, archive_bytes=total)


def encode_archive(video: Video, output: Path, o: EncodeOptions, reporter: Reporter | None = None) -> EncodeReport:
    """Start a progressive archive at ``output`` with ``video`` as its video 0."""
    check_options(o)
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    archive = Archive(o.model, _size_archive(video, o, meta), [])
    return _encode_session(video, output, o, reporter or Reporter(), archive, [])


def append_video(path: Path, video: Video, o: EncodeOptions, reporter: Reporter | None = None) -> EncodeReport:
    """Fit ``video`` into the archive at ``path`` as its next video; earlier videos are untouched.

    The grown archive replaces the old one by rename, so a failed or interrupted append leaves it as it was.
    """
    sections = read_nrv(Path(path))
    if not is_archive(sections):
        raise NvcError(f"{path}: not a progressive archive (start one with encode --model pfnr)")
    archive = unpack_archive(sections, str(path))
    o = replace(o, model=archive.model)
    if o.params is not None or o.capacity is not None or o.max_videos is not None:
        raise NvcError("--params, --capacity and --max-videos are fixed when the archive is created")
    check_options(o)
    first = archive.sessions[0].meta
    if (video.width, video.height) != (first.width, first.height):
        raise NvcError(
            f"{video.source}: frame size {video.width}x{video.height} differs from the archive's "
            f"{first.width}x{first.height} (use --crop/--scale)"
        )
    if len(archive.sessions) >= archive.config.max_videos:
        raise NvcError(f"{path}: the archive is full ({archive.config.max_videos} videos)")
    return _encode_session(video, Path(path), o, reporter or Reporter(), archive, sections)


def load_archive(path: Path) -> Archive:
    """The progressive archive at ``path``, checked and decoded to masks and quantized tensors."""
    return unpack_archive(read_nrv(Path(path)), str(path))


def _render_archive(archive: Archive, index: int, indices: list[int], device: torch.device) -> Any:
    model = build_archive_decoder(archive, index, device)
    meta = archive.sessions[index].meta
    return render(model, {}, indices, (meta.height, meta.width), device)
