"""``encode --log FILE``: one JSON line per epoch of every stage, and the notes."""

from __future__ import annotations

import json
from pathlib import Path


def test_the_log_holds_every_epoch_of_every_stage(cli, clip_dir: Path, tmp_path: Path) -> None:
    log, out = tmp_path / "fit.jsonl", tmp_path / "t.nrv"
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, "--bpp", "1.0", "--epochs", "6", "--log", log, "-q")
    assert code == 0, err
    records = [json.loads(line) for line in log.read_text().splitlines()]
    epochs = [r for r in records if "stage" in r]
    assert {r["stage"] for r in epochs} >= {"rd", "exact"} and len(epochs) >= 6
    for r in epochs:
        assert r["loss"] > 0 and 0 < r["psnr"] < 100 and r["lr"] >= 0 and r["seconds"] >= 0
    assert all("bpp" in r and "lam" in r for r in epochs if r["stage"] in ("rd", "exact"))
    assert [r["seconds"] for r in epochs] == sorted(r["seconds"] for r in epochs)


def test_an_existing_log_is_kept_unless_overwrite(cli, clip_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "fit.jsonl"
    log.write_text("mine\n")
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "t.nrv", "--epochs", "1", "--log", log)
    assert code != 0 and "exists already" in err and log.read_text() == "mine\n"
    assert not (tmp_path / "t.nrv").exists()
