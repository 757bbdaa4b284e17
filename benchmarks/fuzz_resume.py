"""Fuzz ``--resume``: damage a segmented encode's work folder at random, resume, check the outcome.

    python benchmarks/fuzz_resume.py --cases 300 --out benchmarks/results/fuzz-resume.json

Two 16-frame 32x64 clips (A and B) are encoded in 4 segments (``--segment 4 --params 3000
--epochs 1 --no-rd``): A whole (the reference bytes), then A and B stopped before assembly (every
segment done) and A stopped after two segments, to keep their work folders. Each case copies A's
full or partial folder, applies 1 to 3 random damages, and runs ``encode A --resume`` in this
process through the command line's ``main``. Damages: delete, truncate or bit-flip any file;
swap two segments' files or manifests; copy a file or a whole segment from B's folder; edit the
plan (an option, the input's digest, not JSON); edit a manifest (its place, its hash); a stray
file; the folder replaced by a file.

Outcomes: ``correct`` (exit 0 and the file is byte-identical to the reference), ``refused`` (exit
1 or 2, one line on stderr, no traceback, no output file), ``wrong`` (anything else: exit 0 with
other bytes, exit 3, a traceback, an output left after an error). The run must report 0 wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch

from nvcodec.cli import main
from nvcodec.io import synthetic_clip, write_video

ARGS = ["--segment", "4", "--params", "3000", "--epochs", "1", "--no-rd", "-q"]
SEGMENTS = 4


def run_cli(*args: object) -> tuple[int, str, str]:
    """``nvcodec ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def stopped_folder(clip: Path, out: Path, after: int) -> Path:
    """The work folder of an encode of ``clip`` stopped once ``after`` segments were done."""
    import nvcodec.pipeline.run as parallel

    real, count = (parallel.encode_one, parallel.finish), [0]

    def one(*args: Any) -> None:
        if count[0] == after:
            raise KeyboardInterrupt
        real[0](*args)
        count[0] += 1

    def never(*args: Any) -> None:
        raise KeyboardInterrupt

    parallel.encode_one, parallel.finish = one, never  # a stop between segments, as a kill would leave it
    try:
        assert run_cli("encode", clip, "-o", out, *ARGS)[0] == 130
    finally:
        parallel.encode_one, parallel.finish = real
    return out.with_name(out.name + ".parts")


def _files(parts: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in parts.glob(pattern) if p.is_file()) if parts.is_dir() else []


def _flip(rng: random.Random, path: Path) -> None:
    data = bytearray(path.read_bytes())
    if data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))


def _edit_json(path: Path, edit: Callable[[Any], Any]) -> None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if isinstance(value, dict):
        path.write_text(json.dumps(edit(value)))


def damages(rng: random.Random, parts: Path, foreign: Path) -> dict[str, Callable[[], None]]:
    """The kinds of damage, each a closure over a random choice."""
    pick = lambda pattern="*": rng.choice(_files(parts, pattern) or [parts / "plan.json"])  # noqa: E731
    seg = lambda: rng.randrange(SEGMENTS)  # noqa: E731
    name = lambda k, ext: f"segment-{k:05d}.{ext}"  # noqa: E731

    def swap(ext: str) -> None:
        a, b = parts / name(seg(), ext), parts / name(seg(), ext)
        if a.exists() and b.exists() and a != b:
            tmp = parts / "swap.tmp"
            a.rename(tmp), b.rename(a), tmp.rename(b)

    def from_foreign(whole: bool) -> None:
        k = seg()
        for ext in ("nrv", "json") if whole else (rng.choice(("nrv", "json")),):
            if (foreign / name(k, ext)).exists():
                shutil.copy(foreign / name(k, ext), parts / name(k, ext))

    def edit_plan() -> None:
        edits = [
            lambda p: {**p, "options": {**p["options"], "epochs": 7}},
            lambda p: {**p, "input": "0" * 64},
            lambda p: [p],
        ]
        _edit_json(parts / "plan.json", rng.choice(edits))

    def edit_manifest() -> None:
        edits = [lambda m: {**m, "first": m["first"] + 1}, lambda m: {**m, "sha256": "f" * 64}, lambda m: {**m, "x": 1}]
        _edit_json(pick("segment-*.json"), rng.choice(edits))

    def into_file() -> None:
        shutil.rmtree(parts)
        parts.write_bytes(b"not a folder")

    return {
        "delete": lambda: pick().unlink(missing_ok=True),
        "truncate": lambda: (lambda p: p.write_bytes(p.read_bytes()[: rng.randrange(max(1, p.stat().st_size))]))(
            pick()
        ),
        "flip": lambda: _flip(rng, pick()),
        "swap-files": lambda: swap("nrv"),
        "swap-manifests": lambda: swap("json"),
        "foreign-file": lambda: from_foreign(False),
        "foreign-segment": lambda: from_foreign(True),
        "edit-plan": edit_plan,
        "edit-manifest": edit_manifest,
        "stray-file": lambda: (parts / "segment-00009.nrv").write_bytes(b"x"),
        "folder-to-file": into_file,
    }


def one_case(rng: random.Random, base: Path, seeds: dict[str, Path], reference: bytes) -> tuple[str, list[str], int]:
    """Damage a copy of a stopped folder, resume, classify: (outcome, damages applied, segments refitted)."""
    out = base / "case.nrv"
    parts = out.with_name("case.nrv.parts")
    out.unlink(missing_ok=True)
    shutil.rmtree(parts, ignore_errors=True) if parts.is_dir() else parts.unlink(missing_ok=True)
    shutil.copytree(seeds[rng.choice(("full", "partial"))], parts)
    kinds = damages(rng, parts, seeds["foreign"])
    applied = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(sorted(kinds))
        if parts.is_dir():
            kinds[kind]()
            applied.append(kind)
    code, stdout, err = run_cli("encode", seeds["clip"], "-o", out, *ARGS, "--resume", "--json")
    refits = sum("did not verify" in n for n in json.loads(stdout).get("notes", [])) if code == 0 else 0
    one_line = "Traceback" not in err and len(err.strip().splitlines()) == 1
    if code == 0 and out.read_bytes() == reference:
        return "correct", applied, refits
    if code in (1, 2) and one_line and not out.exists():
        return "refused", applied, refits
    print(f"WRONG: {applied} -> exit {code}: {err.strip()[:300]}")
    return "wrong", applied, refits


def prepare(base: Path) -> tuple[dict[str, Path], bytes]:
    """The clips, the reference file and the stopped folders the cases copy."""
    write_video(base / "a.mkv", synthetic_clip(16, 32, 64, seed=1), Fraction(25, 1))
    write_video(base / "b.mkv", synthetic_clip(16, 32, 64, seed=2), Fraction(25, 1))
    assert run_cli("encode", base / "a.mkv", "-o", base / "ref.nrv", *ARGS)[0] == 0
    seeds = {
        "clip": base / "a.mkv",
        "full": stopped_folder(base / "a.mkv", base / "full.nrv", SEGMENTS),
        "partial": stopped_folder(base / "a.mkv", base / "partial.nrv", 2),
        "foreign": stopped_folder(base / "b.mkv", base / "foreign.nrv", SEGMENTS),
    }
    return seeds, (base / "ref.nrv").read_bytes()


def main_cli() -> None:
    """Run the cases and write the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng, started = random.Random(args.seed), time.perf_counter()
    outcomes, by_kind, refits = Counter(), Counter(), 0
    with tempfile.TemporaryDirectory() as tmp:
        seeds, reference = prepare(Path(tmp))
        for _ in range(args.cases):
            outcome, applied, refitted = one_case(rng, Path(tmp), seeds, reference)
            outcomes[outcome] += 1
            refits += refitted
            for kind in set(applied):
                by_kind[f"{kind}:{outcome}"] += 1
    result = {
        "command": f"python benchmarks/fuzz_resume.py --cases {args.cases} --seed {args.seed}",
        "machine": f"{platform.machine()}, {platform.python_version()}, torch {torch.__version__}",
        "cases": args.cases,
        "outcomes": dict(outcomes),
        "wrong": outcomes["wrong"],
        "segments_refitted": refits,
        "by_damage": dict(sorted(by_kind.items())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main_cli()
