"""A segmented encode's work folder and its workers: ``--resume`` reuses only segments that verify
against the plan and the input, refuses a folder it cannot check, and never leaves an output after
an error; ``--workers`` processes die with their parent and stop with it on Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from helpers import one_line

from nvcodec.io import synthetic_clip, write_video

QUICK = ["--segment", "4", "--params", "3000", "--epochs", "1", "--no-rd", "-q"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("resume")
    write_video(d / "base.mkv", synthetic_clip(16, 32, 64, seed=1), Fraction(25, 1))
    write_video(d / "other.mkv", synthetic_clip(16, 32, 64, seed=2), Fraction(25, 1))
    return d


def _interrupted(cli, monkeypatch: pytest.MonkeyPatch, source: Path, out: Path) -> Path:
    """The work folder of an encode of ``source`` stopped after its last segment, before the output."""

    def stop(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr("nvcodec.pipeline.run.finish", stop)
        assert cli("encode", source, "-o", out, *QUICK)[0] == 130
    parts = out.with_name(out.name + ".parts")
    assert len(list(parts.glob("segment-*.nrv"))) == 4 and not out.exists()
    return parts


@pytest.fixture(scope="module")
def reference(clips: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from nvcodec.cli import main

    out = tmp_path_factory.mktemp("ref") / "ref.nrv"
    assert main(["encode", str(clips / "base.mkv"), "-o", str(out), *QUICK]) == 0
    return out.read_bytes()


def test_a_damaged_or_foreign_segment_is_fitted_again(cli, clips, reference, monkeypatch, tmp_path) -> None:
    out = tmp_path / "r.nrv"
    parts = _interrupted(cli, monkeypatch, clips / "base.mkv", out)
    foreign = _interrupted(cli, monkeypatch, clips / "other.mkv", tmp_path / "o.nrv")
    shutil.copy(parts / "segment-00001.nrv", parts / "segment-00000.nrv")  # another segment's file
    (parts / "segment-00001.json").write_text((parts / "segment-00001.json").read_text()[:40])  # truncated
    shutil.copy(foreign / "segment-00002.nrv", parts / "segment-00002.nrv")  # another encode's file and manifest
    shutil.copy(foreign / "segment-00002.json", parts / "segment-00002.json")
    shutil.copy(parts / "segment-00000.json", parts / "segment-00003.json")  # another segment's manifest
    code, stdout, err = cli("encode", clips / "base.mkv", "-o", out, *QUICK, "--resume", "--json")
    assert code == 0, err
    notes = json.loads(stdout)["notes"]
    assert sum("did not verify" in n for n in notes) == 4
    assert out.read_bytes() == reference and not parts.exists()


@pytest.mark.parametrize("damage", ["removed", "damaged", "foreign"])
def test_a_plan_that_cannot_be_checked_refuses_the_resume(cli, clips, monkeypatch, tmp_path, damage) -> None:
    out = tmp_path / "r.nrv"
    parts = _interrupted(cli, monkeypatch, clips / "base.mkv", out)
    if damage == "removed":
        (parts / "plan.json").unlink()
    elif damage == "damaged":
        (parts / "plan.json").write_text('{"input": ')
    source = clips / ("other.mkv" if damage != "damaged" else "base.mkv")
    code, stdout, err = cli("encode", source, "-o", out, *QUICK, "--resume", "--json")
    assert code == 1 and one_line(err) and not out.exists()
    assert ("cannot be checked" if damage != "foreign" else "other input or options") in err
    assert json.loads(stdout) == {"error": err.strip().removeprefix("nvcodec: error: "), "status": 1}
    assert len(list(parts.glob("segment-*"))) == 8  # nothing of the user's work removed


def test_a_segmented_encode_keeps_the_notes_of_a_whole_one(cli, clips: Path, tmp_path: Path) -> None:
    data = (clips / "base.mkv").read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    code, stdout, err = cli("encode", cut, "-o", tmp_path / "c.nrv", *QUICK, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["frames"] < 16 and any("may be truncated" in n for n in report["notes"])
    code, stdout, err = cli("encode", clips / "base.mkv", "-o", tmp_path / "f.nrv", *QUICK, "--frames", "20", "--json")
    assert code == 0 and any("asked for 20 frames" in n for n in json.loads(stdout)["notes"])


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.append(pid)
    return out


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT at its default in the child, whatever the test run inherited (a run started in the
    background of a shell, as CI may be, ignores SIGINT, and a process keeps an ignored SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_workers_die_with_their_parent_and_stop_on_ctrl_c(clips: Path, tmp_path: Path) -> None:
    """Two encodes with two workers each: one parent is SIGKILLed, the other's process group gets
    Ctrl-C; no worker outlives its parent, and Ctrl-C gives exit 130 and one line."""
    args = [
        "encode",
        str(clips / "base.mkv"),
        "--segment",
        "4",
        "--params",
        "3000",
        "--epochs",
        "300",
        "--workers",
        "2",
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "nvcodec", *args, "-q", "-o", str(tmp_path / f"{k}.nrv")],
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        for k in range(2)
    ]
    deadline, workers = time.monotonic() + 60, [[], []]
    while time.monotonic() < deadline and min(len(w) for w in workers) < 2:
        time.sleep(0.2)
        workers = [
            [c for c in _children(p.pid) if b"nvcodec.pipeline.workers" in Path(f"/proc/{c}/cmdline").read_bytes()]
            for p in procs
        ]
    assert min(len(w) for w in workers) >= 2, "the workers did not start"
    procs[0].kill()
    os.killpg(procs[1].pid, signal.SIGINT)
    started = time.monotonic()
    procs[0].wait(timeout=30)
    assert procs[1].wait(timeout=30) == 130 and time.monotonic() - started < 10
    err = procs[1].stderr.read()
    assert one_line(err) and "interrupted" in err
    deadline = time.monotonic() + 10
    while _alive(workers[0] + workers[1]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(workers[0] + workers[1])
    assert not (tmp_path / "0.nrv").exists() and not (tmp_path / "1.nrv").exists()
    for p in procs:
        p.stderr.close()
