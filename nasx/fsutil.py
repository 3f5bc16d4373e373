"""Atomic writes: a file or a folder appears complete under its name, or not at all.

Every file and folder nasx writes for a user (spec files, narrowed spaces, kept weights, new runs,
exports, reports) goes through these helpers: the content is written under a temporary name
beside the target (same file system, so the final rename is atomic) and renamed into place last.
A crash leaves the old target or the new one, plus at worst a dot-named temporary to sweep.
Errors are plain ``OSError``; callers turn them into their layer's NasxError.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class InstallError(OSError):
    """The final move of a finished temporary folder into place failed."""


def umask() -> int:
    """The process umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_file(path: Path) -> None:
    """Flush ``path``'s contents to disk (a file written without syncs, before it is renamed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)  # the rename itself survives a power cut too
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = False,
                       check: Callable[[Path], None] | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path.

    The file gets ordinary permissions (0666 minus the umask). ``durable`` fsyncs the file and
    its folder (for files a later transaction names, such as kept weights). ``check`` is called
    with the complete temporary file before the rename; when it raises, nothing is written.
    """
    out = Path(path)
    # the temporary keeps the target's suffix, so a check that reads by extension sees it
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=f".tmp{out.suffix}")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        tmp.chmod(0o666 & ~umask())  # mkstemp makes 0600; nasx's files are ordinary files
        if check is not None:
            check(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(out.parent)
    return out


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = False,
                      check: Callable[[Path], None] | None = None) -> Path:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable, check=check)


def install_folder(tmp: Path, target: Path, *, replace: bool = False) -> None:
    """Move the finished folder ``tmp`` to ``target``; InstallError when it cannot.

    ``target`` may be absent or an empty folder; with ``replace`` an existing folder is renamed
    aside first and removed only once the new one is in place.
    """
    old = None
    try:
        if target.exists() and not target.is_dir():
            raise InstallError(errno.ENOTDIR, "the output path exists and is not a folder",
                               str(target))
        if replace and target.exists():
            old = target.with_name(f".{target.name}.old-{tmp.name}")
            target.rename(old)
        elif target.exists():
            target.rmdir()  # empty (the caller checked); a rename cannot replace a folder
        os.replace(tmp, target)
    except InstallError:
        raise
    except OSError as exc:
        raise InstallError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def temp_folder_beside(target: Path, *, name: str | None = None, mode: int | None = None
                       ) -> Path:
    """A new folder beside ``target``: ``.NAME.tmp-XXXXXXXX``, or ``name`` (removed first if a
    leftover of that name exists); its mode is ``mode``, else 0777 minus the umask."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if name is None:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    else:
        tmp = target.parent / name
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    tmp.chmod(mode if mode is not None else 0o777 & ~umask())  # mkdtemp makes 0700
    return tmp


@contextmanager
def atomic_folder(target: str | os.PathLike[str], *, tmp: Path | None = None,
                  replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; move it into place when the block ends.

    ``tmp`` is a folder made by :func:`temp_folder_beside` (default: a new one). When the block
    raises, or the move fails (:class:`InstallError`), the temporary folder is removed and the
    target is left as it was. See :func:`install_folder` for ``replace``.
    """
    out = Path(target)
    folder = tmp if tmp is not None else temp_folder_beside(out)
    try:
        yield folder
        install_folder(folder, out, replace=replace)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
