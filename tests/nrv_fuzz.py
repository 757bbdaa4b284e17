"""Fuzz the .nrv reader: damaged and hostile files against `info` and `decode`, under a memory limit.
The test suite runs it at 200 cases (tests/test_reliability.py, in a process of its own for the
memory limit); benchmarks/fuzz_nrv.py runs it at scale:

    python benchmarks/fuzz_nrv.py --cases 100000 --out benchmarks/results/fuzz-nrv.json
    python benchmarks/fuzz_nrv.py --cli-check     # and the crafted files through `nvcodec info` / `decode`

Seed files (tiny encodes of hnerv, snerv, nerv, hinerv and a two-video pfnr archive) are made first, then
each case mutates one seed and runs the file through the decoder's two entry points in this
process (`pipeline.file_info`, then `pipeline.decode_frames` of each video's first and last frame
when info accepted it: every layer runs; how many frames a file may claim is bounded by its size,
see `PIXELS_PER_BYTE` in nvcodec/format/header.py, and the decode time follows). Kinds of case:

- `flip`: one random bit flipped anywhere; `truncate`: the file cut short. Both must be refused.
- `payload`: random bytes of one section's payload changed, the file re-packed so every CRC holds.
- `field`: one config field (or video-header field) set to a random or extreme value, CRCs valid.
- `crafted`: the named hostile headers of the reliability issue (2^20 frames, 32768x32768 pixels,
  zero or negative strides, NaN/inf fields, a network larger than the frame, a pfnr video claiming
  900k frames, zero widths), CRCs valid. Each must be refused.

Outcomes: `clean` (a one-line nvcodec error), `accepted` (decoded without error), `silent` (an
accepted case of a kind that must be refused), `crash` (any other exception), `hang` (over the
per-case time limit), `memory` (MemoryError under the address-space limit). The process sets
RLIMIT_AS itself (`--memory-gb`, 4 by default) before importing torch's work.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import signal
import struct
import sys
import tempfile
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

MUST_REFUSE = ("flip", "truncate", "crafted")


def make_seeds(work: Path) -> dict[str, bytes]:
    """Tiny real files to mutate: one-video files of four models (hinerv: context-coded grids) and a
    two-video pfnr archive."""
    from nvcodec import pipeline
    from nvcodec.io import Video, synthetic_clip

    video = Video(synthetic_clip(8, 32, 64, seed=1), Fraction(25, 1), "fuzz")
    seeds = {}
    for model, params in (("hnerv", 3000), ("snerv", 6000), ("nerv", 3000), ("hinerv", 3000)):
        path = work / f"{model}.nrv"
        pipeline.encode_video(video, path, pipeline.EncodeOptions(model=model, params=params, epochs=1, device="cpu"))
        seeds[model] = path.read_bytes()
    path = work / "pfnr.nrv"
    options = pipeline.EncodeOptions(model="pfnr", bpp=2.0, epochs=1, device="cpu")
    pipeline.encode_video(video, path, options)
    second = Video(synthetic_clip(6, 32, 64, seed=2), Fraction(25, 1), "fuzz")
    pipeline.append_video(path, second, options)
    seeds["pfnr"] = path.read_bytes()
    return seeds


def _repack(data: bytes, edit: Any) -> bytes:
    """``data`` with its sections passed through ``edit(section) -> payload``, every CRC recomputed."""
    from nvcodec.container import Section, pack_nrv, parse_nrv

    return pack_nrv([Section(s.tag, s.video, edit(s), s.flags) for s in parse_nrv(data)])


def _edit_header(data: bytes, video: int | None, meta: dict[str, int], config: dict[str, Any]) -> bytes:
    """Set VHDR fields (frames, width, height) and config fields of video ``video`` (None: all)."""
    from nvcodec.bitio import ByteReader
    from nvcodec.container import decode_record, encode_record

    names = ("frames", "width", "height", "num", "den")

    def edit(s: Any) -> bytes:
        if video is not None and s.video != video:
            return s.payload
        if s.tag == b"VHDR" and meta:
            values = dict(zip(names, struct.unpack("<5I", s.payload), strict=True)) | meta
            return struct.pack("<5I", *(v & 0xFFFFFFFF for v in values.values()))
        if s.tag == b"MODL" and config:
            fields = decode_record(ByteReader(s.payload[2:])) | config
            return s.payload[:2] + encode_record(fields)
        return s.payload

    return _repack(data, edit)


def crafted(seeds: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The named hostile files: each must be refused with a clean error."""
    h, p = seeds["hnerv"], seeds["pfnr"]
    big = 1 << 20
    return [
        ("frames 2^20", _edit_header(h, 0, {"frames": big}, {"frames": big})),
        ("32768x32768", _edit_header(h, 0, {"width": 32768, "height": 32768}, {"height": 32768, "width": 32768})),
        ("strides (0,)", _edit_header(h, 0, {}, {"strides": (0,)})),
        ("strides (-2,-2)", _edit_header(h, 0, {}, {"strides": (-2, -2)})),
        ("c0 0", _edit_header(h, 0, {}, {"c0": 0})),
        ("embed_dim 0", _edit_header(h, 0, {}, {"embed_dim": 0})),
        ("max_kernel 0", _edit_header(h, 0, {}, {"max_kernel": 0})),
        ("reduce nan", _edit_header(h, 0, {}, {"reduce": math.nan})),
        ("network 4096x8192", _edit_header(h, 0, {}, {"height": 4096, "width": 8192})),
        ("pfnr capacity nan", _edit_header(p, 0, {}, {"capacity": math.nan})),
        ("pfnr capacity inf", _edit_header(p, 0, {}, {"capacity": math.inf})),
        ("pfnr video 1: 900k frames", _edit_header(p, 1, {"frames": 900_000}, {})),
        ("nerv frames 2^20", _edit_header(seeds["nerv"], 0, {"frames": big}, {"frames": big})),
        ("snerv strides (0,0)", _edit_header(seeds["snerv"], 0, {}, {"strides": (0, 0)})),
    ]


def _random_value(rng: np.random.Generator, old: Any) -> Any:
    if isinstance(old, bool):
        return not old
    if isinstance(old, float):
        return float(rng.choice([math.nan, math.inf, -math.inf, 0.0, -1.0, 1e30, rng.normal() * 10]))
    if isinstance(old, tuple):
        return tuple(int(v) for v in rng.integers(-4, 40, rng.integers(0, 6)))
    return int(rng.choice([0, -1, 1, 1 << 20, 1 << 31, int(rng.integers(-1000, 5000))]))


def mutate(kind: str, seed: bytes, rng: np.random.Generator) -> bytes:
    """One mutation of ``seed`` of the given kind (see the module docstring)."""
    if kind == "flip":
        data = bytearray(seed)
        bit = int(rng.integers(0, 8 * len(data)))
        data[bit // 8] ^= 1 << (bit % 8)
        return bytes(data)
    if kind == "truncate":
        return seed[: int(rng.integers(0, len(seed)))]
    if kind == "payload":
        from nvcodec.container import parse_nrv

        target = int(rng.integers(0, len(parse_nrv(seed))))
        sections = iter(range(1 << 30))

        def edit(s: Any) -> bytes:
            if next(sections) != target or not s.payload:
                return s.payload
            data = bytearray(s.payload)
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
            return bytes(data)

        return _repack(seed, edit)
    from nvcodec.bitio import ByteReader
    from nvcodec.container import decode_record, parse_nrv

    modl = next(s for s in parse_nrv(seed) if s.tag == b"MODL")
    fields = decode_record(ByteReader(modl.payload[2:]))
    if rng.random() < 0.2:
        name = str(rng.choice(["frames", "width", "height"]))
        return _edit_header(seed, 0, {name: int(rng.choice([0, 1, 1 << 20, 1 << 31, 7]))}, {})
    name = str(rng.choice(sorted(fields)))
    return _edit_header(seed, 0, {}, {name: _random_value(rng, fields[name])})


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout()


def classify(data: bytes, path: Path, seconds: float) -> str:
    """Run ``data`` through info and decode; return the outcome (see the module docstring)."""
    from nvcodec import pipeline
    from nvcodec.errors import NvcError

    path.write_bytes(data)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        for video in pipeline.file_info(path)["videos"]:
            first, last = (0, 1), (video["frames"] - 1, video["frames"])
            for frames in {first, last}:  # every layer runs; a long claim costs time, not risk
                pipeline.decode_frames(path, frames, device="cpu", video=video["video"])
        return "accepted"
    except NvcError:
        return "clean"
    except _Timeout:
        return "hang"
    except MemoryError:
        return "memory"
    except Exception as exc:  # noqa: BLE001  (every other exception is what we count)
        return f"crash {type(exc).__name__}: {str(exc)[:120]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run(cases: int, seconds: float, seed: int, work: Path, seeds: dict[str, bytes]) -> dict:
    """Run the crafted files and ``cases`` random mutations of ``seeds``; return the tallies."""
    signal.signal(signal.SIGALRM, _alarm)
    rng = np.random.default_rng(seed)
    probe = work / "case.nrv"
    tallies: dict[str, Counter] = {}
    crashes: list[str] = []
    started = time.perf_counter()
    for name, data in crafted(seeds):
        outcome = classify(data, probe, seconds)
        tallies.setdefault("crafted", Counter())[_tally(outcome, "crafted", crashes, name)] += 1
    kinds = ("flip", "truncate", "payload", "field")
    for i in range(cases):
        kind, model = kinds[i % len(kinds)], sorted(seeds)[(i // len(kinds)) % len(seeds)]
        outcome = classify(mutate(kind, seeds[model], rng), probe, seconds)
        tallies.setdefault(kind, Counter())[_tally(outcome, kind, crashes, f"{kind} {model} #{i}")] += 1
    total = Counter()
    for counter in tallies.values():
        total.update(counter)
    return {
        "cases": cases + len(crafted(seeds)),
        "seconds": time.perf_counter() - started,
        "outcomes": dict(total),
        "by_kind": {k: dict(v) for k, v in tallies.items()},
        "crashes": crashes[:50],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _tally(outcome: str, kind: str, crashes: list[str], label: str) -> str:
    if outcome.startswith("crash"):
        crashes.append(f"{label}: {outcome}")
        return "crash"
    if outcome in ("hang", "memory"):
        crashes.append(f"{label}: {outcome}")
    if outcome == "accepted" and kind in MUST_REFUSE:
        crashes.append(f"{label}: accepted a file that must be refused")
        return "silent"
    return outcome


def cli_check(work: Path, seeds: dict[str, bytes]) -> list[dict]:
    """Each crafted file through ``nvcodec info`` and ``nvcodec decode`` as a user runs them: exit
    status, stderr lines, seconds, and whether the decode left its output (or anything else) behind."""
    import contextlib
    import io

    from nvcodec.cli import main as nvcodec

    rows = []
    for name, data in crafted(seeds):
        path, out = work / "crafted.nrv", work / "out" / "rec.mkv"
        path.write_bytes(data)
        out.parent.mkdir(exist_ok=True)
        for command in (["info", str(path)], ["decode", str(path), "-o", str(out), "-q"]):
            err = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = nvcodec(command)
            rows.append(
                {
                    "case": name,
                    "command": command[0],
                    "exit": code,
                    "stderr": err.getvalue().strip().splitlines(),
                    "seconds": time.perf_counter() - started,
                    "left": sorted(p.name for p in out.parent.iterdir()),
                }
            )
    return rows


def main() -> None:
    """Parse options, limit memory, fuzz, print and write the tallies."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seconds-per-case", type=float, default=20.0)
    ap.add_argument("--memory-gb", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cli-check", action="store_true", help="also run the crafted files through the CLI")
    args = ap.parse_args()
    limit = int(args.memory_gb * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = make_seeds(Path(tmp))
        result = run(args.cases, args.seconds_per_case, args.seed, Path(tmp), seeds)
        if args.cli_check:
            result["cli"] = cli_check(Path(tmp), seeds)
    result["setting"] = {
        "memory_limit_gib": args.memory_gb,
        "seconds_per_case": args.seconds_per_case,
        "seed": args.seed,
        "machine": platform.platform(),
        "torch": torch.__version__,
    }
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    failed = {"crash", "silent", "hang", "memory"} & set(result["outcomes"])
    failed |= {"cli"} if any(r["exit"] != 1 or r["left"] for r in result.get("cli", [])) else set()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
