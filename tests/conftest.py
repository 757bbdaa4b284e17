"""Shared fixtures: tiny synthetic clips written as lossless files, and an in-process CLI runner."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from nvcodec.cli import main
from nvcodec.io import synthetic_clip, write_video

WORKER = os.environ.get("PYTEST_XDIST_WORKER")
CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
if WORKER and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
    # each xdist worker on a core of its own: an encode takes the cores other processes leave free,
    # and two workers that each saw both cores free ran 4 threads on 2 cores (the suite took 1.5x)
    os.sched_setaffinity(0, {CORES[int(WORKER.removeprefix("gw") or 0) % len(CORES)]})
torch.set_num_threads(1 if WORKER else 2)  # two workers share the 2 cores


@pytest.fixture()
def all_cores():
    """The machine's every core for one test that runs torch on two threads (a worker's own core
    would make its threads wait on each other), the worker's core again after it."""
    if not (WORKER and hasattr(os, "sched_setaffinity")):
        yield
        return
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, CORES)
    try:
        yield
    finally:
        os.sched_setaffinity(0, mine)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding tiny lossless clips: 8x32x64, 16x64x128 and 8x36x70 (FFV1 .mkv)."""
    d = tmp_path_factory.mktemp("clips")
    for name, shape in {"tiny": (8, 32, 64), "lossless": (16, 64, 128), "odd": (8, 36, 70)}.items():
        write_video(d / f"{name}.mkv", synthetic_clip(*shape, seed=len(name)), Fraction(25, 1))
    return d


@pytest.fixture(scope="session")
def small_nrv(clip_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small .nrv file: the 8x32x64 clip at 3000 values, one epoch."""
    path = tmp_path_factory.mktemp("small") / "s.nrv"
    assert main(["encode", str(clip_dir / "tiny.mkv"), "-o", str(path), "--params", "3000", "--epochs", "1", "-q"]) == 0
    return path


@pytest.fixture()
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``nvcodec ARGS`` in-process; return (exit code, stdout, stderr)."""

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
