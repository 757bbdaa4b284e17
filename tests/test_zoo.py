"""Every model of the zoo end to end: encode an 8-frame 64x128 clip, decode, compare with the report."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from nvcodec import pipeline
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


@pytest.mark.parametrize("model", ZOO)
def test_zoo_decoded_frames_equal_reconstruction(clip: Path, tmp_path: Path, model: str) -> None:
    video = read_video(clip)
    opts = pipeline.EncodeOptions(model=model, bpp=None, params=20_000, epochs=1, device="cpu")
    report = pipeline.encode_video(video, tmp_path / "e.nrv", opts)
    _, frames = pipeline.decode_frames(tmp_path / "e.nrv", device="cpu")
    np.testing.assert_array_equal(frames, report.reconstruction)
    _, part = pipeline.decode_frames(tmp_path / "e.nrv", (3, 6), device="cpu")
    np.testing.assert_array_equal(part, report.reconstruction[3:6])
