"""The one module that wires the stages: video -> model -> fit -> prune -> quantize -> code -> file,
and file -> tensors -> model -> frames -> video. The CLI and the benchmarks call only this."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nvcodec import ratecontrol as rc
from nvcodec.bitstream import Entry, VideoMeta, pack_entry, unpack_entries
from nvcodec.compress import QTensor, global_magnitude_masks, quantize_best_axis
from nvcodec.container import FORMAT_MAJOR, FORMAT_MINOR, read_nrv, write_nrv
from nvcodec.container.nrv import pack_nrv
from nvcodec.errors import NvcError
from nvcodec.fit import PRESET_EPOCHS, FitConfig, FrameSource, export_side, fit
from nvcodec.io import Video, write_video
from nvcodec.metrics import bpp, mean_ms_ssim, mean_psnr
from nvcodec.models import build, get, solve_config
from nvcodec.models.registry import config_fields_of
from nvcodec.progress import Reporter
from nvcodec.render import build_decoder, dequantize_side, render

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


def check_options(o: EncodeOptions) -> None:
    get(o.model)
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
    ms, note = mean_ms_ssim(video.frames, rec)
    t, h, w = video.num_frames, video.height, video.width
    with torch.device("meta"):
        count = build(o.model, entry.config).transmitted_count()
    return EncodeReport(
        model=o.model,
        params=count,
        frames=t,
        width=w,
        height=h,
        bytes=s["bytes"],
        bpp=bpp(s["bytes"], t, h, w),
        psnr=mean_psnr(video.frames, rec),
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
        notes=[note] if note else [],
        reconstruction=rec,
    )


def load_entries(path: Path) -> list[Entry]:
    """Every video entry of a ``.nrv`` file, checked and decoded to quantized tensors."""
    return unpack_entries(read_nrv(Path(path)), str(path))


def decode_frames(
    path: Path, frames: tuple[int, int] | None = None, device: str = "auto", video: int = 0
) -> tuple[VideoMeta, np.ndarray]:
    """The reconstructed frames ``a:b`` (all by default) of video ``video`` in a ``.nrv`` file."""
    entries = load_entries(path)
    if not 0 <= video < len(entries):
        raise NvcError(f"{path}: no video {video} (the file holds {len(entries)})")
    entry = entries[video]
    a, b = _frame_range(path, frames, entry.meta.frames)
    out = list(_render_entry(entry, list(range(a, b)), resolve_device(device)))
    return entry.meta, np.stack(out)


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
    entries = load_entries(path)
    if not 0 <= video < len(entries):
        raise NvcError(f"{path}: no video {video} (the file holds {len(entries)})")
    entry = entries[video]
    a, b = _frame_range(path, frames, entry.meta.frames)
    dev = resolve_device(device)
    reporter.start("decode", b - a)

    def frames_iter() -> Any:
        for frame in _render_entry(entry, list(range(a, b)), dev):
            reporter.advance(1)
            yield frame

    count = write_video(output, frames_iter(), entry.meta.fps, lossless=lossless)
    seconds = time.perf_counter() - start
    return DecodeReport(count, entry.meta.width, entry.meta.height, seconds, count / seconds, str(output))


def file_info(path: Path) -> dict[str, Any]:
    """What a ``.nrv`` file holds: format version, videos, models and section sizes."""
    sections = read_nrv(Path(path))
    entries = unpack_entries(sections, str(path))
    size = Path(path).stat().st_size
    videos = []
    for i, e in enumerate(entries):
        with torch.device("meta"):
            count = build(e.model, e.config).transmitted_count()
        videos.append(
            {
                "video": i,
                "model": e.model,
                "frames": e.meta.frames,
                "width": e.meta.width,
                "height": e.meta.height,
                "fps": float(e.meta.fps),
                "fps_fraction": f"{e.meta.fps.numerator}/{e.meta.fps.denominator}",
                "params": count,
                "weight_bits": max((q.bits for q in e.params.values()), default=0),
                "embed_bits": max((q.bits for q in e.side.values()), default=0),
                "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config_fields_of(e.config).items()},
                "bytes": sum(len(s.payload) + 16 for s in sections if s.entry == i),
            }
        )
    first = videos[0]
    return {
        "format_version": f"{FORMAT_MAJOR}.{FORMAT_MINOR}",
        "bytes": size,
        "model": first["model"],
        "frames": first["frames"],
        "width": first["width"],
        "height": first["height"],
        "fps": first["fps"],
        "bpp": bpp(size, first["frames"], first["height"], first["width"]),
        "videos": videos,
        "sections": [
            {"tag": s.tag.decode("ascii", "replace"), "video": s.entry, "bytes": len(s.payload) + 16} for s in sections
        ],
    }
