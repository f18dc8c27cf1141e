"""The scoring engine: batched, prefix-sharing, cached next-token and continuation scores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.scoring.engine import NextTokenScores, Request, run_requests, score_continuations, score_next_token
    from explorer.scoring.cache import cache_key, CacheWarning, default_cache, ResultCache
    from explorer.scoring.context import ContextLengthError, position_limit, TruncationWarning
    from explorer.scoring.progress import check_cancel, tqdm_progress

_EXPORTS = {
    "score_next_token": "explorer.scoring.engine",
    "score_continuations": "explorer.scoring.engine",
    "run_requests": "explorer.scoring.engine",
    "NextTokenScores": "explorer.scoring.engine",
    "Request": "explorer.scoring.engine",
    "ResultCache": "explorer.scoring.cache",
    "cache_key": "explorer.scoring.cache",
    "default_cache": "explorer.scoring.cache",
    "CacheWarning": "explorer.scoring.cache",
    "ContextLengthError": "explorer.scoring.context",
    "TruncationWarning": "explorer.scoring.context",
    "position_limit": "explorer.scoring.context",
    "check_cancel": "explorer.scoring.progress",
    "tqdm_progress": "explorer.scoring.progress",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
