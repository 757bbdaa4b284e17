"""``--time`` on an idle and on a shared machine: wall seconds, epochs fitted and PSNR of a timed
encode alone, beside one CPU-bound process, and beside CPU-bound processes that come and go, for
this tree (threads chosen from the free cores, and pinned with ``--threads``) and for the default
of main when issue 28 was filed (a8df334).

    python benchmarks/time_load_cpu.py --time 60

writes ``benchmarks/results/time-load-cpu.json``: each run, and per arm the epochs under load as
a share of the epochs idle (measured in the same run of this script).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from clips import make_clips  # noqa: E402
from converge_cpu import BASELINE, baseline_tree  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BUSY = [sys.executable, "-c", "while True: pass"]
ARMS = {BASELINE: [], "default": [], "threads 2": ["--threads", "2"]}


class Load:
    """CPU-bound competitors: none (``idle``), one for the whole encode (``steady``), or one that
    runs for 2-8 s and pauses for 2-8 s, at random with a fixed seed (``bursty``)."""

    def __init__(self, kind: str) -> None:
        self.kind, self.stop, self.procs = kind, threading.Event(), []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        if self.kind == "steady":
            self.procs.append(subprocess.Popen(BUSY))
        elif self.kind == "bursty":
            self.thread.start()
        return self

    def _run(self) -> None:
        rng = random.Random(28)
        while not self.stop.is_set():
            proc = subprocess.Popen(BUSY)
            self.stop.wait(rng.uniform(2, 8))
            proc.kill()
            proc.wait()
            self.stop.wait(rng.uniform(2, 8))

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        for proc in self.procs:
            proc.kill()
            proc.wait()


def run(arm: str, clip: Path, seconds: float, bpp: float, tree: Path, out: Path) -> dict:
    """One timed encode of ``arm``: its report and wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)} if arm == BASELINE else dict(os.environ)
    args = [str(clip), "-o", str(out), "--bpp", str(bpp), "--time", f"{seconds:g}s", "--json", "-q", "-y"]
    started = time.perf_counter()
    command = [sys.executable, "-P", "-m", "nvcodec", "encode", *args, *ARMS[arm]]  # -P: no cwd shadowing
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{arm}: {done.stderr.strip()}")
    report = json.loads(done.stdout)
    keep = ("epochs", "psnr", "bpp", "encode_seconds", "planned_seconds", "threads", "notes")
    return {"wall_seconds": wall, **{k: report.get(k) for k in keep}}


def main() -> None:
    """Every arm under every load, then the shares of the idle epochs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", type=float, default=60.0)
    parser.add_argument("--bpp", type=float, default=0.2)
    parser.add_argument("--clip", default="synthetic")
    parser.add_argument("--arms", nargs="+", default=list(ARMS))
    parser.add_argument("--out", type=Path, default=RESULTS / "time-load-cpu.json")
    args = parser.parse_args()
    clip = make_clips(Path(tempfile.gettempdir()) / "nvcodec-clips")[args.clip]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = baseline_tree(BASELINE, Path(tmp))
        for load in ("idle", "steady", "bursty"):
            for arm in args.arms:
                with Load(load):
                    row = {"arm": arm, "load": load, **run(arm, clip, args.time, args.bpp, tree, Path(tmp) / "t.nrv")}
                runs.append(row)
                print(json.dumps(row), flush=True)
    idle = {r["arm"]: r["epochs"] for r in runs if r["load"] == "idle"}
    shares = {f"{r['arm']} {r['load']}": r["epochs"] / idle[r["arm"]] for r in runs if r["load"] != "idle"}
    result = {
        "what": f"--time {args.time:g}s --bpp {args.bpp:g} on the {args.clip} clip: alone, beside one CPU-bound "
        "process (steady), beside one that runs 2-8 s and pauses 2-8 s (bursty)",
        "machine": f"{os.cpu_count()} cores",
        "runs": runs,
        "epochs_share_of_idle": shares,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
