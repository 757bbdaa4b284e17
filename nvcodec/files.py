"""Filesystem safety: outputs are written under a temporary name and renamed into place, temporary
files a killed run left behind are found and removed, an output never replaces an input, and an
archive is locked while a video is appended to it."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from nvcodec.errors import NvcError

TEMP_SUFFIX = ".part"
TEMP_DIR_PREFIX = ".nvcodec-tmp"


def umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def sweep_stale(directory: Path) -> None:
    """Remove the temporary files and folders of nvcodec runs that died in ``directory`` (killed
    before they could clean up): their names carry the writer's process id, and it is gone."""
    pattern = re.compile(rf"^\..*\.nvcodec(\d+)\.[^.]+{re.escape(TEMP_SUFFIX)}$|^{TEMP_DIR_PREFIX}(\d+)\.")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if m and not _alive(int(m.group(1) or m.group(2))):
            target = directory / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)


def temp_dir(beside: Path) -> Path:
    """A new hidden temporary folder beside ``beside``, named with this process id (see :func:`sweep_stale`)."""
    parent = _parent(beside)
    sweep_stale(parent)
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_DIR_PREFIX}{os.getpid()}.", dir=parent))


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path`` and rename it onto ``path``.

    The temporary file is removed on any failure, Ctrl-C and SIGTERM included, so no partial output
    is left; one a SIGKILL left is removed by the next write into that folder. A symbolic link at
    ``path`` is kept: its target is replaced. An existing file keeps its permission bits.
    """
    path = Path(path)
    if path.is_symlink():
        path = resolved(path)
    parent = _parent(path)
    if not parent.is_dir():
        raise NvcError(f"{path}: cannot write: directory {parent} does not exist")
    sweep_stale(parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.nvcodec{os.getpid()}.", suffix=TEMP_SUFFIX, dir=parent)
    except OSError as exc:
        raise NvcError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~umask()
    try:
        write(tmp)
        with open(tmp, "rb+") as f:  # on disk before the rename, so a crash leaves old or new, never half
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a quota, a read-only or vanished folder, an I/O error
        tmp.unlink(missing_ok=True)
        raise NvcError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resolved(path: Path) -> Path:
    """``path`` with every symbolic link followed; a loop is a one-line :class:`NvcError`."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError("Symlink loop ...")
        raise NvcError(f"{path}: cannot resolve: symbolic link loop ({exc})") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: Path, inputs: Sequence[Path] = (), overwrite: bool = False, existing: bool = False) -> None:
    """Refuse, before any work, an output that is one of ``inputs`` (same path or same file through
    links), a folder, one in a missing or unwritable folder, or, without ``overwrite``, one that
    exists already (``existing``: the caller found files of a pattern output)."""
    parent = _parent(path)
    for source in inputs:
        if _same_file(path, Path(source)) or resolved(path) == resolved(Path(source)):
            raise NvcError(f"{path}: is the input too; choose another output name")
    if path.is_dir():
        raise NvcError(f"{path}: cannot write: is a directory")
    if not parent.is_dir():
        raise NvcError(f"{path}: cannot write: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise NvcError(f"{path}: cannot write: {_why_not_writable(parent)}")
    if (path.exists() or existing) and not overwrite:
        raise NvcError(f"{path}: exists already (use -y / --overwrite to replace it)")


def _why_not_writable(folder: Path) -> str:
    """Why a folder ``os.access`` calls unwritable refuses writes: a read-only file system, or permissions."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return os.strerror(errno.EROFS).lower()
    except OSError:
        pass
    return "permission denied"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive OS lock (``flock``) on the file at ``path`` for the block, waiting for any
    other holder; the kernel releases it if the holder dies. Because writers replace the file by
    rename, the lock is taken again if the path names a new file once it is granted."""
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise NvcError(f"{path}: no such file") from None
        except OSError as exc:
            raise NvcError(f"{path}: cannot open: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)
