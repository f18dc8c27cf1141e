"""Result cache: keyed by the model's state, the exact prompt and what was asked; memory + disk.

Re-running a probe, or moving a slider back, finds every result already here. Values are small
numpy arrays (the requested tokens' log-probs, a top-k), never whole vocabularies.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from explorer.paths import cache_dir

Value = tuple[np.ndarray, ...]

# Bump when what a cached value means changes (tokenisation, reductions), so old entries miss.
ENGINE_VERSION = 1


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


class ResultCache:
    """An LRU in memory in front of an optional SQLite file; safe to share between threads."""

    def __init__(self, path: Path | None = None, *, max_memory_items: int = 500_000) -> None:
        self.path = path
        self._memory: OrderedDict[str, Value] = OrderedDict()
        self._max = max_memory_items
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.hits = self.misses = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB)")

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
                for i in range(0, len(missing), 500):
                    part = missing[i : i + 500]
                    rows = self._db.execute(
                        f"SELECT key, value FROM results WHERE key IN ({','.join('?' * len(part))})", part)
                    for k, blob in rows:
                        found[k] = _unpack(blob)
                        self._remember(k, found[k])
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, values: Mapping[str, Value]) -> None:
        """Store values in memory and on disk."""
        if not values:
            return
        with self._lock:
            for k, v in values.items():
                self._remember(k, v)
            if self._db is not None:
                self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?)",
                                     [(k, _pack(v)) for k, v in values.items()])
                self._db.commit()

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
    """The shared cache: ``$LM_EXPLORER_RESULTS`` if set, else ``cache_dir()/results.sqlite``."""
    path = Path(os.environ.get("LM_EXPLORER_RESULTS") or cache_dir() / "results.sqlite")
    with _DEFAULTS_LOCK:
        if path not in _DEFAULTS:
            _DEFAULTS[path] = ResultCache(path)
        return _DEFAULTS[path]
