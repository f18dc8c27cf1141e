"""Real faults for tests: a tiny filesystem that fills up, a folder that cannot be written, a process
killed in the middle of a write.

Permissions cannot make writes fail for root (root ignores them, and the tests run as root here
and in CI), so a read-only folder is a read-only mount: a bind mount of the folder onto itself,
remounted ``ro``; a full disk is a ``tmpfs`` of a few kilobytes. Both need the right to mount
(root on Linux); where it is missing, :func:`need_mounts` skips with the exact reason.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True)


def mounts_unavailable(probe_dir: Path) -> str | None:
    """Why mounting is impossible here (None when it works): tried for real on a scratch folder."""
    if sys.platform != "linux":
        return f"a read-only or full filesystem is made with Linux mounts; this is {sys.platform}"
    probe = probe_dir / "mount-probe"
    probe.mkdir(parents=True, exist_ok=True)
    try:
        done = _mount("-t", "tmpfs", "-o", "size=16k", "tmpfs", str(probe))
    except FileNotFoundError:
        return "no `mount` program on this machine"
    if done.returncode != 0:
        return (f"`mount -t tmpfs` failed as uid {os.getuid()} ({done.stderr.strip()}): these faults need root "
                "(permissions do not stop root's writes, so they are made with mounts)")
    _umount(probe)
    return None


@pytest.fixture(scope="session")
def need_mounts(tmp_path_factory) -> None:
    """Skip, saying exactly why, where read-only and full filesystems cannot be mounted."""
    reason = mounts_unavailable(tmp_path_factory.mktemp("probe"))
    if reason:
        pytest.skip(reason)


@contextmanager
def full_disk(path: Path, size: str = "64k") -> Iterator[Path]:
    """``path`` (made empty) as a tmpfs of ``size`` bytes: writes past it fail with ENOSPC."""
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    assert done.returncode == 0, done.stderr
    try:
        yield path
    finally:
        _umount(path)


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` and what it holds, read-only (a bind mount remounted ro): writes fail with EROFS, even for root."""
    done = _mount("--bind", str(path), str(path))
    assert done.returncode == 0, done.stderr
    try:
        done = _mount("-o", "remount,ro,bind", str(path))
        assert done.returncode == 0, done.stderr
        yield path
    finally:
        _umount(path)


def fill(path: Path) -> None:
    """Fill the filesystem holding ``path`` to the last byte."""
    try:
        with open(path / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError as e:
        assert e.errno == errno.ENOSPC, e


def killed(script: str, *, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python (the repository first on the path); it is expected to die of
    SIGKILL (it kills itself at the moment the test chooses, so the kill is never a race)."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == -signal.SIGKILL, f"expected death by SIGKILL, got {done.returncode}: {done.stderr}"
    return done


KILL_SELF = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
