"""``--time``: durations, the epoch plan, option checks, and an encode that reports its plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nvcodec.errors import NvcError
from nvcodec.fit import FitConfig, FrameSource, fit
from nvcodec.models import solve_config, spec
from nvcodec.pipeline import EncodeOptions
from nvcodec.pipeline.options import Training
from nvcodec.pipeline.timing import TIME_SHARE, parse_duration, plan_epochs
from nvcodec.progress import Reporter


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("1h30m", 5400), ("2m5s", 125)]
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "10x", "1m1h", "-5", "1e3", "0", "0s", "200h"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(NvcError, match="--time"):
        parse_duration(text)


def test_the_plan_takes_the_most_epochs_that_fit() -> None:
    per_epoch, post = 2.0, 10.0
    plan = plan_epochs(lambda e: per_epoch * e, post, 100.0)
    assert plan.epochs == int((TIME_SHARE * 100.0 - post) / per_epoch)
    assert plan.planned_seconds == pytest.approx(per_epoch * plan.epochs + post)
    assert plan_epochs(lambda e: per_epoch * e, post, 5.0).epochs == 1  # too little time: still one epoch
    stages = lambda e: sum(Training().stage_epochs(e))  # noqa: E731 - small epoch counts run more epochs than asked
    assert stages(plan_epochs(stages, 0.0, 4.0 / TIME_SHARE).epochs) <= 4


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"time": 60.0, "epochs": 5}, "at most one of --time and --epochs"),
        ({"time": 60.0, "rd": False}, "--time plans rate–distortion encodes"),
        ({"time": 60.0, "prune": 0.2}, "--time plans rate–distortion encodes"),
        ({"time": 60.0, "model": "hinerv", "patch": 32}, "whole-frame"),
        ({"time": -1.0}, "must be positive"),
    ],
)
def test_time_options_are_checked(given: dict, message: str) -> None:
    with pytest.raises(NvcError, match=message):
        EncodeOptions(**given)


def test_max_steps_stops_the_fit() -> None:
    model_spec = spec("hnerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    source = FrameSource(torch.zeros(8, 32, 64, 3, dtype=torch.uint8), (32, 64))
    seen = []
    fit(model, source, FitConfig(epochs=5, max_steps=3), Reporter(), after_step=lambda: seen.append(1))
    assert len(seen) == 3


@pytest.mark.parametrize(("duration", "short"), [("4s", False), ("0.1s", True)])
def test_a_timed_encode_reports_its_plan(duration: str, short: bool, cli, clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.nrv"
    code, stdout, err = cli(
        "encode", clip_dir / "tiny.mkv", "-o", out, "--time", duration, "--bpp", "1.0", "--json", "-q"
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert report["planned_seconds"] > 0 and report["epochs"] >= 1 and report["encode_seconds"] > 0
    assert any("shortest encode" in n for n in report["notes"]) == short


@pytest.mark.parametrize("rd", [[], ["--rd"]])
def test_a_timed_archive_and_append_report_their_plans(rd: list[str], cli, clip_dir: Path, tmp_path: Path) -> None:
    out, args = tmp_path / "a.nrv", ["--bpp", "2.0", "--json", "-q", "--time", "3s"]
    code, stdout, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, "--model", "pfnr", *rd, *args)
    assert code == 0, err
    first = json.loads(stdout)
    code, stdout, err = cli("append", out, clip_dir / "tiny.mkv", *args)
    assert code == 0, err
    for report in (first, json.loads(stdout)):
        assert report["planned_seconds"] > 0 and report["epochs"] >= 1
