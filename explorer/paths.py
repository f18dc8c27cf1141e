"""Where lm-explorer keeps its caches (models and results)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$LM_EXPLORER_CACHE``, else the user cache dir (``$XDG_CACHE_HOME`` or ``~/.cache``)/lm-explorer."""
    env = os.environ.get("LM_EXPLORER_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lm-explorer"


def cache_dir() -> Path:
    """:func:`cache_root`, created if it does not exist."""
    base = cache_root()
    base.mkdir(parents=True, exist_ok=True)
    return base
