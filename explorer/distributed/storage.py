"""Durable files for run folders: atomic writes that survive a crash, and one writer at a time.

A file is written under a temporary name in its own folder, flushed and fsynced, renamed into
place, and the folder fsynced, so after a kill or a power cut its name holds either the old
content or the whole new one. A writer holds an exclusive ``flock`` on ``RUN/.lock`` while it
writes: a second writer is refused at once, and a writer that dies (crash, SIGKILL, lost machine)
loses its lock with its process, so a stale lock never blocks a resume.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no flock; one writer at a time is then the user's to keep
    fcntl = None  # type: ignore[assignment]

TMP_SUFFIX = ".tmp"


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Callable[[IO[bytes]], None], *, tag: str) -> Path:
    """Write ``path`` through ``write(file)``: to ``.NAME.TAG.tmp`` first, fsynced, renamed, folder fsynced.
    A failure removes the temporary file and leaves ``path`` as it was."""
    tmp = path.with_name(f".{path.name}.{tag}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path


def stale_temporaries(folder: Path) -> list[Path]:
    """Temporary files a dead writer left in ``folder`` (only meaningful while holding the folder's lock)."""
    return sorted(folder.glob(f".*{TMP_SUFFIX}")) if folder.is_dir() else []


class WriterLock:
    """An exclusive, non-blocking ``flock`` on a file, released by :meth:`release` or when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> str | None:
        """Take the lock; None on success, else who holds it (as its holder wrote it down)."""
        if self._file is not None or fcntl is None:
            return None
        f = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip()
            f.close()
            return holder or "another process"
        except BaseException:
            f.close()
            raise
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                            "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
        f.flush()
        self._file = f
        return None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None


def describe_holder(text: str) -> str:
    """``process 123 on host since 2026-...`` from what a lock holder wrote down."""
    try:
        who = json.loads(text)
        return f"process {who['pid']} on {who['host']} (since {who['since']})"
    except (ValueError, KeyError, TypeError):
        return text
