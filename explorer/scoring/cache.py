"""Result cache: keyed by the model's state, the exact prompt and what was asked; memory + disk.

Re-running a probe, or moving a slider back, finds every result already here. Values are small
numpy arrays (the requested tokens' log-probs, a top-k), never whole vocabularies.

The disk is a convenience, never a reason to fail or to lose work. A file that is not a database
(truncated, overwritten) is moved aside, with one warning, and a new one started; a folder that
cannot be written (read-only, full, gone) turns the disk off for this cache with one warning, and
every result, those computed before the failure included, stays in memory for the session.
Several processes may share one file (SQLite's write-ahead log; writers wait for each other).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from explorer.paths import cache_root

Value = tuple[np.ndarray, ...]
T = TypeVar("T")

# Bump when what a cached value means changes (tokenisation, reductions), so old entries miss.
ENGINE_VERSION = 2  # 2: log-probabilities normalised with logsumexp (explorer.scoring.logprobs)


class CacheWarning(UserWarning):
    """The result cache's file was damaged and rebuilt, or the disk is off: results stay in memory."""


def cache_key(*parts: Any) -> str:
    """A stable digest of JSON-serialisable parts (model state key, kind, prompt, options)."""
    return hashlib.sha256(json.dumps([ENGINE_VERSION, *parts], sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _pack(value: Value) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, *value)
    return buf.getvalue()


def _unpack(blob: bytes) -> Value:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return tuple(z[f"arr_{i}"] for i in range(len(z.files)))


def _damaged(error: sqlite3.Error) -> bool:
    """True for errors that say the file's content is bad (not that it cannot be reached or written)."""
    if "malformed" in str(error) or "not a database" in str(error):
        return True
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError)


class ResultCache:
    """An LRU in memory in front of an optional SQLite file; safe to share between threads.

    ``disk_error`` says why the disk was turned off (None while it is in use)."""

    def __init__(self, path: Path | None = None, *, max_memory_items: int = 500_000) -> None:
        self.path = Path(path) if path is not None else None
        self._memory: OrderedDict[str, Value] = OrderedDict()
        self._max = max_memory_items
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.hits = self.misses = 0
        self.disk_error: str | None = None
        self.moved_aside: Path | None = None  # where a damaged file went
        self._told_bad = False  # damaged entries: said once
        if self.path is not None:
            with self._lock:
                self._disk(self._open, None)

    # --- disk, with every failure handled in one place ------------------------------------------------
    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB)")
            db.execute("SELECT key FROM results LIMIT 1").fetchall()
        except BaseException:
            db.close()
            raise
        self._db = db

    def _disk(self, op: Callable[[], T], default: T) -> T:
        """Run a disk operation (lock held); a damaged file is moved aside and the operation retried on
        a new one, any other failure turns the disk off. Warns once either way."""
        for attempt in range(2):
            try:
                return op()
            except (sqlite3.Error, OSError) as e:
                if attempt == 0 and isinstance(e, sqlite3.Error) and _damaged(e) and self._move_aside(e):
                    continue
                self._off(e)
                return default
        return default

    def _move_aside(self, error: sqlite3.Error) -> bool:
        assert self.path is not None
        if self._db is not None:
            self._db.close()
            self._db = None
        aside = self.path.with_name(f"{self.path.name}.damaged-{datetime.now():%Y%m%dT%H%M%S%f}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):  # its log goes with it; a new file starts clean
                if Path(f"{self.path}{suffix}").exists():
                    os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
            self._open()
        except (sqlite3.Error, OSError) as e:
            self._off(e)
            return False
        self.moved_aside = aside
        warnings.warn(f"result cache {self.path} was damaged ({error}); moved it to {aside} and started a new one "
                      "(results it held are computed again)", CacheWarning, stacklevel=4)
        return True

    def _off(self, error: BaseException) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        if self.disk_error is None:
            self.disk_error = f"{type(error).__name__}: {error}"
            warnings.warn(f"result cache {self.path} cannot be used ({self.disk_error}); results are kept in memory "
                          "for this session only. Fix: free space or make the folder writable, or point "
                          "LM_EXPLORER_RESULTS at a writable file", CacheWarning, stacklevel=4)

    def _select(self, keys: list[str]) -> dict[str, Value]:
        assert self._db is not None
        found: dict[str, Value] = {}
        bad = 0
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            for k, blob in self._db.execute(
                    f"SELECT key, value FROM results WHERE key IN ({','.join('?' * len(part))})", part):
                try:
                    found[k] = _unpack(blob)
                except (ValueError, OSError, EOFError, KeyError):  # a damaged entry is a miss, and replaced
                    bad += 1
        if bad and not self._told_bad:
            self._told_bad = True
            warnings.warn(f"result cache {self.path}: {bad} damaged entries are computed again", CacheWarning,
                          stacklevel=4)
        return found

    def _insert(self, values: Mapping[str, Value]) -> None:
        assert self._db is not None
        with self._db:  # one transaction, rolled back if it fails
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?)",
                                 [(k, _pack(v)) for k, v in values.items()])

    # --- the cache ---------------------------------------------------------------------------------
    @property
    def on_disk(self) -> bool:
        """True while results are written to the file."""
        return self._db is not None

    def get_many(self, keys: Iterable[str]) -> dict[str, Value]:
        """The cached values among ``keys``."""
        keys = list(keys)
        found: dict[str, Value] = {}
        with self._lock:
            for k in keys:
                if k in self._memory:
                    self._memory.move_to_end(k)
                    found[k] = self._memory[k]
            missing = [k for k in keys if k not in found]
            if self._db is not None and missing:
                for k, v in self._disk(lambda: self._select(missing), {}).items():
                    found[k] = v
                    self._remember(k, v)
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, values: Mapping[str, Value]) -> None:
        """Store values in memory, then on disk (where the disk fails they stay in memory)."""
        if not values:
            return
        with self._lock:
            for k, v in values.items():
                self._remember(k, v)
            if self._db is not None:
                self._disk(lambda: self._insert(values), None)

    def _remember(self, key: str, value: Value) -> None:
        self._memory[key] = value
        self._memory.move_to_end(key)
        while len(self._memory) > self._max:
            self._memory.popitem(last=False)

    def clear_memory(self) -> None:
        with self._lock:
            self._memory.clear()

    def __len__(self) -> int:
        return len(self._memory)


_DEFAULTS: dict[Path, ResultCache] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_cache() -> ResultCache:
    """The shared cache: ``$LM_EXPLORER_RESULTS`` if set, else ``cache_root()/results.sqlite`` (a folder
    that cannot be made leaves the cache in memory, with one warning)."""
    path = Path(os.environ.get("LM_EXPLORER_RESULTS") or cache_root() / "results.sqlite")
    with _DEFAULTS_LOCK:
        if path not in _DEFAULTS:
            _DEFAULTS[path] = ResultCache(path)
        return _DEFAULTS[path]
