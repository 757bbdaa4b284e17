"""Golden files (tests/golden/, made by tests/golden/make_golden.py): small .nrv files written by known
commits, one per format version the reader still reads and one per live model id at the current
version. Today's decoder must give exactly the frames the writer's own decoder gave (SHA-256 of the
uint8 frames), and today's encoder must rewrite the entries marked ``reproduce`` byte for byte.

A failure here means a decoder change altered what an existing file decodes to (do not regenerate the
file: that hides the regression), or the encoder's output changed (then, if intended, regenerate that
entry: ``python tests/golden/make_golden.py hnerv-5.0.nrv``), or a golden file was edited.

The decoder is float arithmetic: its exact frames depend on the torch thread count (the tests set the
manifest's), the CPU kernels (hashes are kept per ``machine/capability``: x86_64 AVX512, AVX2,
DEFAULT, emulated on an AVX-512 host; a host without AVX-512 has a key of its own) and the torch
version (the manifest's). On a platform without a hash, or another torch, the frames are checked
loosely (per-frame channel sums within a few units) and the exact check is
reported as skipped.
"""

from __future__ import annotations

import hashlib
import json
import platform
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec.container.nrv import FORMAT_MAJOR, FORMAT_MINOR
from nvcodec.io import synthetic_clip, write_video
from nvcodec.models import names, spec
from nvcodec.pipeline.decode import decode_frames

GOLDEN = Path(__file__).parent / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
FILES = MANIFEST["files"]
CURRENT = f"{FORMAT_MAJOR}.{FORMAT_MINOR}"
OLDER = ("1.0", "1.1", "2.0", "3.0", "4.0", "4.1", "4.2")  # what docs/format.md promises the reader still reads
SUM_SLACK = 8  # a frame's channel sum may move this much where no exact hash applies (rounding flips)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def platform_key() -> str:
    """As make_golden.py keys its hashes: ``machine/capability``, ``/no-avx512`` on a host without
    AVX-512 (its MKL and oneDNN kernels differ from the AVX-512 host's emulated lower levels)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    host = "" if "avx512f" in flags.split() else "/no-avx512"
    return f"{platform.machine()}/{torch.backends.cpu.get_cpu_capability()}{host}"


def exact_for(entry: dict, hashes: dict) -> str | None:
    """Why this machine has no exact reference in ``hashes`` for ``entry``, or None when it has one."""
    made = entry["made_by"]["torch"].split("+")[0]
    if torch.__version__.split("+")[0] != made:
        return f"the hashes are of torch {made}, this is {torch.__version__}"
    if platform_key() not in hashes:
        return f"no hash for {platform_key()} (make_golden.py --rehash adds one)"
    return None


@pytest.fixture(autouse=True)
def golden_threads():
    """Decode and encode at the torch thread count the files were made with: float sums depend on it
    (hfe-hnerv-4.1 and nerv-4.1 decode one value differently at 2 threads; see ``at_2_threads``)."""
    before = torch.get_num_threads()
    torch.set_num_threads(MANIFEST["torch_threads"])
    yield
    torch.set_num_threads(before)


def test_manifest_covers_every_readable_version_and_every_model() -> None:
    versions = {e["format_version"] for e in FILES}
    assert {*OLDER, CURRENT} <= versions, f"no golden file of version {sorted({*OLDER, CURRENT} - versions)}"
    current = [e for e in FILES if e["format_version"] == CURRENT]
    missing = set(names()) - {e["model"] for e in current}
    assert not missing, f"no {CURRENT} golden file of {sorted(missing)}: python tests/golden/make_golden.py"
    assert any(e["videos"] > 1 for e in current), "no archive of several videos"
    assert any("segments" in e["name"] for e in current), "no segmented file"
    assert any(e["reproduce"] for e in current), "no file the encoder is checked to rewrite"
    assert sorted(p.name for p in GOLDEN.glob("*.nrv")) == sorted(e["name"] for e in FILES)


@pytest.mark.parametrize("entry", FILES, ids=[e["name"] for e in FILES])
def test_golden_file_decodes_to_its_writers_frames(cli, entry: dict) -> None:
    path = GOLDEN / entry["name"]
    assert sha256(path.read_bytes()) == entry["sha256"], f"{path} is not the file the manifest describes"
    code, out, err = cli("info", path, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert (info["format_version"], info["model"]) == (entry["format_version"], entry["model"])
    assert info["videos_count"] == entry["videos"] == len(entry["decoded"])
    assert spec(entry["model"]).model_id == entry["model_id"]
    loose = []
    for video in entry["decoded"]:
        _, frames = decode_frames(path, device="cpu", video=video["video"])
        assert list(frames.shape) == video["shape"]
        writer = entry["made_by"]["commit"][:12]
        why = exact_for(entry, video["frames_sha256"])
        if why is None:
            got = sha256(np.ascontiguousarray(frames).tobytes())
            hint = ""
            if got == video.get("at_2_threads", {}).get("frames_sha256"):
                hint = " (it is the writer's 2-thread decode: torch threads not as in the manifest?)"
            assert got == video["frames_sha256"][platform_key()], (
                f"{entry['name']} video {video['video']}: today's decoder gives other frames than {writer}'s{hint}"
            )
        else:
            sums = frames.astype(np.int64).sum(axis=(1, 2))
            moved = int(np.abs(sums - np.array(video["frame_sums"])).max())
            assert moved <= SUM_SLACK, (
                f"{entry['name']} video {video['video']}: a frame's channel sum is {moved} away from {writer}'s"
            )
            loose.append(why)
    if loose:
        pytest.skip(f"frames checked loosely only: {loose[0]}")


@pytest.mark.parametrize("entry", [e for e in FILES if e["reproduce"]], ids=lambda e: e["name"])
def test_encode_reproduces_golden_file(cli, tmp_path: Path, entry: dict) -> None:
    why = exact_for(entry, entry["reproduce"])
    if why is not None:
        pytest.skip(f"the encode's bytes are known for {sorted(entry['reproduce'])} only: {why}")
    paths = {"out": tmp_path / entry["name"]}
    for name, c in MANIFEST["clips"].items():
        paths[name] = tmp_path / (f"{name}.y4m" if "pix_fmt" in c else f"{name}.mkv")
        clip = synthetic_clip(c["frames"], c["height"], c["width"], seed=c["seed"])
        write_video(paths[name], clip, Fraction(c["fps"]), pix_fmt=c.get("pix_fmt"))
    for step in entry["made_by"]["argv"]:
        argv = [str(paths[a[1:-1]]) if a.startswith("{") and a.endswith("}") else a for a in step]
        code, _, err = cli(*argv)
        assert code == 0, err
    data = paths["out"].read_bytes()
    want = entry["reproduce"][platform_key()]
    assert (len(data), sha256(data)) == (want["bytes"], want["sha256"]), (
        f"today's encoder no longer writes {entry['name']} on {platform_key()} ({entry['made_by']['commands']}); "
        f"if the change is intended: python tests/golden/make_golden.py {entry['name']}"
    )
