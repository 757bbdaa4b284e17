"""Segments on the CPU: the acceptance encode, peak memory against video length, and rate split by
frames against one shared λ on a clip with an easy and a hard half.

1. **Acceptance**: a 96-frame clip with ``--segment 32`` (three entries, 96 decoded frames), and the
   same encode under ``torchrun --nproc_per_node 2`` (byte-identical).
2. **Memory**: peak RSS (``wait4``) of an encode of a 180x320 clip of 96 and of 384 frames, both
   with ``--segment 32``, and of the 384 frames as one segment (what it was before segments).
3. **Allocation**: a 64-frame 80x160 clip whose first half is the synthetic clip and whose second
   half is another synthetic clip under Gaussian noise (sigma 12, incompressible detail); two
   segments of 32. Split by frames (each segment at ``--bpp``, the default) against one shared λ
   for both (``--lambda``), λ bisected until the file's size is within 3 % of the split's;
   PSNR compared at the matched size.

Usage: python benchmarks/segments_cpu.py [--parts acceptance,memory,allocation] [--epochs 40]
Writes benchmarks/results/segments-cpu.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from nvcodec.io import read_video, synthetic_clip, write_video

RESULTS = Path(__file__).parent / "results" / "segments-cpu.json"


def encode(args: list, launcher: list | None = None) -> tuple[dict, float, float]:
    """Run ``nvcodec encode ARGS --json -q`` in a fresh child: its report, seconds and peak RSS in
    MiB (``wait4``; under a launcher, the launcher's own)."""
    cmd = [*(launcher or [sys.executable, "-m"]), "nvcodec", "encode", *map(str, args), "--json", "-q"]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text, problem = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"encode failed: {problem.strip().splitlines()[-1:]}")
    return json.loads(text.strip().splitlines()[-1]), time.perf_counter() - started, usage.ru_maxrss / 1024


def acceptance(d: Path, epochs: int) -> dict:
    """96 frames, --segment 32: entries, decoded frames, and torchrun's bytes against one process."""
    clip = d / "c96.mkv"
    write_video(clip, synthetic_clip(96, 64, 128, seed=4), Fraction(25, 1))
    common = [clip, "--segment", "32", "--bpp", "0.5", "--epochs", epochs]
    one, seconds_one, _ = encode([*common, "-o", d / "one.nrv"])
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m"]
    _, seconds_two, _ = encode([*common, "-o", d / "two.nrv"], launcher)
    info = json.loads(
        subprocess.run([sys.executable, "-m", "nvcodec", "info", d / "one.nrv", "--json"], capture_output=True).stdout
    )
    subprocess.run([sys.executable, "-m", "nvcodec", "decode", d / "one.nrv", "-o", d / "rec.mkv", "-q"], check=True)
    return {
        "command": "nvcodec encode c96.mkv --segment 32 --bpp 0.5 --epochs E (and under torchrun --nproc_per_node 2)",
        "entries": info["segments_count"],
        "decoded_frames": int(read_video(d / "rec.mkv").num_frames),
        "bpp": one["bpp"],
        "psnr": one["psnr"],
        "torchrun_byte_identical": (d / "one.nrv").read_bytes() == (d / "two.nrv").read_bytes(),
        "seconds_one_process": seconds_one,
        "seconds_torchrun_2": seconds_two,
    }


def memory(d: Path) -> dict:
    """Peak RSS for 1x and 4x the frames at the same segment size, and 4x as one segment."""
    rows = {}
    base = synthetic_clip(96, 180, 320, seed=5)
    for name, frames in (("96", base), ("384", np.concatenate([base] * 4))):
        write_video(d / f"m{name}.mkv", frames, Fraction(25, 1))
    quick = ["--params", "3000", "--epochs", "1", "--no-rd"]
    runs = (("1x (96 frames)", "m96", 32), ("4x (384 frames)", "m384", 32), ("4x, one segment", "m384", 384))
    for label, clip, segment in runs:
        report, _, peak = encode([d / f"{clip}.mkv", "-o", d / f"{clip}-{segment}.nrv", "--segment", segment, *quick])
        rows[label] = {"segment": segment, "segments": report["segments"], "peak_rss_mib": round(peak, 1)}
    rows["ratio_4x_over_1x"] = rows["4x (384 frames)"]["peak_rss_mib"] / rows["1x (96 frames)"]["peak_rss_mib"]
    rows["setting"] = "180x320 synthetic, --segment 32, --params 3000 --epochs 1 --no-rd (memory, not quality)"
    return rows


def allocation(d: Path, epochs: int, bpp: float = 0.3) -> dict:
    """Split by frames against one shared λ at a matched file size, on an easy + hard clip."""
    easy = synthetic_clip(32, 80, 160, seed=1)
    noise = np.random.default_rng(0).normal(0, 12, (32, 80, 160, 3))
    hard = np.clip(synthetic_clip(32, 80, 160, seed=2) + noise, 0, 255).round().astype(np.uint8)
    clip = d / "easy_hard.mkv"
    write_video(clip, np.concatenate([easy, hard]), Fraction(25, 1))
    common = [clip, "--segment", "32", "--bpp", bpp, "--epochs", epochs, "-o", d / "a.nrv", "-y"]
    split, _, _ = encode(common)
    target, lo, hi, tries = split["bytes"], math.log(1e-4), math.log(10.0), []
    for _ in range(5):
        lam = math.exp((lo + hi) / 2)
        shared, _, _ = encode([*common, "--lambda", f"{lam:.6g}"])
        tries.append({"lambda": lam, "bytes": shared["bytes"], "bpp": shared["bpp"], "psnr": shared["psnr"]})
        if abs(shared["bytes"] - target) <= 0.03 * target:
            break
        lo, hi = (lo, math.log(lam)) if shared["bytes"] < target else (math.log(lam), hi)
    best = min(tries, key=lambda t: abs(t["bytes"] - target))
    return {
        "setting": f"80x160, frames 0-31 synthetic (seed 1), 32-63 synthetic (seed 2) + N(0, 12); "
        f"--segment 32 --bpp {bpp} --epochs {epochs}",
        "split_by_frames": {k: split[k] for k in ("bytes", "bpp", "psnr", "ms_ssim")},
        "shared_lambda": best,
        "shared_lambda_tries": tries,
        "psnr_gain_shared_over_split_db": best["psnr"] - split["psnr"],
    }


def main() -> None:
    """Run the parts asked for and write (merge into) the result file."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="acceptance,memory,allocation")
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()
    result = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.parts.split(","):
            started = time.perf_counter()
            if part == "acceptance":
                result[part] = acceptance(Path(tmp), max(1, args.epochs // 8))
            elif part == "memory":
                result[part] = memory(Path(tmp))
            else:
                result[part] = allocation(Path(tmp), args.epochs)
            result[part]["wall_seconds"] = time.perf_counter() - started
            result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count()}
            RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
