"""CPU speed of the fit and the decoder, each speed switch off and on in one run.

Measures, for each model at 160x320 (Big Buck Bunny reduced x4, or the synthetic clip without it),
sized for 0.05 bpp:

* the machine's ceiling: GFLOP/s of a 2048 x 2048 float32 matrix product (best of 3);
* training frames per second of the rate–distortion encode (half its epochs distortion-only
  steps, half rate–distortion steps), timed over a few steps on copies of one initialised model,
  with the switches as the code was before (per-tensor Adam, the rate term priced every step), each
  switch alone, and all of them, the variants interleaved for ``--rounds`` rounds and each step
  time the least of its rounds (the machine's speed drifts by tens of percent over minutes); the
  ratio all / before; the fit's achieved GFLOP/s (FLOPs of one distortion step counted by torch's
  FlopCounterMode, divided by its time);
* decode frames per second at 160x320 and 640x1280 (the decoder's render, batches of 4);
* with ``--time S``: PSNR and bpp of a whole ``--time S`` encode with the switches before and after.

The switches are :data:`nvcodec.pipeline.options.FUSED_ADAM` (Adam's fused kernel) and
:data:`nvcodec.pipeline.rd.RATE_EVERY` (the rate term every few steps); this script sets them.

Usage: python benchmarks/speed_cpu.py [--models hnerv,hinerv] [--steps 12] [--rounds 3] [--time 120]
Writes benchmarks/results/speed-cpu.json.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import platform
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from nvcodec import __version__, pipeline
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.fit.rd import RateModel, RDConfig, fit_rd
from nvcodec.format import VideoMeta
from nvcodec.io import Video, prepare_video
from nvcodec.pipeline import options as options_module
from nvcodec.pipeline import rd as rd_module
from nvcodec.progress import Reporter
from nvcodec.render import render

RESULTS = Path(__file__).parent / "results"
BUDGET = 0.05
SWITCHES = {"before": (False, 1), "fused adam": (True, 1), "rate every 4": (False, 4), "all": (True, 4)}
"""Variants: (Adam fused, rate term every k steps)."""


def ceiling_gflops(n: int = 2048) -> float:
    """Best of three timings of an n x n float32 matrix product, in GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(3))
    return 2 * n**3 / best / 1e9


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _build(model: str, video: Video) -> tuple[torch.nn.Module, FrameSource, RDConfig, pipeline.EncodeOptions]:
    options = pipeline.EncodeOptions(model=model, bpp=BUDGET, device="cpu")
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config = rd_module._size(video, options, meta)
    torch.manual_seed(0)
    net = options.spec.build(config, with_encoder=True)
    source = FrameSource(torch.from_numpy(np.ascontiguousarray(video.frames)), (config.height, config.width))
    pixels = video.num_frames * video.height * video.width
    return net, source, RDConfig(pixels, BUDGET, rd_module.LAMBDA_START), options


def step_seconds(model: str, video: Video, fused: bool, every: int, steps: int) -> dict:
    """Seconds per distortion step and per rate–distortion step of one variant, and the frames per
    second of an encode that spends half its epochs in each."""
    net, source, rd, options = _build(model, video)
    cfg = dataclasses.replace(options.fit_config(1), fused=fused)
    twin, quiet = copy.deepcopy(net), Reporter()
    fit(twin, source, dataclasses.replace(cfg, max_steps=2), quiet)
    fit_s = _seconds(lambda: fit(twin, source, dataclasses.replace(cfg, max_steps=steps), quiet)) / steps
    rate = RateModel(twin, export_embeddings(twin, source))
    rate.attach(twin)
    rd = dataclasses.replace(rd, rate_every=every)
    fit_rd(twin, rate, source, dataclasses.replace(cfg, max_steps=2), rd, quiet)
    rd_s = _seconds(lambda: fit_rd(twin, rate, source, dataclasses.replace(cfg, max_steps=steps), rd, quiet)) / steps
    return {"fit_step_s": fit_s, "rd_step_s": rd_s, "train_fps": 2.0 / (fit_s + rd_s)}


def _least(rows) -> dict:
    """Per field, the least step time over rounds, and the frames per second they give."""
    rows = list(rows)
    fit_s, rd_s = min(r["fit_step_s"] for r in rows), min(r["rd_step_s"] for r in rows)
    return {"fit_step_s": fit_s, "rd_step_s": rd_s, "train_fps": 2.0 / (fit_s + rd_s), "rounds": len(rows)}


def fit_gflops(model: str, video: Video, seconds_per_step: float) -> dict:
    """FLOPs of one distortion step (forward and backward) and the GFLOP/s it achieves."""
    net, source, _, options = _build(model, video)
    counter = FlopCounterMode(display=False)
    with counter:
        fit(net, source, dataclasses.replace(options.fit_config(1), max_steps=1), Reporter())
    flops = counter.get_total_flops()
    return {"step_gflop": flops / 1e9, "achieved_gflops": flops / seconds_per_step / 1e9}


def decode_fps(model: str, height: int, width: int, frames: int = 16) -> float:
    """Frames per second of the decoder's render of a freshly built model sized for a clip of
    ``frames`` frames of ``height`` x ``width`` at 0.05 bpp."""
    clip = Video(np.zeros((frames, height, width, 3), np.uint8), Fraction(25, 1), "zeros")
    net, source, _, _ = _build(model, clip)
    net.eval()
    embeddings = export_embeddings(net, source)
    work = lambda: list(render(net, embeddings, list(range(frames)), (height, width), torch.device("cpu")))  # noqa: E731
    work()
    return frames / _seconds(work)


def timed_encode(model: str, video: Video, seconds: float, fused: bool, every: int) -> dict:
    """A ``--time`` encode with the switches set as given."""
    options_module.FUSED_ADAM, rd_module.RATE_EVERY = fused, every
    with tempfile.TemporaryDirectory() as tmp:
        options = pipeline.EncodeOptions(model=model, bpp=BUDGET, time=seconds, device="cpu")
        report = pipeline.encode_video(video, Path(tmp) / "t.nrv", options)
    return {k: getattr(report, k) for k in ("epochs", "bpp", "psnr", "ms_ssim", "encode_seconds", "planned_seconds")}


def main() -> None:
    """Measure every model and write the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", default="hnerv,hinerv")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time", type=float, default=0.0, help="seconds of the timed encodes (0: none)")
    ap.add_argument("--out", default=str(RESULTS / "speed-cpu.json"))
    args = ap.parse_args()
    video = prepare_video(None, scale=4)
    result = {
        "nvcodec": __version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads",
        "clip": f"{video.source} {video.num_frames}x{video.height}x{video.width}",
        "budget_bpp": BUDGET,
        "ceiling_gflops": ceiling_gflops(),
        "models": {},
    }
    for model in args.models.split(","):
        rounds = [
            {n: step_seconds(model, video, f, k, args.steps) for n, (f, k) in SWITCHES.items()}
            for _ in range(args.rounds)
        ]
        row = {n: _least(r[n] for r in rounds) for n in SWITCHES}
        row["ratio_all_over_before"] = row["all"]["train_fps"] / row["before"]["train_fps"]
        row["flops"] = fit_gflops(model, video, row["all"]["fit_step_s"])
        row["decode_fps"] = {f"{h}x{w}": decode_fps(model, h, w) for h, w in ((160, 320), (640, 1280))}
        if args.time:
            row["timed"] = {n: timed_encode(model, video, args.time, *SWITCHES[n]) for n in ("before", "all")}
        result["models"][model] = row
        print(json.dumps({model: row}, indent=1), flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
