"""Every model of the zoo end to end through the CLI: encode an 8-frame 64x128 clip, decode, compare with the
report (the exact frame equality, whole and ``a:b``, of every model is in test_rd)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from nvcodec.io import read_video, synthetic_clip, write_video
from nvcodec.metrics import mean_psnr
from nvcodec.models import names

ZOO = [n for n in names() if n not in ("nerv", "hnerv")]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zoo") / "clip.mkv"
    write_video(path, synthetic_clip(8, 64, 128, seed=5), Fraction(25, 1))
    return path


@pytest.mark.parametrize("model", ZOO)
def test_zoo_model_round_trip(cli, clip: Path, tmp_path: Path, model: str) -> None:
    out, rec = tmp_path / "z.nrv", tmp_path / "z.mkv"
    args = ["--model", model, "--bpp", "1.0", "--epochs", "2", "--json", "-q"]
    code, stdout, err = cli("encode", clip, "-o", out, *args)
    assert code == 0, err
    report = json.loads(stdout)
    assert report["model"] == model and 0.85 <= report["bpp"] <= 1.0
    assert cli("decode", out, "-o", rec, "-q")[0] == 0
    measured = mean_psnr(read_video(clip).frames, read_video(rec).frames)
    assert measured == pytest.approx(report["psnr"], abs=0.05)
    code, stdout, _ = cli("info", out, "--json")
    assert json.loads(stdout)["model"] == model
