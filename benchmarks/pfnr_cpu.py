"""PFNR archives against separate files, on the CPU (the issue's ``benchmarks/pfnr-cpu``).

Clips: Big Buck Bunny (640x1280 centre crop box-downscaled x8 to 80x160) cut into 4 segments of
33 frames, then one synthetic clip of 33 frames at the same size (unrelated content). For each
budget (and capacity), the clips are coded in turn into one archive: ``encode --model pfnr`` for
the first, ``append`` for the others, every one at the same --bpp. After each append every earlier
video is decoded again and compared bit for bit with its decode before the append.

Then the same clips are coded as separate NeRV and HNeRV files whose budget is the archive's real
total size spread evenly (bpp = archive bytes x 8 / all pixels), so the separate files together
are never larger than the archive. Every PSNR is measured on frames decoded from the real file.

Writes benchmarks/results/pfnr-cpu.json. Usage:
    python benchmarks/pfnr_cpu.py [--epochs 100] [--budgets 0.2,0.4] [--capacities 0.5,0.3]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from statistics import mean

import numpy as np
import torch

from nvcodec import __version__, pipeline
from nvcodec.errors import NvcError
from nvcodec.io import Video, prepare_video, synthetic_clip
from nvcodec.progress import RichReporter

RESULTS = Path(__file__).parent / "results" / "pfnr-cpu.json"
SEGMENTS, SEGMENT_FRAMES = 4, 33


def clips(scale: int) -> list[Video]:
    """Four consecutive Bunny segments and one synthetic clip, all the same size."""
    full = prepare_video(None, scale=scale)
    out = []
    for i in range(SEGMENTS):
        v = copy.copy(full)
        v.frames = full.frames[i * SEGMENT_FRAMES : (i + 1) * SEGMENT_FRAMES]
        v.source = f"bunny[{i * SEGMENT_FRAMES}:{(i + 1) * SEGMENT_FRAMES}]"
        out.append(v)
    synth = copy.copy(full)
    synth.frames = synthetic_clip(SEGMENT_FRAMES, full.height, full.width, seed=7)
    synth.source = "synthetic"
    return out + [synth]


def _row(video: Video, report: pipeline.EncodeReport, seconds: float) -> dict:
    return {
        "clip": video.source,
        "bytes": report.bytes,
        "bpp": report.bpp,
        "psnr": report.psnr,
        "ms_ssim": report.ms_ssim,
        "weight_bits": report.weight_bits,
        "encode_seconds": seconds,
        "notes": report.notes,
    }


def archive_run(videos: list[Video], budget: float, capacity: float, epochs: int, reporter, tmp: Path) -> dict:
    """Code the clips into one archive; check earlier videos after every append."""
    path, rows, decoded, identical = tmp / "archive.nrv", [], [], True
    for i, video in enumerate(videos):
        opts = pipeline.EncodeOptions(model="pfnr", bpp=budget, epochs=epochs, device="cpu")
        start = time.perf_counter()
        if i == 0:
            report = pipeline.encode_video(video, path, replace(opts, capacity=capacity), reporter)
        else:
            report = pipeline.append_video(path, video, opts, reporter)
        rows.append(_row(video, report, time.perf_counter() - start))
        for k, frames in enumerate(decoded):
            identical &= bool(np.array_equal(pipeline.decode_frames(path, device="cpu", video=k)[1], frames))
        decoded.append(pipeline.decode_frames(path, device="cpu", video=i)[1])
    info = pipeline.file_info(path)
    return {"bytes": info["bytes"], "bpp": info["bpp"], "earlier_videos_identical": identical, "videos": rows}


def separate_run(videos: list[Video], model: str, bpp: float, epochs: int, reporter, tmp: Path) -> dict:
    """Code each clip as its own file at ``bpp`` (a clip whose smallest file exceeds it is recorded
    with the encoder's error and no PSNR)."""
    rows = []
    for video in videos:
        start = time.perf_counter()
        opts = pipeline.EncodeOptions(model=model, bpp=bpp, epochs=epochs, device="cpu")
        try:
            report = pipeline.encode_video(video, tmp / f"{model}.nrv", opts, reporter)
        except NvcError as exc:
            rows.append({"clip": video.source, "bytes": 0, "bpp": None, "psnr": None, "error": str(exc)})
            continue
        rows.append(_row(video, report, time.perf_counter() - start))
    total = sum(r["bytes"] for r in rows)
    pixels = sum(v.num_frames * v.height * v.width for v in videos)
    return {"bytes": total, "bpp": 8 * total / pixels, "videos": rows}


def summary(run: dict) -> dict:
    """Total bytes, bpp and mean PSNR of each way of coding the clips."""
    out = {}
    for name in ("pfnr", "nerv", "hnerv"):
        r = run[name]
        psnrs = [v["psnr"] for v in r["videos"]]
        out[name] = {
            "bytes": r["bytes"],
            "bpp": r["bpp"],
            "mean_psnr": None if None in psnrs else mean(psnrs),
        }
    return out


def main() -> None:
    """Run every (budget, capacity) and write the result file."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--scale", type=int, default=8)
    ap.add_argument("--budgets", default="0.2,0.4")
    ap.add_argument("--capacities", default="0.5,0.3")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    videos, runs, started = clips(args.scale), [], time.perf_counter()
    reporter = RichReporter()
    try:
        for capacity in (float(c) for c in args.capacities.split(",")):
            for budget in (float(b) for b in args.budgets.split(",")):
                with tempfile.TemporaryDirectory() as tmp:
                    run = {"budget": budget, "capacity": capacity}
                    run["pfnr"] = archive_run(videos, budget, capacity, args.epochs, reporter, Path(tmp))
                    for model in ("nerv", "hnerv"):
                        run[model] = separate_run(videos, model, run["pfnr"]["bpp"], args.epochs, reporter, Path(tmp))
                run["summary"] = summary(run)
                runs.append(run)
                write(Path(args.out), runs, args, videos, time.perf_counter() - started)
    finally:
        reporter.close()


def write(out: Path, runs: list[dict], args: argparse.Namespace, videos: list[Video], seconds: float) -> None:
    """The result file: setting, machine and every run."""
    result = {
        "setting": {
            "clips": [f"{v.source}: {v.num_frames} frames {v.height}x{v.width}" for v in videos],
            "epochs": args.epochs,
            "archive": "encode --model pfnr for clip 0, append for the others, each at --bpp <budget>",
            "separate": "nerv / hnerv, one file per clip, --bpp = archive bytes x 8 / all pixels",
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "nvcodec": __version__,
        },
        "wall_seconds": seconds,
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
