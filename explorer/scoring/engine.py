"""The scoring engine: next-token log-probabilities and continuation log-probabilities, fast.

Both run through one path: requests are tokenised, looked up in the result cache, sorted so that
prompts sharing a prefix sit together, chunked, and evaluated as a prefix tree
(:mod:`explorer.scoring.forward`), computing logits only where they are read. Results come back
in the caller's order and equal a one-prompt-at-a-time computation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explorer.models.handle import LoadedModel
from explorer.prompts.tokens import encode_continuation, encode_prompt
from explorer.scoring.cache import ResultCache, Value, cache_key, default_cache
from explorer.scoring.context import Truncation, describe, fit, position_limit, report_cuts, truncate_mode
from explorer.scoring.forward import SEGMENT_TOKENS, TOKEN_BUDGET, forward_tree
from explorer.scoring.plan import chunks
from explorer.scoring.progress import CancelToken, ProgressFn, check_cancel

DEFAULT = object()  # "use the default cache"
CHUNK_TOKENS = 65_536  # default distinct tokens per chunk of requests


@dataclass(frozen=True)
class NextTokenScores:
    """Next-token log-probabilities at the end of each prompt.

    ``logprobs[i, j]`` = log p(token_ids[j] | prompts[i]); ``top_ids``/``top_logprobs`` [n, top_k]
    are the most likely tokens, best first (``top_ids[:, 0]`` is the greedy next token).
    """

    token_ids: tuple[int, ...]
    logprobs: np.ndarray
    top_ids: np.ndarray
    top_logprobs: np.ndarray

    @property
    def probs(self) -> np.ndarray:
        return np.exp(self.logprobs)


@dataclass(frozen=True)
class Request:
    """One forward computation: a token sequence and the positions whose next token is read."""

    key: str
    ids: tuple[int, ...]
    positions: tuple[int, ...]


def score_next_token(
    model: LoadedModel,
    prompts: Sequence[str],
    token_ids: Sequence[int],
    *,
    top_k: int = 0,
    batch_size: int = 32,
    token_budget: int = TOKEN_BUDGET,
    cache: ResultCache | None | Any = DEFAULT,
    progress: ProgressFn | None = None,
    cancel: CancelToken | Callable[[], bool] | None = None,
    truncate: str | Truncation | None = None,
) -> NextTokenScores:
    """Log-probabilities of ``token_ids`` (and the ``top_k`` best tokens) after each prompt.

    A prompt past the model's limit (:func:`explorer.scoring.context.position_limit`) is refused
    before anything is scored; ``truncate="left"`` cuts its start instead (:mod:`explorer.scoring.context`)."""
    mode = truncate_mode(truncate)
    token_ids = tuple(int(t) for t in token_ids)
    targets = torch.tensor(token_ids, dtype=torch.long)
    state, limit, bos = model.state_key(), position_limit(model), model.tokenizer.bos_token_id
    requests, cuts = [], []
    for i, prompt in enumerate(prompts):
        whole = encode_prompt(model.tokenizer, prompt)
        ids, cut = fit(whole, 0, limit, truncate=mode, what=describe(prompt, i), index=i, bos=bos)
        key = cache_key(state, "next", prompt, token_ids, top_k, *(("left", limit.tokens) if cut else ()))
        requests.append(Request(key, ids, (len(ids) - 1,)))
        if cut:
            cuts.append((describe(prompt, i), len(whole), cut))
    if not isinstance(truncate, Truncation):
        report_cuts(cuts, limit)

    def reduce(lp: torch.Tensor) -> Value:
        top = torch.topk(lp[0], top_k) if top_k else None
        return (lp[0, targets].numpy(),
                top.indices.numpy() if top is not None else np.zeros(0, dtype=np.int64),
                top.values.numpy() if top is not None else np.zeros(0, dtype=np.float32))

    values = run_requests(model, requests, reduce, batch_size=batch_size, token_budget=token_budget, cache=cache,
                          progress=progress, cancel=cancel)
    n = len(values)
    return NextTokenScores(
        token_ids=token_ids,
        logprobs=np.stack([v[0] for v in values]).astype(np.float64) if n else np.zeros((0, len(token_ids))),
        top_ids=np.stack([v[1] for v in values]).astype(np.int64) if n else np.zeros((0, top_k), dtype=np.int64),
        top_logprobs=np.stack([v[2] for v in values]).astype(np.float64) if n else np.zeros((0, top_k)),
    )


def score_continuations(
    model: LoadedModel,
    contexts: Sequence[str],
    continuations: Sequence[Sequence[str]],
    *,
    batch_size: int = 32,
    token_budget: int = TOKEN_BUDGET,
    cache: ResultCache | None | Any = DEFAULT,
    progress: ProgressFn | None = None,
    cancel: CancelToken | Callable[[], bool] | None = None,
    truncate: str | Truncation | None = None,
) -> list[list[np.ndarray]]:
    """Per-token log-probabilities of each continuation after its context.

    ``result[i][j]`` is a float array with log p(token t of continuations[i][j] | context[i], earlier
    tokens); its sum is the sequence log-probability. The context of each ``i`` is computed once
    and shared by all its continuations. A context and continuation past the model's limit are
    refused before anything is scored; ``truncate="left"`` cuts the context's start instead.
    """
    if len(contexts) != len(continuations):
        raise ValueError(f"{len(contexts)} contexts but {len(continuations)} lists of continuations")
    mode = truncate_mode(truncate)
    state, limit, bos = model.state_key(), position_limit(model), model.tokenizer.bos_token_id
    requests, targets, shape, cuts = [], [], [], {}
    for i, (context, conts) in enumerate(zip(contexts, continuations)):
        shape.append(len(conts))
        for cont in conts:
            ctx_ids, cont_ids = encode_continuation(model.tokenizer, context, cont)
            whole = ctx_ids + cont_ids
            ids, cut = fit(whole, len(cont_ids), limit, truncate=mode, what=describe(context, i), index=i, bos=bos)
            positions = tuple(range(len(ctx_ids) - 1 - cut, len(ids) - 1))
            key = cache_key(state, "cont", context, cont, *(("left", limit.tokens) if cut else ()))
            requests.append(Request(key, ids, positions))
            targets.append(torch.tensor(cont_ids, dtype=torch.long))
            if cut:
                cuts[i] = max(cuts.get(i, (describe(context, i), 0, 0)), (describe(context, i), len(whole), cut),
                              key=lambda c: c[2])
    if not isinstance(truncate, Truncation):
        report_cuts(list(cuts.values()), limit)
    target_of = {id(r): t for r, t in zip(requests, targets)}

    values = run_requests(model, requests, lambda lp, r: (lp.gather(1, target_of[id(r)][:, None])[:, 0].numpy(),),
                          batch_size=batch_size, token_budget=token_budget, cache=cache, progress=progress,
                          cancel=cancel, with_request=True)
    out, at = [], 0
    for k in shape:
        out.append([values[at + j][0].astype(np.float64) for j in range(k)])
        at += k
    return out


class UncachedWarning(UserWarning):
    """Results are computed without the result cache, whose key cannot describe the model's state."""


def usable_cache(model: LoadedModel, cache: ResultCache | None | Any = DEFAULT) -> ResultCache | None:
    """The cache to read and write: ``cache`` (the default one for DEFAULT), or none while forward
    hooks that lm-explorer did not register are attached (their effect on outputs is unknown, so a
    cached clean result could be served for a hooked model). Says so once per model."""
    store: ResultCache | None = default_cache() if cache is DEFAULT else cache
    if store is None:
        return None
    foreign = model.foreign_hooks()
    if not foreign:
        return store
    if not model.noticed("foreign-hooks"):
        warnings.warn(f"{model.name}: forward hooks not registered by lm-explorer are attached to {foreign[:5]}"
                      f"{' ...' if len(foreign) > 5 else ''}; results are computed without the result cache "
                      "while they stay. Fix: remove them when done (or use explorer.interventions.add_hook).",
                      UncachedWarning, stacklevel=3)
    return None


def run_requests(
    model: LoadedModel,
    requests: Sequence[Request],
    reduce: Callable[..., Value],
    *,
    batch_size: int = 32,
    token_budget: int = TOKEN_BUDGET,
    segment_tokens: int = SEGMENT_TOKENS,
    chunk_tokens: int = CHUNK_TOKENS,
    cache: ResultCache | None | Any = DEFAULT,
    progress: ProgressFn | None = None,
    cancel: CancelToken | Callable[[], bool] | None = None,
    with_request: bool = False,
) -> list[Value]:
    """Evaluate requests (cached ones are not recomputed), returning ``reduce(logprobs)`` of each,
    in order. ``reduce`` turns the [positions, vocab] log-probs into small arrays worth caching.

    Requests are sorted so that shared prefixes sit together and cut into chunks of at most
    ``chunk_tokens`` distinct (prefix-tree) tokens, which bounds the keys and values held at once;
    ``batch_size``, ``token_budget`` and ``segment_tokens`` size the forward passes
    (:func:`explorer.scoring.forward.forward_tree`). Results are written to the cache as each
    chunk finishes, so a cancelled or failed run keeps what it finished.
    """
    store = usable_cache(model, cache)
    found = store.get_many(r.key for r in requests) if store is not None else {}
    todo: dict[str, Request] = {}
    for r in requests:
        if r.key not in found and r.key not in todo:
            todo[r.key] = r
    ordered = sorted(todo.values(), key=lambda r: r.ids)  # neighbours share prefixes
    if ordered:
        model.check_precision([r.ids for r in ordered])  # once, for a reduced-precision model on CPU
    total, done = len(ordered), 0
    if progress is not None:
        progress(0, total)
    check_cancel(cancel)
    computed: dict[str, Value] = {}
    for span in chunks([r.ids for r in ordered], chunk_tokens):
        part = ordered[span]
        fresh: dict[str, Value] = {}
        try:
            for idx, logprobs in forward_tree(model, [r.ids for r in part], [r.positions for r in part],
                                              batch_size=batch_size, token_budget=token_budget,
                                              segment_tokens=segment_tokens, on_batch=lambda _: check_cancel(cancel)):
                req = part[idx]
                fresh[req.key] = reduce(logprobs, req) if with_request else reduce(logprobs)
                done += 1
                if progress is not None and done % max(1, batch_size) == 0:
                    progress(done, total)
        finally:
            computed.update(fresh)
            if store is not None:
                store.put_many(fresh)
    if progress is not None:
        progress(total, total)
    everything = {**found, **computed}
    return [everything[r.key] for r in requests]

