"""Make the golden ``.nrv`` files of tests/golden/ and their entries in manifest.json.

The golden files are small ``.nrv`` files written by known commits: one per model id at the format
version today's encoder writes, a segmented file, progressive archives of one and two videos, and one
file (or two) per older format version that today's reader still reads. For each, manifest.json
records the commit whose code wrote it, the exact commands, the file's SHA-256 and the SHA-256 of
the frames that commit's own decoder produced. tests/test_golden.py decodes every file with today's
code and compares (a decoder change that alters what an existing file decodes to fails there), and
re-encodes the entries marked ``reproduce`` byte for byte (a change of the encoder's output fails
there).

Frame hash: SHA-256 of the decoded frames as one uint8 T x H x W x 3 RGB array in C order
(``np.ascontiguousarray(frames).tobytes()``), one hash per video of the file, checked two ways before
it is recorded: in-process (``decode_frames``) and through the CLI (``nvcodec decode --device cpu`` to
an FFV1 .mkv, read back with PyAV).

The decoder is float arithmetic, so its frames are exact only for one way of doing the sums:

* torch threads: every hash is of a decode at one thread (THREADS; the test sets the same count).
  Where 2 threads give other frames, that is recorded too (``at_2_threads``).
* CPU kernels: PyTorch, oneDNN and MKL pick kernels by instruction set, and a value can round the
  other way (seen: one value of one file off by 1 at AVX2, three files at SSE; the re-encode gives
  other bytes at AVX2). So the hashes are keyed by platform, ``machine/capability``
  (``torch.backends.cpu.get_cpu_capability()``: AVX512, AVX2, DEFAULT on x86-64): the native level is
  decoded in-process, the lower x86-64 levels in a subprocess with ATEN_CPU_CAPABILITY,
  ONEDNN_MAX_CPU_ISA and MKL_ENABLE_INSTRUCTIONS set to that level (LEVELS). ``frame_sums`` (per frame
  and channel) lets the test check a platform without a hash loosely.
* the torch version: hashes hold for the version in ``made_by.torch`` (the version CI pins).

Usage, from the repository root in the project's venv:

    python tests/golden/make_golden.py                  # rewrite every current-version entry
    python tests/golden/make_golden.py hnerv-5.0.nrv    # only the entries named
    python tests/golden/make_golden.py --list           # the entries this script knows, and their commits
    python tests/golden/make_golden.py --rehash NAME    # keep the file, record its decode again (this platform)

It writes with the ``nvcodec`` that Python imports and records the commit of the checkout that
``nvcodec`` lives in; it refuses a checkout whose nvcodec/ has uncommitted changes (the recorded
commit would not be the code that wrote the file) unless given ``--dirty``. To record a clean commit
while nvcodec/ is being edited, run it with a worktree of HEAD on the path:

    git worktree add /tmp/nv-head HEAD
    PYTHONPATH=/tmp/nv-head python tests/golden/make_golden.py

When to regenerate: only when the *encoder's* output changes on purpose (the reproduce test then
fails: regenerate those entries, e.g. ``make_golden.py hnerv-5.0.nrv``). Never regenerate an entry
because today's decoder no longer reproduces its frames: that is the regression these files exist to
catch. When the writer's format version changes (as from 4.2 to 5.0), the old entries become old-version
entries: move their specs from CURRENT to OLD with the commit that wrote them, and add new entries.
``--rehash`` (with the entry's writer commit on the path; it checks) adds the hashes of a machine
whose platform the manifest lacks, without touching the files.

Old-version entries are kept as they are: today's code cannot write them. They were made by this
script run with the old commit's code on the path (it uses only APIs those commits have:
nvcodec.cli.main, nvcodec.io.synthetic_clip / write_video / read_video,
nvcodec.pipeline.decode.decode_frames, or nvcodec.pipeline.decode_frames in the first commits), e.g.

    git worktree add /tmp/nv-1.0 f38b812
    PYTHONPATH=/tmp/nv-1.0 python tests/golden/make_golden.py --old hnerv-1.0.nrv

(``--old`` checks that the imported checkout is the commit OLD records.)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
THREADS = 1  # torch threads every golden file was encoded and decoded with (bytes checked at 2 as well)

# CPU kernel levels of x86-64, best first, and the environment that holds PyTorch (ATen), oneDNN and
# MKL to each (set before torch is imported, so a level below the native one runs in a subprocess).
LEVELS: dict[str, dict[str, str]] = {
    "AVX512": {
        "ATEN_CPU_CAPABILITY": "avx512",
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
        "MKL_ENABLE_INSTRUCTIONS": "AVX512",
    },
    "AVX2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "DEFAULT": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}

# Input clips: synthetic_clip(frames, height, width, seed) written with write_video(path, clip, 25/1)
# as FFV1 .mkv, or, with a pix_fmt, as a .y4m of that format.
CLIPS: dict[str, dict[str, Any]] = {
    "tiny": {"frames": 8, "height": 32, "width": 64, "seed": 0, "fps": "25/1"},
    "tiny_b": {"frames": 8, "height": 32, "width": 64, "seed": 1, "fps": "25/1"},
    "tiny_420": {"frames": 8, "height": 32, "width": 64, "seed": 0, "fps": "25/1", "pix_fmt": "yuv420p"},
}

COMMON = ["--params", "3000", "--epochs", "1", "--seed", "0", "--device", "cpu", "-q"]


def _encode(model: str, *extra: str, clip: str = "tiny") -> list[str]:
    return ["encode", "{" + clip + "}", "-o", "{out}", "--model", model, *COMMON, *extra]


MODELS = ("hnerv", "hfs-hnerv", "snerv", "pfnr", "hinerv", "hfe-hnerv", "pnerv", "nerv", "snerv-t", "hinerv-mc")
APPEND = ["append", "{out}", "{tiny_b}", "--epochs", "1", "--seed", "0", "--device", "cpu", "-q"]

# Entries the current code writes: name -> commands ({out}: the file; {clip name}: that clip's path),
# videos in the file, and whether the test re-encodes it byte for byte.
CURRENT: dict[str, dict[str, Any]] = {
    **{f"{m}-5.0.nrv": {"steps": [_encode(m)], "videos": 1, "reproduce": m == "hnerv"} for m in MODELS},
    "hnerv-segments-5.0.nrv": {"steps": [_encode("hnerv", "--segment", "4")], "videos": 1, "reproduce": False},
    "pfnr-2videos-5.0.nrv": {"steps": [_encode("pfnr"), APPEND], "videos": 2, "reproduce": False},
    "hnerv-yuv420p-5.0.nrv": {"steps": [_encode("hnerv", "--yuv", clip="tiny_420")], "videos": 1, "reproduce": True},
    "canvas-5.0.nrv": {  # sized by its canvas, not --params
        "steps": [["encode", "{tiny}", "-o", "{out}", "--model", "canvas", "--bpp", "0.5", *COMMON[2:]]],
        "videos": 1,
        "reproduce": False,
    },
}

# Entries written by old commits (the newest commit that wrote each version), kept as they are. (The
# first commit, 67853a4, wrote the same bytes as f38b812 for hnerv-1.0.nrv's commands, so it has no
# file of its own.)
_V = {
    "1.0": "f38b812f40f9f0a48f39de0f6890c3bd12b081d8",
    "1.1": "93ca8aa94dcea03e45790784648a5793dc0b4453",
    "2.0": "346f833ea05aca48620f4c90c093870a543906a1",
    "3.0": "f00bdd7a6b9ba8f7d0bdd0b55434b15229c740d9",
    "4.0": "8644adda47e9fb5757f592c435af0e5a29f12761",
    "4.2": "5811f8f6156f5b152691ca9a7b052ad30c6a33da",
}
_W41 = {  # format 4.1 entries: each was written by the commit that last changed its model's output
    "hfe-hnerv-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "hfs-hnerv-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "hinerv-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "hinerv-mc-4.1.nrv": "324cbd3c94787a49a406ad43695d2ac8c4ad3466",
    "hnerv-4.1.nrv": "dfa722c1b40c0bfd2b92a42da0db03048dea5716",
    "hnerv-segments-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "nerv-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "pfnr-2videos-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "pfnr-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "pnerv-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "snerv-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
    "snerv-t-4.1.nrv": "64f10a638ed69751ed5e51372f0a2ab25ad01566",
}
OLD: dict[str, dict[str, Any]] = {
    "hnerv-1.0.nrv": {"commit": _V["1.0"], "steps": [_encode("hnerv")], "videos": 1},
    "hnerv-1.1.nrv": {"commit": _V["1.1"], "steps": [_encode("hnerv")], "videos": 1},
    "hnerv-2.0.nrv": {"commit": _V["2.0"], "steps": [_encode("hnerv")], "videos": 1},
    "hnerv-rd-2.0.nrv": {"commit": _V["2.0"], "steps": [_encode("hnerv", "--rd")], "videos": 1},
    "hnerv-3.0.nrv": {"commit": _V["3.0"], "steps": [_encode("hnerv")], "videos": 1},
    "hnerv-4.0.nrv": {"commit": _V["4.0"], "steps": [_encode("hnerv")], "videos": 1},
    "hinerv-4.0.nrv": {"commit": _V["4.0"], "steps": [_encode("hinerv")], "videos": 1},
    **{f"{m}-4.1.nrv": {"commit": _W41[f"{m}-4.1.nrv"], "steps": [_encode(m)], "videos": 1} for m in MODELS},
    "hnerv-segments-4.1.nrv": {
        "commit": _W41["hnerv-segments-4.1.nrv"],
        "steps": [_encode("hnerv", "--segment", "4")],
        "videos": 1,
    },
    "pfnr-2videos-4.1.nrv": {"commit": _W41["pfnr-2videos-4.1.nrv"], "steps": [_encode("pfnr"), APPEND], "videos": 2},
    **{f"{m}-4.2.nrv": {"commit": _V["4.2"], "steps": [_encode(m)], "videos": 1} for m in MODELS},
    "hnerv-segments-4.2.nrv": {"commit": _V["4.2"], "steps": [_encode("hnerv", "--segment", "4")], "videos": 1},
    "pfnr-2videos-4.2.nrv": {"commit": _V["4.2"], "steps": [_encode("pfnr"), APPEND], "videos": 2},
    # a native 4:2:0 file of hnerv before its 4:2:0 output stage (frame-size outputs, chroma averaged)
    "hnerv-yuv420p-frame-5.0.nrv": {
        "commit": "331d47438ec68907a0955fdfa32eec2f90e7fa52",
        "steps": [_encode("hnerv", "--yuv", clip="tiny_420")],
        "videos": 1,
    },
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def frames_sha256(frames: np.ndarray) -> str:
    """The frame hash the manifest records: uint8 T x H x W x 3, C order."""
    assert frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[-1] == 3, (frames.dtype, frames.shape)
    return sha256(np.ascontiguousarray(frames).tobytes())


def platform_key() -> str:
    """``machine/capability``, and ``/no-avx512`` on a host without AVX-512: what the hashes of a
    decode (and an encode's bytes) are keyed by. The lower levels are emulated on an AVX-512 host,
    and a host without it picks other MKL and oneDNN kernels at the same level (an AMD EPYC without
    AVX-512 decoded six golden files and re-encoded one otherwise than the emulated AVX2 level)."""
    host = "" if "avx512f" in _cpu_flags() else "/no-avx512"
    return f"{platform.machine()}/{torch.backends.cpu.get_cpu_capability()}{host}"


def _cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux's /proc/cpuinfo; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}


def lower_levels() -> list[str]:
    """The x86-64 levels below this machine's, which a subprocess can emulate."""
    native = torch.backends.cpu.get_cpu_capability()
    if platform.machine() not in ("x86_64", "AMD64") or native not in LEVELS:
        return []
    return list(LEVELS)[list(LEVELS).index(native) + 1 :]


def scan(data: bytes) -> tuple[str, list[int]]:
    """The format version in a file's header and the model id of each MODL section (read without nvcodec:
    magic, u16 major, u16 minor, then sections: tag, u16 video, u16 flags, u32 length, payload, u32 CRC)."""
    major, minor = struct.unpack_from("<HH", data, 8)
    ids, pos = [], 12
    while pos < len(data):
        tag = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 8)
        if tag == b"MODL":
            ids.append(struct.unpack_from("<H", data, pos + 12)[0])
        pos += 12 + length + 4
    return f"{major}.{minor}", ids


def checkout() -> tuple[Path, str, bool]:
    """The checkout the imported nvcodec lives in, its commit, and whether its nvcodec/ has changes."""
    import nvcodec

    root = Path(nvcodec.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "nvcodec"], cwd=root, capture_output=True, text=True, check=True
    )
    return root, commit.stdout.strip(), bool(status.stdout.strip())


def cli(argv: list[str]) -> None:
    """Run ``nvcodec ARGV`` in-process, its table output swallowed; raise on a non-zero status."""
    from nvcodec.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"nvcodec {' '.join(argv)} exited {code}:\n{err.getvalue()}")


def substitute(step: list[str], paths: dict[str, Path]) -> list[str]:
    return [str(paths[a[1:-1]]) if a.startswith("{") and a.endswith("}") else a for a in step]


def command_line(step: list[str], name: str) -> str:
    names = {"out": name, **{c: f"{c}.mkv" for c in CLIPS}}
    return "nvcodec " + " ".join(names[a[1:-1]] if a.startswith("{") else a for a in step)


def write_clips(directory: Path) -> dict[str, Path]:
    from nvcodec.io import synthetic_clip, write_video

    paths = {}
    for name, c in CLIPS.items():
        paths[name] = directory / (f"{name}.y4m" if "pix_fmt" in c else f"{name}.mkv")
        clip = synthetic_clip(c["frames"], c["height"], c["width"], seed=c["seed"])
        write_video(paths[name], clip, Fraction(c["fps"]), pix_fmt=c.get("pix_fmt"))
    return paths


def make(steps: list[list[str]], out: Path, clips: dict[str, Path]) -> bytes:
    """Run the commands that write ``out`` (removed first) at THREADS torch threads; return its bytes."""
    out.unlink(missing_ok=True)
    torch.set_num_threads(THREADS)
    for step in steps:
        cli(substitute(step, {**clips, "out": out}))
    return out.read_bytes()


def decode(path: Path, video: int) -> np.ndarray:
    try:
        from nvcodec.pipeline.decode import decode_frames
    except ImportError:  # the first commits: one pipeline module
        from nvcodec.pipeline import decode_frames  # type: ignore[attr-defined,no-redef]

    return decode_frames(path, device="cpu", video=video)[1]


def at_level(level: str, job: dict[str, Any], work: Path) -> Any:
    """Run ``job`` (see worker) in a subprocess whose CPU kernels are held to ``level``, with the same
    nvcodec on the path; its result."""
    import nvcodec

    env = {**os.environ, **LEVELS[level], "PYTHONPATH": str(Path(nvcodec.__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_worker", level, json.dumps(job)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {level} subprocess failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(level: str, job: dict[str, Any]) -> None:
    """In a subprocess: check the kernel level took, then decode (hashes) or encode (the file's hash)."""
    if torch.backends.cpu.get_cpu_capability() != level:
        raise SystemExit(f"asked for {level}, torch runs {torch.backends.cpu.get_cpu_capability()}")
    torch.set_num_threads(THREADS)
    if job["kind"] == "decode":
        result: Any = [frames_sha256(decode(Path(job["path"]), v)) for v in range(job["videos"])]
    else:
        out = Path(job["out"])
        with contextlib.redirect_stdout(io.StringIO()):
            data = make(job["steps"], out, {k: Path(v) for k, v in job["clips"].items()})
        result = {"bytes": len(data), "sha256": sha256(data)}
    print(json.dumps(result))


def decoded(path: Path, videos: int, work: Path) -> list[dict[str, Any]]:
    """Per video of the file: shape, frame hash by platform (this one and the x86-64 levels below it),
    sums per frame and channel, and (where 2 threads decode other frames) what 2 threads give."""
    from nvcodec.io import read_video

    key, out = platform_key(), []
    lower = {
        level: at_level(level, {"kind": "decode", "path": str(path), "videos": videos}, work)
        for level in lower_levels()
    }
    for video in range(videos):
        got = {}
        for threads in (THREADS, 2):
            torch.set_num_threads(threads)
            frames = decode(path, video)
            mkv = work / f"{path.stem}.{video}.{threads}.mkv"
            cli(["decode", str(path), "-o", str(mkv), "--video", str(video), "--device", "cpu", "-q"])
            if frames_sha256(read_video(mkv).frames) != frames_sha256(frames):
                raise SystemExit(f"{path.name} video {video}: the CLI's frames differ from decode_frames' ({threads})")
            got[threads] = frames
        torch.set_num_threads(THREADS)
        frames = got[THREADS]
        hashes = {key: frames_sha256(frames)}
        hashes.update({f"{platform.machine()}/{level}": h[video] for level, h in lower.items()})
        record = {
            "video": video,
            "shape": list(frames.shape),
            "frames_sha256": hashes,
            "frame_sums": frames.astype(np.int64).sum(axis=(1, 2)).tolist(),
        }
        if frames_sha256(got[2]) != hashes[key]:
            diff = np.abs(got[2].astype(np.int16) - frames.astype(np.int16))
            record["at_2_threads"] = {
                "platform": key,
                "frames_sha256": frames_sha256(got[2]),
                "values_differing": int((diff > 0).sum()),
                "max_abs_difference": int(diff.max()),
            }
        out.append(record)
    return out


def reproduce(name: str, spec: dict[str, Any], data: bytes, clips: dict[str, Path], work: Path) -> dict[str, Any]:
    """What the encode writes on each platform (this one: ``data``, checked again at 2 threads)."""
    torch.set_num_threads(2)
    try:
        again = make(spec["steps"], work / name, clips)
    finally:
        torch.set_num_threads(THREADS)
    if again != data:
        raise SystemExit(f"{name}: the encode at 2 torch threads wrote other bytes than at {THREADS}")
    found = {platform_key(): {"bytes": len(data), "sha256": sha256(data)}}
    for level in lower_levels():
        job = {"kind": "encode", "steps": spec["steps"], "out": str(work / f"{level}-{name}")}
        found[f"{platform.machine()}/{level}"] = at_level(
            level, {**job, "clips": {k: str(v) for k, v in clips.items()}}, work
        )
    return found


def entry(name: str, spec: dict[str, Any], commit: str, clips: dict[str, Path], work: Path) -> dict[str, Any]:
    path = HERE / name
    data = make(spec["steps"], path, clips)
    version, ids = scan(data)
    model = spec["steps"][0][spec["steps"][0].index("--model") + 1]
    return {
        "name": name,
        "format_version": version,
        "model": model,
        "model_id": ids[0],
        "videos": spec["videos"],
        "bytes": len(data),
        "sha256": sha256(data),
        "decoded": decoded(path, spec["videos"], work),
        "reproduce": reproduce(name, spec, data, clips, work) if spec.get("reproduce") else None,
        "made_by": {
            "commit": commit,
            "argv": spec["steps"],
            "commands": [command_line(s, name) for s in spec["steps"]],
            "torch_threads": THREADS,
            "platform": platform_key(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }


def dumps(value: Any, indent: int = 0) -> str:
    """JSON with one key per line, and lists of plain values (shapes, argv) on one line."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in value) + "\n" + pad + "]"
    if isinstance(value, list) and any(isinstance(v, list) for v in value):
        return "[" + ", ".join(dumps(v, indent + 1) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def load_manifest() -> dict[str, Any]:
    if MANIFEST.exists():
        return json.loads(MANIFEST.read_text())
    return {}


def save_manifest(entries: dict[str, dict[str, Any]]) -> None:
    def order(e: dict[str, Any]) -> tuple[tuple[int, ...], str]:
        return tuple(int(p) for p in e["format_version"].split(".")), e["name"]

    manifest = {
        "about": (
            "Golden .nrv files: each written by the commit in made_by (commands: run in a directory holding the "
            "clips; argv: {out} is the file, {clip} a clip's path), with the SHA-256 of the file and of what that "
            "commit's decoder made of it. Made and documented by make_golden.py."
        ),
        "frames_sha256": (
            "by platform (machine/torch CPU capability): SHA-256 of one video's decoded frames as a uint8 "
            "T x H x W x 3 RGB array in C order, decoded at torch_threads threads with the torch of made_by"
        ),
        "frame_sums": "per frame, the sum of each channel's values (R, G, B) of the native decode",
        "reproduce": "for the entries the test re-encodes: the bytes and SHA-256 the commands write, by platform",
        "clips": {
            name: {
                **c,
                "how": f"write_video(path, synthetic_clip({c['frames']}, {c['height']}, {c['width']}, "
                f"seed={c['seed']}), Fraction({c['fps'].replace('/', ', ')})) (FFV1 .mkv)",
            }
            for name, c in CLIPS.items()
        },
        "torch_threads": THREADS,
        "files": sorted(entries.values(), key=order),
    }
    MANIFEST.write_text(dumps(manifest) + "\n")


def main() -> int:
    if sys.argv[1:2] == ["_worker"]:
        worker(sys.argv[2], json.loads(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="entries to (re)make [every current-version entry]")
    parser.add_argument("--old", action="store_true", help="make the named old-version entries with old code")
    parser.add_argument("--rehash", action="store_true", help="record the named entries' decodes again")
    parser.add_argument("--dirty", action="store_true", help="allow uncommitted changes in nvcodec/")
    parser.add_argument("--list", action="store_true", help="list the entries and exit")
    args = parser.parse_args()
    if args.list:
        for name in CURRENT:
            print(f"{name}  current")
        for name, spec in OLD.items():
            print(f"{name}  {spec['commit']}")
        return 0
    entries = {e["name"]: e for e in load_manifest().get("files", [])}
    specs = entries if args.rehash else OLD if args.old else CURRENT
    names = args.names or ([] if args.old or args.rehash else list(CURRENT))
    unknown = [n for n in names if n not in specs]
    if unknown or not names:
        parser.error(f"unknown entries {unknown} (see --list)" if unknown else "name the entries")
    root, commit, dirty = checkout()
    if dirty and not args.dirty:
        parser.error(f"{root}/nvcodec has uncommitted changes (use a worktree of a commit, or --dirty)")
    for n in names if args.old or args.rehash else []:
        wanted = entries[n]["made_by"]["commit"] if args.rehash else OLD[n]["commit"]
        if commit != wanted:
            parser.error(f"{n} was written by {wanted}, but nvcodec is imported from {commit} ({root})")
    print(f"nvcodec from {root} at {commit}{' (dirty)' if dirty else ''}, {platform_key()}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clips = write_clips(work)
        for n in names:
            if args.rehash:
                e = entries[n]
                if sha256((HERE / n).read_bytes()) != e["sha256"]:
                    raise SystemExit(f"{n} is not the file the manifest describes")
                e["decoded"] = decoded(HERE / n, e["videos"], work)
            else:
                e = entry(n, specs[n], commit + ("+dirty" if dirty else ""), clips, work)
            if not args.old and not args.rehash:
                from nvcodec.container.nrv import FORMAT_MAJOR, FORMAT_MINOR

                if e["format_version"] != f"{FORMAT_MAJOR}.{FORMAT_MINOR}":
                    raise SystemExit(f"{n}: wrote version {e['format_version']}, not {FORMAT_MAJOR}.{FORMAT_MINOR}")
            entries[n] = e
            print(f"{n}: {e['format_version']} {e['model']} {e['bytes']} bytes", file=sys.stderr)
            save_manifest(entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
