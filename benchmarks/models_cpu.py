"""Model-zoo ablation on the CPU, a fair protocol: every model at the papers' parameters per pixel,
equal epochs, paired seeds, on Big Buck Bunny (640x1280 centre crop box-downscaled x4 to 160x320,
which keeps the 5-stage decoders; all 132 frames).

Budgets: the papers' 1.5M and 3M values at 640x1280, scaled by pixels (94k and 188k at 160x320).
Each model is trained in arms (:data:`ARMS`): its paper's (or release's) own recipe, and a common
recipe (HNeRV's: Adam 1e-3, L2 loss, 10 % warm-up), so a loss or learning rate does not pass for an
architecture; an HNeRV control trained on the fusion loss (0.7 L1 + 0.3 (1 - SSIM)) that the
frequency models use; and PNeRV counted as its paper counts, the decoder alone (the budget plus its
per-frame values), besides the total that every other arm counts.

For each run: PSNR / MS-SSIM of the float model and of the decoded file (8-bit weights, 6-bit
embeddings, entropy-coded, no pruning: ``--params`` mode), bpp of the real file, encode seconds and
decode fps. The result file has every run, per-arm means, and per arm the paired PSNR differences
from HNeRV at the same budget and seed, with their mean and spread (max - min).

Usage: python benchmarks/models_cpu.py [--epochs 6] [--scale 4] [--budgets 94000] [--seeds 0,1]
       [--arms hnerv,snerv,...] [--resume]
The committed run is the defaults (13 arms x seeds 0 and 1 at 94k), made in several ``--resume``
invocations with ``--seeds``/``--arms`` subsets; the first ones ran beside other jobs, so the
seconds and fps of a run are not timings (the PSNR figures do not depend on them).
The 3M-equivalent budget is ``--budgets 188000 --resume`` (as long again).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean

import torch

from nvcodec import __version__, pipeline
from nvcodec.io import prepare_video
from nvcodec.models import solve_config, spec
from nvcodec.models.base import Recipe
from nvcodec.models.sizing import per_frame_values
from nvcodec.progress import RichReporter

RESULTS = Path(__file__).parent / "results" / "models-cpu.json"
COMMON = spec("hnerv").model_cls.recipe
"""The common recipe: HNeRV's."""
FUSION = Recipe(lr=COMMON.lr, loss="fusion6")
"""The HNeRV control's recipe: HNeRV's with the fusion loss."""


@dataclass(frozen=True)
class Arm:
    """One trained configuration.

    Attributes:
        model: registered model name.
        recipe: the training recipe; None: the model's own (its paper's or release's).
        decoder_only: the budget counts the decoder alone (the per-frame values come on top).
    """

    model: str
    recipe: Recipe | None = None
    decoder_only: bool = False


PAPER_MODELS = ("hfe-hnerv", "hfs-hnerv", "snerv", "snerv-t", "pnerv")
ARMS: dict[str, Arm] = {
    "hnerv": Arm("hnerv"),
    "hnerv/fusion": Arm("hnerv", FUSION),
    **{m: Arm(m) for m in PAPER_MODELS},
    **{f"{m}/common": Arm(m, COMMON) for m in PAPER_MODELS},
    "pnerv/decoder-only": Arm("pnerv", decoder_only=True),
}
"""Arms by name: ``model`` (own recipe), ``model/common`` (HNeRV's recipe), the fusion-loss HNeRV
control, and PNeRV sized by its decoder alone."""


def params_for(arm: Arm, video, budget: int) -> int:
    """The transmitted values the arm is sized to: the budget, plus the per-frame values for a
    decoder-only count."""
    if not arm.decoder_only:
        return budget
    s = spec(arm.model)
    cfg = solve_config(s, video.height, video.width, video.num_frames, budget)
    return budget + video.num_frames * per_frame_values(s, cfg)


def run(video, name: str, budget: int, seed: int, epochs: int, reporter) -> dict:
    """Encode one arm at one budget and seed; decode the file and time the decode."""
    arm = ARMS[name]
    params = params_for(arm, video, budget)
    opts = pipeline.EncodeOptions(
        model=arm.model, bpp=None, params=params, epochs=epochs, seed=seed, device="cpu", recipe=arm.recipe
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.nrv"
        report = pipeline.encode_video(video, path, opts, reporter)
        start = time.perf_counter()
        pipeline.decode_frames(path, device="cpu")
        decode_seconds = time.perf_counter() - start
    row = {k: v for k, v in report.to_json().items() if k != "notes"}
    recipe = asdict(arm.recipe or spec(arm.model).model_cls.recipe)
    row.update(arm=name, budget=budget, sized_to=params, seed=seed, recipe=recipe)
    row.update(decode_fps=video.num_frames / decode_seconds)
    return row


KEYS = ("psnr", "fit_psnr", "ms_ssim", "fit_ms_ssim", "bpp", "params", "decode_fps", "encode_seconds")


def summarize(rows: list[dict]) -> tuple[dict, dict]:
    """Per (arm, budget) means, and per (arm, budget) the paired PSNR differences from HNeRV
    (after compression) by seed, their mean and spread."""
    table: dict = {}
    for r in rows:
        table.setdefault(r["arm"], {}).setdefault(str(r["budget"]), []).append(r)
    means = {a: {b: {k: mean(r[k] for r in rs) for k in KEYS} for b, rs in per.items()} for a, per in table.items()}
    base = {(str(r["budget"]), r["seed"]): r["psnr"] for r in rows if r["arm"] == "hnerv"}
    paired: dict = {}
    for a, per in table.items():
        for b, rs in per.items():
            diffs = {r["seed"]: r["psnr"] - base[(b, r["seed"])] for r in rs if (b, r["seed"]) in base}
            if diffs:
                values = list(diffs.values())
                paired.setdefault(a, {})[b] = {
                    "by_seed": {str(s): d for s, d in sorted(diffs.items())},
                    "mean": mean(values),
                    "spread": max(values) - min(values),
                }
    return means, paired


def parse() -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--budgets", default="94000")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of: {', '.join(ARMS)}")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--resume", action="store_true", help="keep the runs already in --out, run the others")
    args = ap.parse_args()
    unknown = set(args.arms.split(",")) - set(ARMS)
    if unknown:
        ap.error(f"unknown arms: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    """Run the grid, budget by budget and seed by seed (with --resume, skipping finished runs),
    writing the result file after every run."""
    args = parse()
    torch.set_num_threads(os.cpu_count() or 1)
    video = prepare_video(None, scale=args.scale)
    out = Path(args.out)
    old = json.loads(out.read_text()) if args.resume and out.is_file() else {}
    rows = old.get("runs", [])
    earlier = old.get("wall_seconds", 0.0)
    done = {(r["arm"], r["budget"], r["seed"]) for r in rows}
    grid = [
        (a, int(b), int(s))
        for b in args.budgets.split(",")
        for s in args.seeds.split(",")
        for a in args.arms.split(",")
        if (a, int(b), int(s)) not in done
    ]
    started = time.perf_counter()
    reporter = RichReporter()
    try:
        for arm, budget, seed in grid:
            rows.append(run(video, arm, budget, seed, args.epochs, reporter))
            write(out, rows, args, video, earlier + time.perf_counter() - started)
    finally:
        reporter.close()


def write(out: Path, rows: list[dict], args: argparse.Namespace, video, seconds: float) -> None:
    """The result file: setting, machine, every run, per-arm means and the paired differences from
    HNeRV (``wall_seconds``: the running time of every invocation that added runs, summed)."""
    means, paired = summarize(rows)
    pixels = video.height * video.width
    result = {
        "setting": {
            "clip": f"{video.source}: {video.prepared} -> {video.height}x{video.width}, {video.num_frames} frames",
            "epochs": args.epochs,
            "budgets_params": args.budgets,
            "budgets_at_640x1280": [round(int(b) * 640 * 1280 / pixels) for b in args.budgets.split(",")],
            "seeds": ",".join(str(x) for x in sorted({r["seed"] for r in rows})),
            "arms": {a: asdict(ARMS[a]) for a in dict.fromkeys(r["arm"] for r in rows)},
            "compression": "no pruning, 8-bit weights, 6-bit embeddings, entropy-coded (--params mode)",
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "nvcodec": __version__,
        },
        "wall_seconds": seconds,
        "paired_psnr_diff_vs_hnerv_db": paired,
        "means": means,
        "runs": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
