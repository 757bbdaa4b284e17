"""Inputs read once (pipes, fifos, standard input) and failures of the system (a full disk, a
symbolic link loop, a broken standard output): each a one-line error with the file's name and the
exit status of the README's table, never a traceback, never a partial output."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import av
import pytest
from helpers import one_line

from nvcodec.io import spooled

FAST = ["--params", "3000", "--epochs", "1", "-q"]


def _feed(fifo: Path, data: bytes, times: int) -> threading.Thread:
    """A writer that opens ``fifo`` ``times`` times, writing ``data`` the first time (a second open
    by the reader would get nothing: an input read twice fails)."""

    def run() -> None:
        for k in range(times):
            with open(fifo, "wb") as f:
                f.write(data if k == 0 else b"")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_read_once_and_the_copy_removed(cli, clip_dir: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    data = (clip_dir / "tiny.mkv").read_bytes()
    writer = _feed(fifo, data, 1)
    with spooled(fifo) as copy:
        assert copy != fifo and copy.read_bytes() == data
    writer.join(5)
    assert not copy.exists()
    writer = _feed(fifo, data, 2)
    code, stdout, err = cli("encode", fifo, "-o", tmp_path / "f.nrv", *FAST, "--json")
    assert code == 0, err
    assert json.loads(stdout)["frames"] == 8
    _feed(fifo, b"", 1)  # release the writer's second open
    writer.join(5)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_waiting_on_a_fifo(cli, tmp_path: Path, signum: int, status: int) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if the run ignores it
    release = threading.Timer(20, _feed, (fifo, b"", 1))  # if the signal did not stop the wait: fail, not hang
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signum))
    release.start()
    timer.start()
    try:
        code, _, err = cli("encode", fifo, "-o", tmp_path / "f.nrv", *FAST)
    finally:
        timer.join()
        release.cancel()
        signal.signal(signal.SIGINT, previous)
    assert code == status and one_line(err) and not (tmp_path / "f.nrv").exists()


def test_standard_input_and_a_piped_nrv(clip_dir: Path, small_nrv: Path, cli, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "nvcodec", "encode", "-", "-o", str(tmp_path / "p.nrv"), *FAST]
    done = subprocess.run(cmd, input=(clip_dir / "tiny.mkv").read_bytes(), capture_output=True)
    assert done.returncode == 0, done.stderr
    fifo = tmp_path / "nrv.fifo"
    os.mkfifo(fifo)
    writer = _feed(fifo, small_nrv.read_bytes(), 1)
    code, _, err = cli("decode", fifo, "-o", tmp_path / "p.mkv", "-q")
    assert code == 0, err
    writer.join(5)
    writer = _feed(fifo, b"garbage", 1)
    code, _, err = cli("info", fifo)
    assert code == 1 and one_line(err) and err.startswith(f"nvcodec: error: {fifo}: ")
    writer.join(5)


def _full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_a_one_line_error_naming_the_file(cli, clip_dir, small_nrv, tmp_path, monkeypatch) -> None:
    keep = tmp_path / "keep.nrv"
    keep.write_bytes(b"the user's file")
    monkeypatch.setattr("nvcodec.files.os.fsync", _full)
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", keep, "-y", *FAST)
    assert code == 1 and one_line(err) and f"{keep}: cannot write: No space left on device" in err
    assert keep.read_bytes() == b"the user's file"
    seg = tmp_path / "seg.nrv"
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", seg, "--segment", "4", *FAST)
    assert code == 1 and one_line(err) and "No space left on device" in err
    assert not seg.exists() and not (tmp_path / "seg.nrv.parts").exists()
    monkeypatch.undo()

    def no_space(*args: object) -> None:
        av.error.err_check(-errno.ENOSPC)

    monkeypatch.setattr("nvcodec.io.video._encode_to", no_space)
    code, _, err = cli("decode", small_nrv, "-o", tmp_path / "d.mkv", "-q")
    assert code == 1 and one_line(err) and "cannot write: No space left on device" in err and "try another" not in err
    assert not (tmp_path / "d.mkv").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small_nrv tmpfs (root only)")
def test_a_really_full_tmpfs(cli, clip_dir: Path, small_nrv: Path, tmp_path: Path) -> None:
    mount = tmp_path / "full"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        code, _, err = cli(
            "encode", clip_dir / "tiny.mkv", "-o", mount / "x.nrv", "--params", "30000", "--epochs", "1", "-q"
        )
        assert code == 1 and one_line(err) and "x.nrv: cannot write: No space left on device" in err
        code, _, err = cli("decode", small_nrv, "-o", mount / "d.y4m", "-q")
        assert code == 1 and one_line(err) and "d.y4m: cannot write: No space left on device" in err
        assert sorted(os.listdir(mount)) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a read-only tmpfs (root only)")
def test_a_read_only_file_system_is_named(cli, clip_dir: Path, small_nrv: Path, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode:
        pytest.skip("cannot mount a tmpfs here")
    encode = ("encode", clip_dir / "tiny.mkv", "-o", mount / "x.nrv", *FAST)
    try:
        for args in (encode, ("decode", small_nrv, "-o", mount / "d.mkv")):
            code, _, err = cli(*args)
            assert code == 1 and one_line(err) and "cannot write: read-only file system" in err
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_link_loops_newlines_and_bad_ranges(cli, clip_dir: Path, small_nrv: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "A.nrv", tmp_path / "B.nrv"
    a.symlink_to(b)
    b.symlink_to(a)
    for args in (("encode", clip_dir / "tiny.mkv", "-o", a, *FAST), ("encode", a, "-o", tmp_path / "z.nrv", *FAST)):
        code, _, err = cli(*args)
        assert code == 1 and one_line(err) and "symbolic link loop" in err
    code, _, err = cli("info", a)
    assert code == 1 and one_line(err) and "A.nrv" in err
    code, _, err = cli("encode", tmp_path / "no\nsuch.mkv", "-o", tmp_path / "z.nrv")  # progress bar on: no bar
    assert code == 1 and err.count("\n") == 1 and "no\\nsuch.mkv: no such file" in err
    for bad in ("abc", "1:2:3"):
        code, _, err = cli("decode", small_nrv, "-o", tmp_path / "r.mkv", "--frames", bad)
        assert code == 2 and one_line(err)


def test_unreadable_input_is_bad_input(cli, clip_dir: Path, tmp_path: Path, monkeypatch) -> None:
    clip = tmp_path / "locked.mkv"
    clip.write_bytes((clip_dir / "tiny.mkv").read_bytes())
    clip.chmod(0)
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != clip and access(path, mode))  # root reads all
    code, _, err = cli("encode", clip, "-o", tmp_path / "z.nrv", *FAST)
    assert code == 1 and one_line(err) and "cannot read: permission denied" in err


def test_debug_tracebacks_only_when_asked_and_json_errors(cli, small_nrv: Path, monkeypatch) -> None:
    def bug(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("nvcodec.pipeline.file_info", bug)
    for value, shown in (("0", False), ("", False), ("false", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("NVCODEC_DEBUG", value)
        code, stdout, err = cli("info", small_nrv, "--json")
        assert code == 3 and ("Traceback" in err) == shown
        assert json.loads(stdout)["status"] == 3


class _FullStdout:
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_standard_output_is_a_one_line_error(cli, small_nrv: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdout", _FullStdout())
    code, _, err = cli("info", small_nrv, "--json")
    assert code == 1 and one_line(err) and "<stdout>: cannot write: No space left on device" in err
