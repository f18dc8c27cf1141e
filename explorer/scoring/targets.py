"""Score strings that follow a prompt (answer labels, choice texts, "True"/"False"), tokenised in context.

A target's tokens are those the tokenizer gives for prompt + target, minus the prompt's: " A" after
"Answer:" is whatever the model would have read there, and a label that is several tokens (" 1" is
" " + "1" for SmolLM2) is scored as a continuation, its log-probability summed over its tokens.
When every target of every prompt is one token, one next-token read per prompt gives them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.errors import FormatError
from explorer.models.handle import LoadedModel
from explorer.prompts.tokens import encode_continuation, encode_prompt
from explorer.scoring.context import Truncation, cut_needed, describe, position_limit, report_cuts, truncate_mode
from explorer.scoring.engine import DEFAULT, score_continuations, score_next_token
from explorer.scoring.progress import CancelToken, ProgressFn


@dataclass(frozen=True)
class TargetScores:
    """Per prompt i and target j: ``logprobs[i][j]`` = log p(target | prompt) summed over its tokens,
    ``first_logprobs[i][j]`` its first token's, ``first_ids[i][j]`` that token, ``n_tokens[i][j]``;
    ``top_ids``/``top_logprobs`` [n, top_k]: the most likely next tokens after each prompt, best first."""

    logprobs: list[np.ndarray]
    first_logprobs: list[np.ndarray]
    first_ids: list[tuple[int, ...]]
    n_tokens: list[np.ndarray]
    top_ids: np.ndarray
    top_logprobs: np.ndarray


def target_tokens(tokenizer, prompt: str, targets: Sequence[str], *, distinct: bool = False) -> list[list[int]]:
    """Each target's tokens in context: those of prompt + target after the prompt's; with ``distinct``,
    a clear error when two targets read the same (labels must be told apart)."""
    return _in_context(tokenizer, prompt, targets, distinct=distinct)[1]


def _in_context(tokenizer, prompt: str, targets: Sequence[str], *, distinct: bool = False
                ) -> tuple[int, list[list[int]]]:
    """(the prompt's token count, each target's tokens in context): :func:`target_tokens`."""
    pairs = [encode_continuation(tokenizer, prompt, t) for t in targets]
    n_prompt = len(pairs[0][0]) if pairs else len(encode_prompt(tokenizer, prompt))
    tokens = [cont for _, cont in pairs]
    if not distinct:
        return n_prompt, tokens
    seen: dict[tuple[int, ...], str] = {}
    for target, toks in zip(targets, tokens):
        if tuple(toks) in seen:
            raise FormatError(f"targets {seen[tuple(toks)]!r} and {target!r} are the same tokens {toks} after the "
                              "prompt; choose labels (or choices) that the tokenizer tells apart")
        seen[tuple(toks)] = target
    return n_prompt, tokens


def score_targets(model: LoadedModel, prompts: Sequence[str], targets: Sequence[Sequence[str]], *, top_k: int = 0,
                  distinct: bool = False, batch_size: int = 32, cache: Any = DEFAULT,
                  progress: ProgressFn | None = None, cancel: CancelToken | Callable[[], bool] | None = None,
                  truncate: str | None = None, names: Sequence[str] | None = None) -> TargetScores:
    """Log-probabilities of ``targets[i]`` after ``prompts[i]`` (see the module docstring);
    ``distinct``: refuse targets that are the same tokens (labels).

    Every prompt is checked against the model's limit before anything is scored
    (:mod:`explorer.scoring.context`): past it, a :class:`~explorer.scoring.context.ContextLengthError`
    naming ``names[i]`` (e.g. ``"the prompt of item 'q3'"``; default: the prompt's position), or with
    ``truncate="left"`` the prompt's start cut, in one warning for the call."""
    if len(prompts) != len(targets):
        raise ValueError(f"{len(prompts)} prompts but {len(targets)} lists of targets")
    encoded = [_in_context(model.tokenizer, p, ts, distinct=distinct) for p, ts in zip(prompts, targets)]
    tokens = [ts for _, ts in encoded]
    single = all(len(t) == 1 for ts in tokens for t in ts)
    _check_lengths(model, prompts, encoded, single=single, truncate=truncate, names=names)
    first_ids = [tuple(t[0] for t in ts) for ts in tokens]
    n_tokens = [np.array([len(t) for t in ts]) for ts in tokens]
    engine = dict(batch_size=batch_size, cache=cache, cancel=cancel, truncate=Truncation(truncate))
    if single:
        return _next_token(model, prompts, first_ids, n_tokens, top_k, progress, engine)
    steps = _Folded(progress, [len(prompts), len(prompts) if top_k else 0])
    per_token = score_continuations(model, prompts, targets, progress=steps.part(0), **engine)
    top = score_next_token(model, prompts, [], top_k=top_k, progress=steps.part(1), **engine) if top_k else None
    return TargetScores(logprobs=[np.array([t.sum() for t in lps]) for lps in per_token],
                        first_logprobs=[np.array([t[0] for t in lps]) for lps in per_token],
                        first_ids=first_ids, n_tokens=n_tokens,
                        top_ids=top.top_ids if top else np.zeros((len(prompts), 0), dtype=np.int64),
                        top_logprobs=top.top_logprobs if top else np.zeros((len(prompts), 0)))


def check_fits(model: LoadedModel, prompts: Sequence[str], targets: Sequence[Sequence[str]], *,
               truncate: str | None = None, names: Sequence[str] | None = None) -> None:
    """What :func:`score_targets` checks first, without scoring: for a probe that scores several prompt sets
    (formats, demonstrations, conditions) to refuse any of them before scoring the first. A prompt
    whose bytes (each token covers at least one) leave room is not tokenised."""
    limit = position_limit(model)
    truncate_mode(truncate)
    if limit is None:
        return
    room = limit.tokens - 8  # BOS, EOS and a SentencePiece prefix cover no byte
    near = [i for i, (p, ts) in enumerate(zip(prompts, targets))
            if len(p.encode()) + max((len(t.encode()) for t in ts), default=0) > room]
    if near:
        encoded = [_in_context(model.tokenizer, prompts[i], targets[i]) for i in near]
        single = all(len(t) == 1 for _, ts in encoded for t in ts)
        _check_lengths(model, [prompts[i] for i in near], encoded, single=single, truncate=truncate,
                       names=[names[i] for i in near] if names is not None else [describe(prompts[i], i) for i in near],
                       report=False)


def _check_lengths(model: LoadedModel, prompts: Sequence[str], encoded: Sequence[tuple[int, list[list[int]]]], *,
                   single: bool, truncate: str | None, names: Sequence[str] | None, report: bool = True) -> None:
    """Refuse (or, with ``truncate="left"``, report the cutting of) every prompt past the model's limit, at once."""
    mode = truncate_mode(truncate)
    limit = position_limit(model)
    if limit is None:
        return
    bos = model.tokenizer.bos_token_id
    cuts = []
    for i, (n_prompt, ts) in enumerate(encoded):
        keep = 0 if single else max((len(t) for t in ts), default=0)
        if n_prompt + keep <= limit.tokens:
            continue
        what = names[i] if names is not None else describe(prompts[i], i)
        head = int(bos is not None and encode_prompt(model.tokenizer, prompts[i])[:1] == [bos])
        cut = cut_needed(n_prompt + keep, keep, limit, truncate=mode, what=what, index=i, head=head)
        cuts.append((what, n_prompt + keep, cut))
    if report:
        report_cuts(cuts, limit)


def _next_token(model, prompts, first_ids, n_tokens, top_k, progress, engine) -> TargetScores:
    """One next-token read per prompt; prompts whose targets are the same tokens share one engine call."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, ids in enumerate(first_ids):
        groups.setdefault(ids, []).append(i)
    logprobs: list[np.ndarray] = [np.zeros(0)] * len(prompts)
    top_ids = np.zeros((len(prompts), top_k), dtype=np.int64)
    top_lps = np.zeros((len(prompts), top_k))
    steps = _Folded(progress, [len(rows) for rows in groups.values()])
    for g, (ids, rows) in enumerate(groups.items()):
        s = score_next_token(model, [prompts[i] for i in rows], ids, top_k=top_k, progress=steps.part(g), **engine)
        for n, i in enumerate(rows):
            logprobs[i] = s.logprobs[n]
        top_ids[rows], top_lps[rows] = s.top_ids, s.top_logprobs
    return TargetScores(logprobs=logprobs, first_logprobs=logprobs, first_ids=first_ids, n_tokens=n_tokens,
                        top_ids=top_ids, top_logprobs=top_lps)


class _Folded:
    """One progress stream over several engine calls of known sizes."""

    def __init__(self, progress: ProgressFn | None, sizes: Sequence[int]) -> None:
        self.progress, self.sizes, self.total = progress, list(sizes), sum(sizes)

    def part(self, index: int) -> ProgressFn | None:
        if self.progress is None or not self.sizes[index]:
            return None
        before, size, report, total = sum(self.sizes[:index]), self.sizes[index], self.progress, self.total
        return lambda done, of: report(before + (done * size // of if of else size), total)
