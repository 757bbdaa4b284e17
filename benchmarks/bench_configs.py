"""Named benchmark configurations; ``python benchmarks/bench_configs.py NAME`` runs one and writes
benchmarks/results/NAME.json, NAME.csv and NAME.png (the RD plot).

* ``cpu-small``: Bunny 640x1280 centre crop box-downscaled x4 to 160x320, all 132 frames; HNeRV and
  NeRV at 0.05, 0.1, 0.2, 0.4 bpp (80 epochs, so the whole run fits in about an hour on 2 cores);
  x264 and x265 medium in yuv420p and yuv444p.
* ``rd-cpu``: the ``cpu-small`` setting for HNeRV as encoded by default (the rate–distortion fit)
  and as compressed before the fit (``hnerv+post``: ``--no-rd``); ``--reuse
  benchmarks/results/cpu-small.json --rename hnerv=hnerv+post`` keeps the points that run measured
  (its HNeRV curve was post-training compression) and the anchors, and runs only the new curve.
* ``rd-cpu-synthetic``: the same two HNeRV curves on the synthetic clip (132 frames made at 160x320,
  box-downscaled x2 to 80x160) at 0.1, 0.2, 0.4 bpp, 80 epochs, against x264/x265 medium yuv420p.
* ``rd-cpu-qcif``: the same two HNeRV curves on a short, small synthetic clip (60 frames made at
  288x352 with another seed, box-downscaled x2 to 144x176, whose preferred embedding grid has 4x5
  cells) at 0.05, 0.1, 0.2 bpp, 80 epochs, against x264/x265 medium yuv420p.
* ``hinerv-cpu``: the ``cpu-small`` setting, HiNeRV against HNeRV (both with the rate–distortion
  fit, the same 80 epochs) and against the codec before the fit (``hnerv+post``) at 0.05, 0.1,
  0.2, 0.4 bpp, with x264/x265 medium in both pixel formats; ``--reuse
  benchmarks/results/rd-cpu.json`` keeps that run's HNeRV points and anchors.
* ``hinerv-cpu-synthetic``: the same on the ``rd-cpu-synthetic`` clip at 0.1, 0.2, 0.4 bpp
  (``--reuse benchmarks/results/rd-cpu-synthetic.json``).
* ``gpu-full``: Bunny 640x1280, all 132 frames; HNeRV and NeRV at 0.01, 0.02, 0.05, 0.1 bpp with 300
  epochs on CUDA; x264 and x265 medium in both pixel formats.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

from nvcodec.bench import BenchConfig
from nvcodec.bench.runner import run_bench
from nvcodec.io import synthetic_clip, write_video
from nvcodec.progress import RichReporter

RESULTS = Path(__file__).parent / "results"
CONFIGS = {
    "cpu-small": dict(
        models=("hnerv", "nerv"),
        bpps=(0.05, 0.1, 0.2, 0.4),
        epochs=80,
        crop=(640, 1280),
        scale=4,
        anchor_pix_fmts=("yuv420p", "yuv444p"),
        device="cpu",
    ),
    "rd-cpu": dict(
        models=("hnerv+post", "hnerv"),
        bpps=(0.05, 0.1, 0.2, 0.4),
        epochs=80,
        crop=(640, 1280),
        scale=4,
        anchor_pix_fmts=("yuv420p", "yuv444p"),
        device="cpu",
    ),
    "rd-cpu-synthetic": dict(
        models=("hnerv+post", "hnerv"),
        bpps=(0.1, 0.2, 0.4),
        epochs=80,
        scale=2,
        anchor_pix_fmts=("yuv420p",),
        device="cpu",
    ),
    "rd-cpu-qcif": dict(
        models=("hnerv+post", "hnerv"),
        bpps=(0.05, 0.1, 0.2),
        epochs=80,
        scale=2,
        anchor_pix_fmts=("yuv420p",),
        device="cpu",
    ),
    "hinerv-cpu": dict(
        models=("hinerv", "hnerv", "hnerv+post"),
        references=("hnerv", "hnerv+post"),
        bpps=(0.05, 0.1, 0.2, 0.4),
        epochs=80,
        crop=(640, 1280),
        scale=4,
        anchor_pix_fmts=("yuv420p", "yuv444p"),
        device="cpu",
    ),
    "hinerv-cpu-synthetic": dict(
        models=("hinerv", "hnerv", "hnerv+post"),
        references=("hnerv", "hnerv+post"),
        bpps=(0.1, 0.2, 0.4),
        epochs=80,
        scale=2,
        anchor_pix_fmts=("yuv420p",),
        device="cpu",
    ),
    "gpu-full": dict(
        models=("hnerv", "nerv"),
        bpps=(0.01, 0.02, 0.05, 0.1),
        epochs=300,
        crop=(640, 1280),
        scale=1,
        anchor_pix_fmts=("yuv420p", "yuv444p"),
        device="cuda",
    ),
}
SYNTHETIC = {
    "rd-cpu-synthetic": (132, 160, 320, 7),
    "hinerv-cpu-synthetic": (132, 160, 320, 7),
    "rd-cpu-qcif": (60, 288, 352, 11),
}
"""Configurations run on the synthetic clip: frames, height, width, seed (then downscaled by ``scale``)."""


def main() -> None:
    """Run the named configuration and copy its outputs to benchmarks/results/."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(CONFIGS))
    ap.add_argument("--work", help="working directory (kept, allows --resume); default: a temporary one")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument(
        "--reuse", type=Path, help="a committed results JSON whose matching points are kept (implies --resume)"
    )
    ap.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="with --reuse: reused points of our model curve OLD count as NEW (hnerv=hnerv+post for results "
        "measured when hnerv's default was post-training compression)",
    )
    args = ap.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix=f"nvcodec-{args.name}-"))
    settings = dict(CONFIGS[args.name])
    if args.reuse:
        work.mkdir(parents=True, exist_ok=True)
        _reuse(args.reuse, work / "results.json", dict(r.split("=", 1) for r in args.rename), settings["models"])
        args.resume = True
    if args.name in SYNTHETIC:  # a lossless file of the synthetic clip, so it goes in through the input door
        frames, height, width, seed = SYNTHETIC[args.name]
        clip = work / f"synthetic-{height}x{width}.mkv"
        work.mkdir(parents=True, exist_ok=True)
        write_video(clip, synthetic_clip(frames, height, width, seed=seed), Fraction(25, 1))
        settings["clips"] = (str(clip),)
    cfg = BenchConfig(out=work, resume=args.resume, **settings)
    reporter = RichReporter()
    try:
        run_bench(cfg, reporter)
    finally:
        reporter.close()
    RESULTS.mkdir(exist_ok=True)
    shutil.copy(work / "results.json", RESULTS / f"{args.name}.json")
    shutil.copy(work / "results.csv", RESULTS / f"{args.name}.csv")
    pngs = sorted(work.glob("rd_*.png"))
    if pngs:
        shutil.copy(pngs[0], RESULTS / f"{args.name}.png")


def _reuse(source: Path, target: Path, renames: dict[str, str], models: tuple[str, ...]) -> None:
    """Copy ``source``'s points to ``target``: anchors as they are, our points renamed by
    ``renames`` and kept only for the configuration's ``models``."""
    data = json.loads(source.read_text())
    kept = []
    for row in data["points"]:
        if row.get("kind") == "nvcodec":
            name = renames.get(row["codec"], row["codec"])
            if name not in models:
                continue
            row = {**row, "codec": name, "curve": renames.get(row["curve"], row["curve"])}
        kept.append(row)
    target.write_text(json.dumps({**data, "points": kept}, indent=1))


if __name__ == "__main__":
    main()
