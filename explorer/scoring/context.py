"""How many tokens a model can read, and what happens to a prompt that is longer.

The limit comes from the model's config, never the tokenizer (SmolLM2's tokenizer reports no
limit at all): ``max_position_embeddings`` (GPT-2's ``n_positions``), and, where every layer
attends through a sliding window of W tokens, the farthest any token can reach the last one,
L x (W - 1) + 1 for L layers (a model with one full-attention layer, like Gemma 2 and 3, has no
such bound). A prompt past the limit is refused before anything is scored, with the item, its
token count and the limit (:class:`ContextLengthError`).

``truncate="left"`` opts into cutting instead: tokens are dropped from the prompt's start (after a
leading BOS, which the model expects there) until the prompt and its longest scored continuation
fit. For a multiple-choice prompt that keeps what the answer is read from (the choices, the
"Answer:" cue and the end of the question) and loses the question's beginning or, with
demonstrations, the first demonstrations: the model then answers a question it cannot fully
read, so every cut is reported in one warning per call, and a target that alone exceeds the
limit is still refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from explorer.errors import ExplorerError

TRUNCATE = (None, "left")


class ContextLengthError(ExplorerError, ValueError):
    """A prompt (with what is scored after it) is longer than the model can read; names it, its token
    count and the limit. ``index`` is the prompt's position in the call that refused it."""

    def __init__(self, what: str, n_tokens: int, limit: Limit, *, index: int = 0, extra: str = "") -> None:
        self.what, self.n_tokens, self.limit, self.index, self.extra = what, n_tokens, limit, index, extra
        super().__init__(f"{what} is {n_tokens} tokens{extra}, past the {limit.tokens} this model reads "
                         f"({limit.source}). Fix: shorten it (fewer demonstrations, shorter choices), use a model "
                         "that reads more, or pass truncate='left' to cut the prompt's start")



class TruncationWarning(UserWarning):
    """Prompts were cut from the left to fit the model (``truncate="left"``)."""


@dataclass(frozen=True)
class Truncation:
    """``truncate=`` for an engine call whose caller reports the cuts itself (once, naming its items)."""

    mode: str | None


@dataclass(frozen=True)
class Limit:
    """The most tokens a model reads, and where that number comes from."""

    tokens: int
    source: str


def position_limit(model) -> Limit | None:
    """The model's limit (see the module docstring); None when its config states none."""
    config = model.model.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    limits = []
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(Limit(positions, f"config.max_position_embeddings = {positions}"))
    reach = _window_reach(config)
    if reach is not None:
        limits.append(reach)
    return min(limits, key=lambda lim: lim.tokens) if limits else None


def _window_reach(config) -> Limit | None:
    window = getattr(config, "sliding_window", None)
    if not isinstance(window, int) or window <= 0:
        return None
    types = getattr(config, "layer_types", None)
    if types is not None:
        if any(t != "sliding_attention" for t in types):
            return None  # a full-attention layer sees every earlier token
    elif getattr(config, "use_sliding_window", True) is False:
        return None
    layers = int(config.num_hidden_layers)
    return Limit(layers * (window - 1) + 1, f"every one of its {layers} layers attends through a sliding window of "
                                            f"{window} tokens, so no token farther back reaches the last")


def truncate_mode(truncate: str | Truncation | None) -> str | None:
    """The mode of a ``truncate=`` argument (a clear error for anything but None and 'left')."""
    mode = truncate.mode if isinstance(truncate, Truncation) else truncate
    if mode not in TRUNCATE:
        raise ValueError(f"truncate must be None (refuse prompts past the model's limit) or 'left', not {mode!r}")
    return mode


def describe(prompt: str, index: int) -> str:
    head = " ".join(prompt.split())
    return f"prompt {index} ({head[:40]!r}{'...' if len(head) > 40 else ''})"


def cut_needed(n_tokens: int, keep: int, limit: Limit | None, *, truncate: str | None, what: str, index: int,
               head: int = 0) -> int:
    """How many tokens to cut from the start of a sequence of ``n_tokens`` (0 when it fits); past the limit a
    :class:`ContextLengthError`, unless ``truncate="left"`` and the sequence still keeps ``head`` leading
    tokens, its last ``keep`` (a scored continuation) and at least one more."""
    if limit is None or n_tokens <= limit.tokens:
        return 0
    extra = f" with {keep} scored after it" if keep else ""
    if truncate != "left":
        raise ContextLengthError(what, n_tokens, limit, index=index, extra=extra)
    cut = n_tokens - limit.tokens
    if n_tokens - keep - head - cut < 1:  # not one token of the prompt would be left
        raise ContextLengthError(what, n_tokens, limit, index=index,
                                 extra=f"{extra}, and cutting its start cannot make it fit")
    return cut


def fit(ids: Sequence[int], keep: int, limit: Limit | None, *, truncate: str | None, what: str, index: int,
        bos: int | None = None) -> tuple[tuple[int, ...], int]:
    """(the ids to run, how many were cut from their start, after a leading ``bos``): :func:`cut_needed`."""
    ids = tuple(ids)
    head = 1 if bos is not None and ids[:1] == (bos,) else 0
    cut = cut_needed(len(ids), keep, limit, truncate=truncate, what=what, index=index, head=head)
    return (ids[:head] + ids[head + cut:] if cut else ids), cut


def report_cuts(cuts: Sequence[tuple[str, int, int]], limit: Limit | None) -> None:
    """One warning for the prompts a call cut: (what, tokens before, tokens cut) each."""
    if not cuts or limit is None:
        return
    what, n, cut = max(cuts, key=lambda c: c[2])
    warnings.warn(f"{len(cuts)} prompt(s) were cut from the left to the {limit.tokens} tokens this model reads "
                  f"(truncate='left'; most: {what}, {n} tokens, {cut} cut from its start): their rows score prompts "
                  "the model cannot fully read", TruncationWarning, stacklevel=4)


def refuse_long(model, prompts: Sequence[str], names: Sequence[str]) -> None:
    """For probes with forward passes of their own (heads, sweeps, layers): a :class:`ContextLengthError`
    naming the first prompt past the model's limit, before any pass runs. These probes read the last
    position of exactly the prompt given, so they offer no truncation."""
    from explorer.prompts.tokens import encode_prompt  # noqa: PLC0415 - prompts imports scoring

    limit = position_limit(model)
    if limit is None:
        return
    room = limit.tokens - 8  # a token covers at least one byte, BOS/EOS/prefix none
    for i, (prompt, name) in enumerate(zip(prompts, names)):
        if len(prompt.encode()) > room:
            cut_needed(len(encode_prompt(model.tokenizer, prompt)), 0, limit, truncate=None, what=name, index=i)
