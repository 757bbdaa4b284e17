"""Reports that say only what is true: fields of other paths left out of the table (null in the
JSON), one name per quantity, full rows in a pipe, and ``-q`` printing nothing but errors."""

from __future__ import annotations

import json
from pathlib import Path


def test_the_default_path_shows_no_bit_depths(cli, clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.nrv"
    args = ["encode", clip_dir / "tiny.mkv", "-o", out, "--bpp", "1.0", "--epochs", "1"]
    code, stdout, err = cli(*args)
    assert code == 0, err
    fields = {line.split("│")[1].strip() for line in stdout.splitlines() if line.count("│") >= 3}
    assert {"bpp", "psnr", "kmac_per_pixel", "rate_estimate_bytes"} <= fields  # whole names in a pipe
    assert not fields & {"prune", "weight_bits", "embed_bits", "archive_bytes", "planned_seconds"}
    assert "null" not in stdout
    code, stdout, err = cli(*args, "-y", "--json")
    report = json.loads(stdout)
    assert report["weight_bits"] is None and report["embed_bits"] is None and report["prune"] is None
    code, stdout, err = cli(*args, "-y", "-q")
    assert code == 0 and stdout == "" and err == ""  # -q: nothing but errors


def test_post_training_keeps_its_depths_and_decode_says_decode_fps(cli, clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.nrv"
    args = ["--bpp", "2.0", "--epochs", "1", "--no-rd", "--json"]
    code, stdout, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, *args)
    assert code == 0, err
    report = json.loads(stdout)
    assert report["weight_bits"] >= 2 and report["prune"] is not None
    code, stdout, err = cli("decode", out, "-o", tmp_path / "d.mkv", "--json")
    decoded = json.loads(stdout)
    assert decoded["decode_fps"] > 0 and "fps" not in decoded
    info = json.loads(cli("info", out, "--json")[1])
    assert info["videos"][0]["frame_rate"] == 25.0 and info["videos"][0]["frame_rate_fraction"] == "25/1"
