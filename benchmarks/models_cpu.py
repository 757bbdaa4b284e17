"""Model-zoo ablation on the CPU: every model at the same parameter budgets, equal epochs, several
seeds, on Big Buck Bunny (640x1280 centre crop box-downscaled to 80x160 by default, all 132 frames).

For each run: PSNR / MS-SSIM of the fitted model (float) and of the decoded file (after 8-bit
weights, 6-bit embeddings, entropy coding), bpp of the real file, encode seconds, decode fps.
Writes benchmarks/results/models-cpu.json with ``gain_over_hnerv_db``: per model, the mean over
budgets and seeds of its PSNR after compression minus HNeRV's at the same budget and seed.

Usage: python benchmarks/models_cpu.py [--epochs 40] [--scale 8] [--budgets 100000,300000]
       [--seeds 0,1] [--models hnerv,hfe-hnerv,...] [--resume]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from statistics import mean

import torch

from nvcodec import __version__, pipeline
from nvcodec.io import prepare_video
from nvcodec.progress import RichReporter

RESULTS = Path(__file__).parent / "results" / "models-cpu.json"
MODELS = ("hnerv", "hfe-hnerv", "hfs-hnerv", "snerv", "snerv-t", "pnerv")


def run(video, model: str, params: int, seed: int, epochs: int, reporter) -> dict:
    """Encode one model at one budget and seed; decode it and time the decode."""
    opts = pipeline.EncodeOptions(model=model, bpp=None, params=params, epochs=epochs, seed=seed, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.nrv"
        report = pipeline.encode_video(video, path, opts, reporter)
        start = time.perf_counter()
        pipeline.decode_frames(path, device="cpu")
        decode_seconds = time.perf_counter() - start
    row = {k: v for k, v in report.to_json().items() if k != "notes"}
    row.update(budget=params, seed=seed, decode_fps=video.num_frames / decode_seconds)
    return row


def summarize(rows: list[dict]) -> tuple[dict, dict]:
    """Per (model, budget) means, and each model's mean PSNR gain over HNeRV after compression."""
    table: dict = {}
    for r in rows:
        table.setdefault(r["model"], {}).setdefault(str(r["budget"]), []).append(r)
    means = {
        m: {
            b: {
                k: mean(r[k] for r in rs)
                for k in ("psnr", "fit_psnr", "ms_ssim", "fit_ms_ssim", "bpp", "params", "decode_fps", "encode_seconds")
            }
            for b, rs in per.items()
        }
        for m, per in table.items()
    }
    base = {(r["budget"], r["seed"]): r["psnr"] for r in rows if r["model"] == "hnerv"}
    gains = {}
    for m in table:
        diffs = [
            r["psnr"] - base[(r["budget"], r["seed"])]
            for r in rows
            if r["model"] == m and (r["budget"], r["seed"]) in base
        ]
        if diffs:
            gains[m] = mean(diffs)
    return means, gains


def main() -> None:
    """Run the grid (skipping finished runs with --resume) and write the result file."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--scale", type=int, default=8)
    ap.add_argument("--budgets", default="100000,300000")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    video = prepare_video(None, scale=args.scale)
    out = Path(args.out)
    old = json.loads(out.read_text()) if args.resume and out.is_file() else {}
    rows = old.get("runs", [])
    earlier = old.get("wall_seconds", old.get("wall_seconds_this_invocation", 0.0))
    done = {(r["model"], r["budget"], r["seed"]) for r in rows}
    grid = [
        (m, int(b), int(s))
        for b in args.budgets.split(",")
        for s in args.seeds.split(",")
        for m in args.models.split(",")
    ]
    started = time.perf_counter()
    reporter = RichReporter()
    try:
        for model, budget, seed in grid:
            if (model, budget, seed) not in done:
                rows.append(run(video, model, budget, seed, args.epochs, reporter))
                write(out, rows, args, video, earlier + time.perf_counter() - started)
    finally:
        reporter.close()
    write(out, rows, args, video, earlier + time.perf_counter() - started)


def write(out: Path, rows: list[dict], args: argparse.Namespace, video, seconds: float) -> None:
    """The result file: setting, machine, every run, per-model means and the gains over HNeRV
    (``wall_seconds``: the running time of every invocation that added runs, summed)."""
    means, gains = summarize(rows)
    result = {
        "setting": {
            "clip": f"{video.source}: {video.prepared} -> {video.height}x{video.width}, {video.num_frames} frames",
            "epochs": args.epochs,
            "budgets_params": args.budgets,
            "seeds": args.seeds,
            "compression": "no pruning, 8-bit weights, 6-bit embeddings, entropy-coded (--params mode)",
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "nvcodec": __version__,
        },
        "wall_seconds": seconds,
        "gain_over_hnerv_db": gains,
        "means": means,
        "runs": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
