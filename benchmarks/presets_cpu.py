"""What each preset costs and gives: the default encode (``--bpp`` 0.05, hnerv) of the benchmark
clips at ``fast``, ``medium`` and ``slow``, wall seconds and the report, one encode at a time.

    python benchmarks/presets_cpu.py --runs qcif:fast qcif:medium bunny:fast bunny:medium qcif:slow

writes ``benchmarks/results/presets-cpu.json`` (rows already there are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from clips import make_clips  # noqa: E402

RESULTS = Path(__file__).parent / "results"
KEEP = ("frames", "width", "height", "params", "bytes", "bpp", "psnr", "ms_ssim", "epochs", "encode_seconds", "threads")


def main() -> None:
    """Each ``clip:preset`` run through the CLI in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", default=["qcif:fast", "qcif:medium", "bunny:fast", "bunny:medium"])
    parser.add_argument("--out", type=Path, default=RESULTS / "presets-cpu.json")
    args = parser.parse_args()
    clips = make_clips(Path(tempfile.gettempdir()) / "nvcodec-clips")
    rows = json.loads(args.out.read_text())["runs"] if args.out.exists() else []
    for run in args.runs:
        clip, preset = run.split(":")
        with tempfile.TemporaryDirectory() as tmp:
            command = ["encode", str(clips[clip]), "-o", f"{tmp}/p.nrv", "--preset", preset, "--json", "-q"]
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "nvcodec", *command], capture_output=True, text=True)
            wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{run}: {done.stderr.strip()}")
        report = json.loads(done.stdout)
        rows.append({"clip": clip, "preset": preset, "wall_seconds": wall, **{k: report[k] for k in KEEP}})
        print(json.dumps(rows[-1]), flush=True)
        result = {"what": "default encode (hnerv, --bpp 0.05) at each preset", "cores": os.cpu_count(), "runs": rows}
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
