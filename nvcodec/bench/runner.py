"""The benchmark: our models at several budgets and x264/x265 anchors on the same clips, measured
by one function, with BD-rates, a JSON and a CSV with one row per point, and an RD plot per clip.

Our points run exactly what ``encode`` and ``decode`` run: a real ``.nrv`` file is written, read
back by the decoder's path, and the decoded frames are compared with the source frames.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch

from nvcodec import __version__, pipeline
from nvcodec.bench import anchors
from nvcodec.bench.anchors import ANCHORS, check_frame_size, run_anchor
from nvcodec.bench.bdrate import bd_metrics
from nvcodec.bench.compressai import compressai_results
from nvcodec.bench.config import BenchConfig, Curve
from nvcodec.bench.measure import RGB_SOURCE_PIX_FMT, measure, plane_metrics
from nvcodec.bench.plot import RATE_AXES, plot_clip
from nvcodec.errors import NvcError
from nvcodec.files import write_atomic
from nvcodec.io import SAMPLE_CROP, Video, prepare_video, sample_scale, video_planes
from nvcodec.progress import Reporter

PIX_FMTS = ("yuv420p", "yuv420p10le", "yuv444p")
ANCHOR_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def check_config(cfg: BenchConfig) -> None:
    """One-line errors for options that cannot work, before any work is done."""
    for a in cfg.anchors:
        if a not in ANCHORS:
            raise NvcError(f"--anchors {a}: use {', '.join(ANCHORS)}")
    for f in cfg.anchor_pix_fmts:
        if f not in PIX_FMTS:
            raise NvcError(f"--anchor-pix-fmt {f}: use {', '.join(PIX_FMTS)}")
    if cfg.anchor_preset not in ANCHOR_PRESETS:
        raise NvcError(f"--anchor-preset {cfg.anchor_preset}: use one of {', '.join(ANCHOR_PRESETS)}")
    if not cfg.bpps or any(b <= 0 for b in cfg.bpps):
        raise NvcError("--bpp: give positive budgets, e.g. 0.05,0.1")
    if cfg.rate_axis not in RATE_AXES:
        raise NvcError(f"--rate-axis {cfg.rate_axis}: use {' or '.join(RATE_AXES)}")
    for c in cfg.curves:
        _options(c, cfg.bpps[0], cfg)  # validates
    for r in cfg.references:
        if r not in cfg.models:
            raise NvcError(f"--references {r}: not one of the benchmarked models ({', '.join(cfg.models)})")


def _options(curve: Curve, budget: float, cfg: BenchConfig) -> pipeline.EncodeOptions:
    """The encoder options of one of our points."""
    rd = curve.rd
    return pipeline.EncodeOptions(
        model=curve.model,
        bpp=budget,
        preset=cfg.preset,
        epochs=cfg.epochs,
        device=cfg.device,
        seed=cfg.seed,
        rd=rd,
        yuv=curve.yuv,
        time=cfg.time,
    )


def load_clip(path: str | None, cfg: BenchConfig) -> tuple[str, Video]:
    """A clip by path (or Bunny for None) through the input door, cropped and downscaled as
    configured; returns (name, video)."""
    on_gpu = pipeline.resolve_device(cfg.device).type == "cuda"
    video = prepare_video(path, frames=cfg.frames, crop=cfg.crop, scale=cfg.scale, on_gpu=on_gpu)
    if path is None:
        crop = cfg.crop or SAMPLE_CROP
        base = "bunny" if video.source != "synthetic" else "synthetic"
        return f"{base}-{crop[0]}x{crop[1]}-s{sample_scale(cfg.scale, on_gpu)}-{video.num_frames}f", video
    return f"{Path(path).stem}-{video.height}x{video.width}-{video.num_frames}f", video


def environment() -> dict[str, Any]:
    """Versions and machine, recorded in every row."""
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                cwd=Path(__file__).parent,
                timeout=10,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    probe = np.zeros((2, 16, 16, 3), np.uint8)
    versions = {a: run_anchor(probe, Fraction(25), codec, 30.0).version for a, codec in ANCHORS.items()}
    return {
        "nvcodec": __version__,
        "torch": torch.__version__,
        "pyav": av.__version__,
        "libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
        "git_commit": commit,
        "x264_version": versions["x264"],
        "x265_version": versions["x265"],
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _our_row(name: str, curve: Curve, budget: float, cfg: BenchConfig, epochs: int | None) -> dict:
    """The identifying fields of one of our points (``codec`` and ``curve``: its label)."""
    return {
        "clip": name,
        "kind": "nvcodec",
        "codec": curve.label,
        "curve": curve.label,
        "model": curve.model,
        "compression": curve.compression,
        "preset": cfg.our_preset,
        "pix_fmt": "rgb24",
        "budget": budget,
        "epochs": epochs,
    }


def _our_point(name: str, video: Video, curve: Curve, budget: float, cfg: BenchConfig, reporter: Reporter) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "point.nrv"
        report = pipeline.encode_video(video, path, _options(curve, budget, cfg), reporter)
        start = time.perf_counter()
        _, decoded = pipeline.decode_frames(path, device=cfg.device)
        decode_seconds = time.perf_counter() - start
        own = pipeline.decode_planes(path, device=cfg.device)[1] if report.coding != "rgb" else None
    row = {
        **_our_row(name, curve, budget, cfg, report.epochs),
        "crf": None,
        "bytes": report.bytes,
        "encode_seconds": report.encode_seconds,
        "decode_fps": video.num_frames / decode_seconds,
        "device": report.device,
        "encoder_version": f"nvcodec {__version__}",
        "kmac_per_pixel": report.kmac_per_pixel,
    }
    row.update(measure(video.frames, decoded, 8 * report.bytes))
    row.update(plane_metrics(video, decoded, 8 * report.bytes, own), **_geometry(video))
    return row


def _geometry(video: Video) -> dict:
    """The coded clip's frames, size and frame rate, as every row records them."""
    return {"frames": video.num_frames, "width": video.width, "height": video.height, "frame_rate": float(video.fps)}


def _anchor_point(name: str, video: Video, anchor: str, pix_fmt: str, target: float, cfg: BenchConfig) -> dict:
    planes = video_planes(video) if video.pix_fmt == pix_fmt else None  # the source's own, not via RGB
    p = anchors.anchor_at_bpp(
        video.frames, video.fps, ANCHORS[anchor], target, cfg.anchor_preset, pix_fmt, planes=planes
    )
    row = {
        "clip": name,
        "kind": "anchor",
        "codec": anchor,
        "curve": f"{anchor} {cfg.anchor_preset} {pix_fmt}",
        "preset": cfg.anchor_preset,
        "pix_fmt": pix_fmt,
        "budget": target,
        "crf": p.crf,
        "epochs": None,
        "bytes": p.bits // 8,
        "encode_seconds": p.encode_seconds,
        "decode_fps": video.num_frames / max(p.decode_seconds, 1e-9),
        "device": "cpu",
        "encoder_version": p.version,
    }
    row.update(measure(video.frames, p.decoded, p.bits))
    own = p.planes if p.pix_fmt == (video.pix_fmt or RGB_SOURCE_PIX_FMT) else None
    row.update(plane_metrics(video, p.decoded, p.bits, own), **_geometry(video))
    return row


def point_key(clip: str, codec: str, preset: str, pix_fmt: str, budget: float, epochs: int | None) -> tuple:
    """What identifies a point for ``--resume``: the same key from a stored row and from a planned job."""
    return (clip, codec, preset, pix_fmt, round(budget, 6), epochs)


def _row_key(row: dict, cfg: BenchConfig) -> tuple:
    epochs = None if cfg.epochs is None else row["epochs"]  # planned by the preset or in time: any epochs
    return point_key(row["clip"], row["codec"], row["preset"], row["pix_fmt"], row["budget"], epochs)


@dataclass(frozen=True)
class Job:
    """One point to measure on clip ``clip`` at ``budget`` bpp: one of our curves (``curve``), or an
    anchor (``anchor``, with the target bpp of its CRF search, in ``pix_fmt``)."""

    clip: str
    video: Video
    budget: float
    curve: Curve | None = None
    anchor: str = ""
    pix_fmt: str = ""

    @property
    def codec(self) -> str:
        """What rows call the codec: the curve's label or the anchor's name."""
        return self.curve.label if self.curve else self.anchor

    def key(self, cfg: BenchConfig) -> tuple:
        """The resume key this job's row will have."""
        if self.curve is None:
            return point_key(self.clip, self.anchor, cfg.anchor_preset, self.pix_fmt, self.budget, None)
        return point_key(self.clip, self.curve.label, cfg.our_preset, "rgb24", self.budget, cfg.epochs)


def anchor_targets(bpps: tuple[float, ...]) -> list[float]:
    """Our budgets, plus half and a quarter of the smallest, so the anchors' quality range meets ours."""
    low = min(bpps)
    return sorted({*bpps, low / 2, low / 4})


def _curve_of(row: dict) -> Curve:
    """A row's curve from its fields (rows of result files written before they carried them: from
    the label)."""
    if "model" in row and "compression" in row:
        return Curve(row["model"], row["compression"])
    return Curve.parse(row["curve"])


def _post_curve(target: Curve, curves: dict[Curve, str]) -> list[str]:
    """The label of the post-training curve to compare ``target`` with: its model's ``post``
    curve, else, for an ``rd`` curve, its model's default one (results from before the fit was the
    default); none if the run lacks it."""
    wanted = [Curve(target.model, "post")] + ([Curve(target.model)] if target.compression == "rd" else [])
    return [curves[c] for c in wanted if c != target and c in curves][:1]


def bd_table(rows: list[dict], references: tuple[str, ...] = ()) -> list[dict]:
    """BD-rate and BD-quality of every model curve against every anchor curve, per clip and metric,
    against the post-training curve of its model (``name+post``, or ``name`` for ``name+rd``) when
    the run has it, and against each of the ``references`` model curves but itself."""
    out = []
    points = [r for r in rows if "error" not in r]
    for clip in sorted({r["clip"] for r in points}):
        curves: dict[str, list[dict]] = {}
        for r in points:
            if r["clip"] == clip:
                curves.setdefault(r["curve"], []).append(r)
        models = [c for c, pts in curves.items() if pts[0]["kind"] == "nvcodec"]
        anchors = [c for c, pts in curves.items() if pts[0]["kind"] == "anchor"]
        ours = {_curve_of(curves[m][0]): m for m in models}
        for model in models:
            post = _post_curve(_curve_of(curves[model][0]), ours)
            others = [r for r in references if r in curves and r != model and r not in post]
            for anchor in anchors + post + others:
                for metric in ("psnr", "psnr_yuv", "ms_ssim"):
                    a = [(r["bpp"], r[metric]) for r in curves[anchor] if r.get(metric) is not None]
                    t = [(r["bpp"], r[metric]) for r in curves[model] if r.get(metric) is not None]
                    if not (a and t):
                        continue
                    m = bd_metrics(a, t)
                    out.append(
                        {
                            "clip": clip,
                            "model": model,
                            "anchor": anchor,
                            "metric": metric,
                            "bd_rate_percent": m["bd_rate_percent"],
                            "bd_psnr_db": m["bd_psnr_db"] if metric.startswith("psnr") else None,
                            "bd_quality": m["bd_psnr_db"],
                            "note": m["note"],
                        }
                    )
    return out


def write_outputs(rows: list[dict], cfg: BenchConfig, env: dict) -> dict:
    """results.json, results.csv, one rd_<clip>.png and .svg and the curves in CompressAI's layout
    (``compressai/<clip>/<curve>.json``, :mod:`~nvcodec.bench.compressai`); returns the JSON object."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    result = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in cfg.__dict__.items()},
        "environment": env,
        "points": rows,
        "bd_rate": bd_table(rows, cfg.references),
    }
    text = json.dumps(result, indent=1) + "\n"
    write_atomic(cfg.out / "results.json", lambda p: p.write_text(text))
    columns = sorted({k for r in rows for k in r})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(cfg.out / "results.csv", lambda p: p.write_text(buf.getvalue()))
    anchor_curves = {r["curve"] for r in rows if r["kind"] == "anchor"}
    bd_rows = [b for b in result["bd_rate"] if b["anchor"] in anchor_curves]
    for clip in sorted({r["clip"] for r in rows if "error" not in r}):
        for fmt in ("png", "svg"):
            draw = lambda p, c=clip, f=fmt: plot_clip(rows, c, p, f, bd_rows, cfg.rate_axis)  # noqa: E731
            write_atomic(cfg.out / f"rd_{clip}.{fmt}", draw)
    for name, curve in compressai_results(rows).items():
        (cfg.out / "compressai" / name).parent.mkdir(parents=True, exist_ok=True)
        curve_text = json.dumps(curve, indent=1) + "\n"
        write_atomic(cfg.out / "compressai" / name, lambda p, t=curve_text: p.write_text(t))
    return result


def _previous(cfg: BenchConfig) -> dict[tuple, dict]:
    path = cfg.out / "results.json"
    if not (cfg.resume and path.is_file()):
        return {}
    try:
        old = json.loads(path.read_text())
        rows, env = old["points"], old.get("environment", {})
    except (ValueError, KeyError, TypeError, AttributeError):
        raise NvcError(f"{path}: cannot resume: not a results file of this benchmark") from None
    for r in rows:  # rows from runs that kept versions only at the top level get them from that run
        for k, v in env.items():
            r.setdefault(k, v)
    return {_row_key(r, cfg): r for r in rows}


def _plan(cfg: BenchConfig, clips: list[tuple[str, Video]]) -> list[Job]:
    jobs: list[Job] = []
    for name, video in clips:
        for why in filter(None, (check_frame_size(a, video.height, video.width) for a in cfg.anchors)):
            raise NvcError(f"{name}: {why}")
        jobs += [Job(name, video, b, curve=c) for c in cfg.curves for b in cfg.bpps]
        jobs += [
            Job(name, video, t, anchor=a, pix_fmt=f)
            for a in cfg.anchors
            for f in cfg.anchor_pix_fmts
            for t in anchor_targets(cfg.bpps)
        ]
    return jobs


def run_bench(cfg: BenchConfig, reporter: Reporter | None = None) -> dict:
    """Run every point not already done (with ``resume``), writing results after each one."""
    reporter = reporter or Reporter()
    check_config(cfg)
    clips = [load_clip(c, cfg) for c in (cfg.clips or (None,))]
    env = environment()
    done = _previous(cfg)
    jobs = _plan(cfg, clips)
    rows: list[dict] = []
    overall = reporter.start("bench", len(jobs))
    for job in jobs:
        key = job.key(cfg)
        if key in done:
            rows.append(done[key])
        else:
            rows.append({**_run_job(job, cfg, reporter), **env})
            write_outputs(rows, cfg, env)
        reporter.advance(1, task=overall, point=f"{job.codec} {job.budget:g}")
    return write_outputs(rows, cfg, env)


def _run_job(job: Job, cfg: BenchConfig, reporter: Reporter) -> dict:
    if job.curve is None:
        return _anchor_point(job.clip, job.video, job.anchor, job.pix_fmt, job.budget, cfg)
    try:
        return _our_point(job.clip, job.video, job.curve, job.budget, cfg, reporter)
    except NvcError as exc:  # an infeasible budget is a result, not a crash
        reporter.note(f"{job.codec} at {job.budget:g} bpp: {exc}")
        return {**_our_row(job.clip, job.curve, job.budget, cfg, cfg.epochs), "error": str(exc)}
