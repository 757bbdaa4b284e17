"""Camera motion: each arm encodes each clip at ``--time`` T and three budgets, and the BD-rate of
the motion model against the same model without motion, against today's default and against x265
medium (yuv420p) is taken at equal time; the side bytes of the maps are read from each file.

Arms (:data:`ARMS`): ``hnerv``, ``hinerv`` (hinerv-mc's network, no motion), ``hinerv-mc``
(rotzoom camera, the default), ``canvas`` (latent canvas, rotzoom camera) and ``canvas none`` (the
same model without motion: a frame-sized canvas, time steps as its mosaics need), ``auto`` (the
encoder's choice between canvas and hnerv), the camera-model ablations ``hinerv-mc translation``,
``hinerv-mc affine``, ``canvas translation`` and ``canvas affine``, the precision ablations
``canvas 1/4 px`` and ``canvas 1 px`` (maps rounded to 1/4 and whole pixels, ``--motion-bits``),
each this tree's CLI in a fresh process, and ``a8df334`` (main when issue 28 was filed, as
``converge_cpu.py`` runs it). Clips (``benchmarks/clips.py``): shift, zoom, rotate and shake over
a still, a cut, the pan-and-zoom clip, the same pan and zoom over a photograph (photo), a shaking
camera over Bunny's moving frames (handheld: camera and scene both move), qcif and synthetic
(still cameras), and bunny (Bunny 160x320, its 132 frames); ``--clip NAME=PATH`` adds a video of
one's own (the real hand-held clips of ``docs/2026-12-06-motion.md``).
Every PSNR is measured here on the frames this tree's decoder renders from the written file.

    python benchmarks/motion_cpu.py --time 30 --arms canvas hnerv "canvas none" a8df334

writes ``benchmarks/results/motion-cpu.json`` (``--rerun`` replaces the rows of the arms and clips
asked for; ``--summarise`` only recomputes the file's summary and draws ``motion-cpu.png``). Run it
alone on the machine: every arm is timed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from clips import make_clips, motion_clips  # noqa: E402
from converge_cpu import BASELINE, anchors, baseline_tree, measured, this_commit  # noqa: E402

from nvcodec.bench.bdrate import bd_metrics  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BUDGETS = (0.1, 0.2, 0.4)
CLIPS = ("shift", "zoom", "rotate", "shake", "cut", "pan", "photo", "handheld", "qcif", "synthetic", "bunny")
MOVING = ("shift", "zoom", "rotate", "shake", "pan", "photo")
"""Clips with known camera motion and one shot (the target's clips)."""
ARMS: dict[str, list[str]] = {
    "hnerv": ["--model", "hnerv"],
    "hinerv": ["--model", "hinerv"],
    "hinerv-mc": ["--model", "hinerv-mc"],
    "hinerv-mc translation": ["--model", "hinerv-mc", "--camera", "translation"],
    "hinerv-mc affine": ["--model", "hinerv-mc", "--camera", "affine"],
    "canvas": ["--model", "canvas"],
    "canvas none": ["--model", "canvas", "--camera", "none"],
    "canvas translation": ["--model", "canvas", "--camera", "translation"],
    "canvas affine": ["--model", "canvas", "--camera", "affine"],
    "canvas 1/4 px": ["--model", "canvas", "--motion-bits", "2"],
    "canvas 1 px": ["--model", "canvas", "--motion-bits", "0"],
    "auto": ["--model", "auto"],
    BASELINE: [],
}
COMPARE = (
    ("hinerv-mc", "hinerv"),
    ("hinerv-mc", "hnerv"),
    ("hinerv-mc", BASELINE),
    ("hnerv", BASELINE),
    ("canvas", "canvas none"),
    ("canvas", "hnerv"),
    ("canvas", BASELINE),
    ("canvas translation", "canvas"),
    ("canvas affine", "canvas"),
    ("canvas 1/4 px", "canvas"),
    ("canvas 1 px", "canvas"),
    ("auto", "hnerv"),
    ("auto", BASELINE),
)
"""(arm, reference) pairs whose BD-rates the summary gives, clip by clip."""
SUMMARY = (("hinerv-mc", "hinerv"), ("canvas", "canvas none"), ("canvas", "hnerv"), ("auto", "hnerv"))
"""Pairs whose BD-rates the summary averages over :data:`MOVING` and takes the worst of elsewhere."""


def encode(arm: str, clip: Path, bpp: float, seconds: float, out: Path, old: Path) -> dict:
    """One timed encode in a fresh process: its JSON report and wall seconds."""
    args = ["encode", str(clip), "-o", str(out), "--bpp", str(bpp), "--time", f"{seconds:g}s", "--json", "-q", "-y"]
    env = {**__import__("os").environ}
    if arm == BASELINE:  # -P: the working folder's nvcodec must not shadow the old one
        command, env["PYTHONPATH"] = [sys.executable, "-P", "-m", "nvcodec", *args], str(old)
    else:
        command = [sys.executable, "-m", "nvcodec", *args, *ARMS[arm]]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{arm} {clip.name} {bpp}: {done.stderr.strip()}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_seconds": time.perf_counter() - started}


def camera(nrv: Path) -> dict | None:
    """The file's camera as ``info`` reads it (None without motion)."""
    from nvcodec.pipeline import file_info

    return file_info(nrv)["videos"][0].get("camera")


def summary(runs: list[dict], x265: dict[str, list[dict]]) -> dict:
    """Per clip: each arm's points, BD-rate against x265, and the BD-rates of :data:`COMPARE`;
    the mean of hinerv-mc against hinerv over :data:`MOVING` and the worst over the others."""
    out: dict = {"by_clip": {}}
    for clip in sorted({r["clip"] for r in runs}):
        curves = {a: [(r["bpp"], r["psnr"]) for r in runs if (r["clip"], r["arm"]) == (clip, a)] for a in ARMS}
        curves = {a: sorted(c) for a, c in curves.items() if c}
        anchor = [(a["bpp"], a["psnr"]) for a in x265.get(clip, [])]
        cell = {a: {"points": c, "vs_x265": bd_metrics(anchor, c) if anchor else None} for a, c in curves.items()}
        for arm, ref in COMPARE:
            if arm in curves and ref in curves:
                cell[arm][f"vs_{ref}"] = bd_metrics(curves[ref], curves[arm])
        out["by_clip"][clip] = cell
    out["pairs"] = {}
    for arm, ref in SUMMARY:
        rates = {
            c: (cell[arm].get(f"vs_{ref}") or {}).get("bd_rate_percent")
            for c, cell in out["by_clip"].items()
            if arm in cell
        }
        moving = [v for c, v in rates.items() if c in MOVING and v is not None]
        other = [v for c, v in rates.items() if c not in MOVING and v is not None]
        out["pairs"][f"{arm} vs {ref}"] = {
            "moving_mean_percent": float(np.mean(moving)) if moving else None,
            "moving_defined": f"{len(moving)} of {sum(c in MOVING for c in rates)}",
            "other_worst_percent": max(other) if other else None,
            "other_defined": f"{len(other)} of {sum(c not in MOVING for c in rates)}",
        }
    return out


def main() -> None:
    """Run the arms (keeping rows already in the results file), then summarise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", type=float, default=30.0)
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--arms", nargs="+", default=["hinerv", "hinerv-mc", "hnerv"])
    parser.add_argument("--clip-dir", type=Path, default=Path(tempfile.gettempdir()) / "nvcodec-clips")
    parser.add_argument("--out", type=Path, default=RESULTS / "motion-cpu.json")
    parser.add_argument("--budgets", nargs="+", type=float, default=list(BUDGETS), help="bpp of each point")
    parser.add_argument("--rerun", action="store_true", help="replace the rows of --arms and --clips")
    parser.add_argument("--summarise", action="store_true", help="only recompute the file's summary and plot")
    parser.add_argument("--clip", action="append", default=[], help="NAME=PATH: a clip of one's own, named in --clips")
    args = parser.parse_args()
    if args.summarise:
        old = json.loads(args.out.read_text())
        _write(args.out, old["runs"], old["x265"])
        plot(args.out, args.out.with_suffix(".png"))
        return
    paths = {**make_clips(args.clip_dir), **motion_clips(args.clip_dir), **own_clips(args.clip)}
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs, x265 = old.get("runs", []), old.get("x265", {})
    if args.rerun:
        runs = [
            r for r in runs if not (r["arm"] in args.arms and r["clip"] in args.clips and r["budget"] in args.budgets)
        ]
    done = {(r["arm"], r["clip"], r["budget"], r["time"]) for r in runs}
    with tempfile.TemporaryDirectory() as tmp:
        tree = baseline_tree(BASELINE, Path(tmp)) if BASELINE in args.arms else Path(tmp)
        for clip in args.clips:
            if clip not in x265:
                x265[clip] = anchors(paths[clip], BUDGETS)
            for budget in args.budgets:
                for arm in args.arms:
                    if (arm, clip, budget, args.time) in done:
                        continue
                    out = Path(tmp) / "point.nrv"
                    report = encode(arm, paths[clip], budget, args.time, out, tree)
                    row = {"arm": arm, "clip": clip, "budget": budget, "time": args.time}
                    row["commit"] = BASELINE if arm == BASELINE else this_commit()
                    row.update({k: report.get(k) for k in ("model", "epochs", "encode_seconds", "wall_seconds")})
                    row.update({"notes": report.get("notes", []), "camera": camera(out) if arm != BASELINE else None})
                    row.update(measured(paths[clip], out))
                    runs.append(row)
                    print(json.dumps(row), flush=True)
                    _write(args.out, runs, x265)
    _write(args.out, runs, x265)


def own_clips(specs: list[str]) -> dict[str, Path]:
    """The ``--clip NAME=PATH`` clips by name (a real hand-held video, say), each checked to exist."""
    paths = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not Path(path).is_file():
            raise SystemExit(f"--clip {spec}: give NAME=PATH of an existing video")
        paths[name] = Path(path)
    return paths


def _write(path: Path, runs: list[dict], x265: dict) -> None:
    import os
    import platform

    import torch

    result = {
        "what": "camera motion: arms at equal --time, three budgets; BD-rates of the motion models against "
        "the same model without motion, hnerv, a8df334 and x265",
        "machine": f"{platform.machine()} ({_cpu_name()}), {os.cpu_count()} cores, torch {torch.__version__}",
        "budgets": sorted({r["budget"] for r in runs}),
        "arms": {k: " ".join(v) or "main when issue 28 was filed" for k, v in ARMS.items()},
        "runs": runs,
        "x265": x265,
        "summary": summary(runs, x265),
    }
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")


def _cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo; "unknown CPU" elsewhere): the hosts that ran
    this benchmark differed twofold in speed at the same core count."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown CPU"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else "unknown CPU"


PLOTTED = ("auto", "canvas", "canvas none", "hnerv", BASELINE)
"""The arms the figure draws (with x265 medium)."""


def plot(results: Path, path: Path) -> None:
    """PSNR against bpp, one panel per clip: the :data:`PLOTTED` arms and x265 medium."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = json.loads(results.read_text())
    clips = list(d["summary"]["by_clip"])
    fig, axes = plt.subplots(2, -(-len(clips) // 2), figsize=(3.2 * -(-len(clips) // 2), 6.4), squeeze=False)
    for ax, clip in zip(axes.flat, clips, strict=False):
        cell = d["summary"]["by_clip"][clip]
        for k, arm in enumerate(PLOTTED):
            if arm in cell:
                bpp, psnr = zip(*cell[arm]["points"], strict=True)
                ax.plot(bpp, psnr, "o-", ms=3, color=f"C{k}", label=arm)
        anchor = sorted((a["bpp"], a["psnr"]) for a in d["x265"].get(clip, []))
        if anchor:
            ax.plot(*zip(*anchor, strict=True), "k--", lw=1, label="x265 medium")
        ax.set_title(clip, fontsize=9)
        ax.set_xlabel("bpp", fontsize=8)
        ax.set_ylabel("PSNR dB", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(clips) :]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color=f"C{k}", marker="o", ms=3, label=a) for k, a in enumerate(PLOTTED)]
    handles.append(plt.Line2D([], [], color="k", ls="--", lw=1, label="x265 medium"))
    fig.legend(handles=handles, loc="lower right", fontsize=8)
    fig.suptitle(f"camera motion, --time {sorted({r['time'] for r in d['runs']})[0]:g}s, 2-core CPU", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
