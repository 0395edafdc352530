"""Atomic file writes shared by ``Module.save`` and ``tg.viz.save_graph``.

:func:`write_atomic` writes to a temporary file beside the destination, flushes it to the disk
(``fsync``), renames it over the destination in one step and then flushes the directory, so the
destination is either the old file or the whole new one, even after a power cut. The new file keeps
the permission bits of the file it replaces; a file that did not exist gets the usual
``0o666 & ~umask``. Any ``OSError`` names the destination the caller asked for, never the
temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(f)`` on a temporary binary file beside ``path``, then move it to ``path``; returns ``path``."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise _naming(e, path) from None
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 honours the umask, unlike tempfile's private 0o600 files.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(tmp, mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise
    _fsync_directory(path)
    return path


def _fsync_directory(path: Path) -> None:
    """Flush the directory entry of ``path`` after the rename (POSIX; a no-op where directories cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems do not support fsync on a directory; that is not a failed save.
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise _naming(e, path) from None
    finally:
        os.close(fd)


def _naming(err: OSError, path: Path) -> OSError:
    """The same error (same class and errno) about ``path`` instead of the temporary file."""
    if err.errno is None:
        return type(err)(f"{err} (writing {path})")
    return OSError(err.errno, err.strerror or os.strerror(err.errno), str(path))  # OSError picks the subclass
