"""The scoring engine: batched, prefix-sharing, cached next-token and continuation scores."""

from explorer.scoring.cache import ResultCache, cache_key, default_cache
from explorer.scoring.engine import NextTokenScores, Request, run_requests, score_continuations, score_next_token
from explorer.scoring.progress import check_cancel, tqdm_progress

__all__ = ["score_next_token", "score_continuations", "run_requests", "NextTokenScores", "Request", "ResultCache",
           "cache_key", "default_cache", "check_cancel", "tqdm_progress"]
