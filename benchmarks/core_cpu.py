"""First measured points: Big Buck Bunny (640x1280 centre crop, box-downscaled x4 to 160x320, all 132
frames) encoded at several bpp budgets on the CPU, decoded back, measured on the decoded frames.

Usage: python benchmarks/core_cpu.py [--budgets 0.05,0.1,0.2] [--model hnerv] [--preset medium]
Writes benchmarks/results/core-cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from nvcodec import __version__, pipeline
from nvcodec.io import prepare_video, read_video
from nvcodec.metrics import mean_psnr
from nvcodec.progress import RichReporter

RESULTS = Path(__file__).parent / "results"


def run_point(video, model: str, budget: float, preset: str, workdir: Path) -> dict:
    """Encode at one budget, decode to a lossless .mkv, and measure what was decoded."""
    out, rec = workdir / f"{model}-{budget}.nrv", workdir / f"{model}-{budget}.mkv"
    reporter = RichReporter()
    try:
        report = pipeline.encode_video(
            video, out, pipeline.EncodeOptions(model=model, bpp=budget, preset=preset, device="cpu"), reporter
        )
        dec = pipeline.decode_file(out, rec, device="cpu", reporter=reporter)
    finally:
        reporter.close()
    decoded = read_video(rec).frames
    row = report.to_json()
    row.update(
        budget=budget,
        preset=preset,
        decode_seconds=dec.decode_seconds,
        decode_fps=dec.decode_fps,
        psnr_decoded_file=mean_psnr(video.frames, decoded),
    )
    return row


def main() -> None:
    """Run every budget and write the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--budgets", default="0.05,0.1,0.2")
    ap.add_argument("--model", default="hnerv")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--out", default=str(RESULTS / "core-cpu.json"))
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    video = prepare_video(None, scale=4)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for budget in (float(b) for b in args.budgets.split(",")):
            rows.append(run_point(video, args.model, budget, args.preset, Path(tmp)))
            print(json.dumps(rows[-1]))
    result = {
        "clip": f"{video.source}: {video.prepared} -> {video.height}x{video.width}, {video.num_frames} frames",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "nvcodec": __version__,
        },
        "date": time.strftime("%Y-%m-%d"),
        "points": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
