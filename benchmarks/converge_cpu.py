"""Time to quality: each arm encodes each clip at ``--time`` T and three budgets, two seeds, and the
BD-rate of every arm against the default of main when issue 28 was filed (a8df334) is taken at
equal time; x265 medium (yuv420p) gives each clip's reference curve.

Arms: ``a8df334`` runs that commit's CLI (``git archive`` into a temporary folder); ``default``
runs this tree's default; any other arm is this tree's default with one field of
:class:`~nvcodec.pipeline.training.Training` switched (:data:`ARMS`), run through the pipeline's
API in a fresh process. Every PSNR is measured here, on frames this tree's decoder renders from
the written file (the format did not change since a8df334), against the clip.

    python benchmarks/converge_cpu.py --times 60 --seeds 0 1 --arms a8df334 default

writes ``benchmarks/results/converge-cpu.json`` and ``converge-cpu.png`` (PSNR against seconds,
one panel per clip); ``--rerun`` replaces the rows of the arms asked for (after a change to the
code they measure; the rows of other arms and times stay); ``--table [FILE]`` prints the README's
table of a results file. Run it alone on the machine: every arm is timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from clips import make_clips  # noqa: E402

from nvcodec.bench.anchors import anchor_at_bpp  # noqa: E402
from nvcodec.bench.bdrate import bd_metrics  # noqa: E402
from nvcodec.bench.measure import measure  # noqa: E402
from nvcodec.io.video import read_video  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BASELINE = "a8df334"
BUDGETS = {"bunny": (0.05, 0.1, 0.2), "synthetic": (0.1, 0.2, 0.4), "qcif": (0.1, 0.2, 0.4), "pan": (0.1, 0.2, 0.4)}
ARMS: dict[str, dict] = {
    "default": {},
    "lr x1": {"lr_scale": 1.0},
    "no time sizing": {"size_steps": None},
    "adan": {"optimizer": "adan"},
    "lion": {"optimizer": "lion", "lr_scale": 0.3},
    "soap": {"optimizer": "soap"},
}
"""This tree's arms: the fields of :class:`Training` each one switches from the default."""


def baseline_tree(commit: str, folder: Path) -> Path:
    """The package at ``commit``, unpacked into ``folder`` (its import root)."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(root), "archive", commit, "nvcodec"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def encode(arm: str, clip: Path, bpp: float, seconds: float, seed: int, out: Path, old: Path) -> dict:
    """One timed encode in a fresh process; its JSON report and wall seconds."""
    args = ["encode", str(clip), "-o", str(out), "--bpp", str(bpp), "--time", f"{seconds:g}s", "--seed", str(seed)]
    if arm == BASELINE:  # -P: the working folder's nvcodec must not shadow the old one
        command, env = [sys.executable, "-P", "-m", "nvcodec", *args, "--json", "-q", "-y"], {"PYTHONPATH": str(old)}
    else:
        command, env = [sys.executable, __file__, "--one", arm, *args[1:]], {}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**_env(), **env})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{arm} {clip.name} {bpp}: {done.stderr.strip()}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_seconds": wall}


def this_commit() -> str:
    """The commit this tree's arms run (``HEAD`` of the checkout the script sits in; a tree with
    uncommitted changes to the package is marked ``+dirty``)."""
    root = Path(__file__).resolve().parent.parent
    git = lambda *a: subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True).stdout  # noqa: E731
    dirty = git("status", "--porcelain", "--", "nvcodec").strip()
    return git("rev-parse", "--short", "HEAD").strip() + ("+dirty" if dirty else "")


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def one(arm: str, argv: list[str]) -> None:
    """``--one ARM INPUT -o OUT --bpp B --time T --seed S``: this tree's encode with ``arm``'s
    training, its report as JSON on stdout."""
    from nvcodec.pipeline import EncodeOptions, encode_video
    from nvcodec.pipeline.options import Training
    from nvcodec.pipeline.timing import parse_duration

    clip, values = argv[0], dict(zip(argv[1::2], argv[2::2], strict=True))
    training = dataclasses.replace(Training(), **ARMS[arm])
    options = EncodeOptions(
        bpp=float(values["--bpp"]),
        time=parse_duration(values["--time"]),
        seed=int(values["--seed"]),
        training=training,
    )
    report = encode_video(read_video(clip), Path(values["-o"]), options)
    print(json.dumps(report.to_json()))


def measured(clip: Path, nrv: Path) -> dict:
    """bpp, PSNR and MS-SSIM of what this tree's decoder renders from ``nrv``, against ``clip``."""
    from nvcodec.pipeline import decode_frames

    source = read_video(clip).frames
    _, decoded = decode_frames(nrv, device="cpu")
    return measure(source, np.stack(list(decoded)), 8 * nrv.stat().st_size)


def anchors(clip: Path, budgets: tuple[float, ...]) -> list[dict]:
    """x265 medium yuv420p at each budget and half and twice the extremes (the reference curve)."""
    video = read_video(clip)
    rows = []
    for target in sorted({min(budgets) / 2, *budgets, 2 * max(budgets)}):
        point = anchor_at_bpp(video.frames, video.fps, "libx265", target, "medium", "yuv420p")
        rows.append({"target": target, "crf": point.crf, **measure(video.frames, point.decoded, point.bits)})
    return rows


def summary(runs: list[dict], anchor_rows: dict[str, list[dict]]) -> dict:
    """Per clip and time: each arm's BD-rate and BD-PSNR against the baseline (mean PSNR over seeds
    at each budget) and against x265; per arm: the paired PSNR differences by seed and budget and
    the mean BD-rate over the clips."""
    out: dict = {"by_clip": {}, "by_arm": {}}
    keys = sorted({(r["clip"], r["time"]) for r in runs})
    arms = sorted({r["arm"] for r in runs})
    for clip, seconds in keys:
        curves = {
            arm: _curve([r for r in runs if (r["clip"], r["time"], r["arm"]) == (clip, seconds, arm)]) for arm in arms
        }
        x265 = [(a["bpp"], a["psnr"]) for a in anchor_rows.get(clip, [])]
        cell = {}
        for arm, curve in curves.items():
            if not curve:
                continue
            cell[arm] = {"points": curve, "vs_x265": bd_metrics(x265, curve) if x265 else None}
            if arm != BASELINE and curves.get(BASELINE):
                cell[arm]["vs_baseline"] = bd_metrics(curves[BASELINE], curve)
                cell[arm]["paired_psnr_db"] = _paired(runs, clip, seconds, arm)
        out["by_clip"][f"{clip} {seconds:g}s"] = cell
    for arm in arms:
        rates = [
            c[arm]["vs_baseline"]["bd_rate_percent"] for c in out["by_clip"].values() if "vs_baseline" in c.get(arm, {})
        ]
        known = [r for r in rates if r is not None]
        out["by_arm"][arm] = {
            "mean_bd_rate_percent": float(np.mean(known)) if known else None,
            "clips": len(rates),
            "known": len(known),
        }
    return out


def _curve(rows: list[dict]) -> list[tuple[float, float]]:
    """(mean bpp, mean PSNR) over the seeds, by budget."""
    budgets = sorted({r["budget"] for r in rows})
    return [
        (
            float(np.mean([r["bpp"] for r in rows if r["budget"] == b])),
            float(np.mean([r["psnr"] for r in rows if r["budget"] == b])),
        )
        for b in budgets
    ]


def _paired(runs: list[dict], clip: str, seconds: float, arm: str) -> list[dict]:
    """PSNR and bpp of ``arm`` minus the baseline's, run by run (same clip, time, budget and seed)."""
    base = {(r["budget"], r["seed"]): r for r in runs if (r["clip"], r["time"], r["arm"]) == (clip, seconds, BASELINE)}
    pairs = []
    for r in runs:
        if (r["clip"], r["time"], r["arm"]) == (clip, seconds, arm) and (r["budget"], r["seed"]) in base:
            b = base[(r["budget"], r["seed"])]
            pairs.append(
                {"budget": r["budget"], "seed": r["seed"], "psnr_db": r["psnr"] - b["psnr"], "bpp": r["bpp"] - b["bpp"]}
            )
    return pairs


def plot(runs: list[dict], anchor_rows: dict[str, list[dict]], path: Path) -> None:
    """PSNR against encode seconds, one panel per clip, one colour per arm, marker size by budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clips = sorted({r["clip"] for r in runs})
    fig, axes = plt.subplots(1, len(clips), figsize=(4.5 * len(clips), 4), squeeze=False)
    for ax, clip in zip(axes[0], clips, strict=True):
        for k, arm in enumerate(sorted({r["arm"] for r in runs})):
            rows = [r for r in runs if r["clip"] == clip and r["arm"] == arm]
            sizes = [30 * r["budget"] / min(x["budget"] for x in rows) for r in rows]
            ax.scatter([r["wall_seconds"] for r in rows], [r["psnr"] for r in rows], s=sizes, color=f"C{k}", label=arm)
        ax.set(title=clip, xlabel="encode seconds (wall)", ylabel="PSNR (dB)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    """Run the arms (keeping rows already in the results file), then summarise and plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=float, nargs="+", default=[60.0, 180.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--clips", nargs="+", default=list(BUDGETS))
    parser.add_argument("--arms", nargs="+", default=[BASELINE, "default"])
    parser.add_argument("--clip-dir", type=Path, default=Path(tempfile.gettempdir()) / "nvcodec-clips")
    parser.add_argument("--out", type=Path, default=RESULTS / "converge-cpu.json")
    parser.add_argument("--rerun", action="store_true", help="replace the rows of --arms, --times, --clips, --seeds")
    args = parser.parse_args()
    clips = make_clips(args.clip_dir)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs, anchor_rows = old.get("runs", []), old.get("x265", {})
    if args.rerun:
        asked = {(a, t, c, s) for a in args.arms for t in args.times for c in args.clips for s in args.seeds}
        runs = [r for r in runs if (r["arm"], r["time"], r["clip"], r["seed"]) not in asked]
    done = {(r["arm"], r["clip"], r["budget"], r["time"], r["seed"]) for r in runs}
    with tempfile.TemporaryDirectory() as tmp:
        tree = baseline_tree(BASELINE, Path(tmp)) if BASELINE in args.arms else Path(tmp)
        for clip in args.clips:
            if clip not in anchor_rows:
                anchor_rows[clip] = anchors(clips[clip], BUDGETS[clip])
            for seconds in args.times:
                for seed in args.seeds:
                    for budget in BUDGETS[clip]:
                        for arm in args.arms:
                            if (arm, clip, budget, seconds, seed) in done:
                                continue
                            out = Path(tmp) / "point.nrv"
                            report = encode(arm, clips[clip], budget, seconds, seed, out, tree)
                            row = {"arm": arm, "clip": clip, "budget": budget, "time": seconds, "seed": seed}
                            row["commit"] = BASELINE if arm == BASELINE else this_commit()
                            row.update(
                                {
                                    k: report[k]
                                    for k in ("epochs", "encode_seconds", "wall_seconds", "threads")
                                    if k in report
                                }
                            )
                            row.update({"report_psnr": report["psnr"], "notes": report.get("notes", [])})
                            row.update(measured(clips[clip], out))
                            runs.append(row)
                            print(json.dumps(row), flush=True)
                            _write(args.out, runs, anchor_rows)
    _write(args.out, runs, anchor_rows)
    plot(runs, anchor_rows, args.out.with_suffix(".png"))


def _write(path: Path, runs: list[dict], anchor_rows: dict) -> None:
    import os
    import platform

    import torch

    result = {
        "what": "time to quality: arms at equal --time, three budgets, seeds; BD-rates against a8df334's default",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "budgets": BUDGETS,
        "arms": {
            BASELINE: "the default of main when issue 28 was filed",
            **{k: v or "this tree's default" for k, v in ARMS.items()},
        },
        "runs": runs,
        "x265": anchor_rows,
        "summary": summary(runs, anchor_rows),
    }
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")


def table(path: Path) -> str:
    """The README's table of a results file: per clip and time, each arm's mean bpp and PSNR by
    budget, its BD-rate and BD-PSNR against the baseline and against x265, and the paired PSNR
    differences (mean, least)."""
    result = json.loads(path.read_text())
    lines = [
        "| clip, time | arm | points (bpp, PSNR dB) by budget | BD-rate vs a8df334 | BD-PSNR vs a8df334 "
        "| paired dPSNR mean / least | BD-rate vs x265 |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, cell in result["summary"]["by_clip"].items():
        for arm, row in cell.items():
            points = ", ".join(f"{b:.3f} / {q:.2f}" for b, q in row["points"])
            base = row.get("vs_baseline") or {}
            pairs = [p["psnr_db"] for p in row.get("paired_psnr_db", [])]
            paired = f"{np.mean(pairs):+.2f} / {min(pairs):+.2f}" if pairs else ""
            x265 = (row.get("vs_x265") or {}).get("bd_rate_percent")
            lines.append(
                f"| {key} | {arm} | {points} | {_pct(base.get('bd_rate_percent'))} | {_db(base.get('bd_psnr_db'))} "
                f"| {paired} | {_pct(x265)} |"
            )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} %"


def _db(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f} dB"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) > 1 and sys.argv[1] == "--table":
        print(table(Path(sys.argv[2]) if len(sys.argv) > 2 else RESULTS / "converge-cpu.json"))
    else:
        main()
