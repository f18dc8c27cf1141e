"""Tokenization rules used everywhere: how prompts are encoded and which labels are single tokens."""

from __future__ import annotations

from collections.abc import Sequence

from explorer.errors import FormatError


def encode_prompt(tokenizer, text: str) -> list[int]:
    """Token ids of a prompt, adding the tokenizer's special tokens unless the text already starts
    with its BOS (as chat-templated text does)."""
    bos = getattr(tokenizer, "bos_token", None)
    add = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add)["input_ids"])


def encode_continuation(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) such that their concatenation is how the joined text reads.

    Encodes context + continuation together and splits at the context's length when the context's
    tokens are a prefix of the whole (the usual case); otherwise encodes the two apart.
    """
    ctx = encode_prompt(tokenizer, context)
    whole = encode_prompt(tokenizer, context + continuation)
    if whole[: len(ctx)] == ctx and len(whole) > len(ctx):
        return ctx, whole[len(ctx):]
    cont = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
    if not cont:
        raise FormatError(f"continuation {continuation!r} encodes to no tokens")
    return ctx, cont


def label_token_ids(tokenizer, labels: Sequence[str]) -> list[int]:
    """The single token id of each scored label string (e.g. " A"); a clear error if one is not.

    A label that splits into several tokens cannot be read from one next-token distribution, so
    this refuses rather than guessing with its first token.
    """
    ids = []
    for label in labels:
        toks = tokenizer(label, add_special_tokens=False)["input_ids"]
        if len(toks) != 1:
            pieces = tokenizer.convert_ids_to_tokens(toks)
            raise FormatError(f"label {label!r} is {len(toks)} tokens {pieces} for this tokenizer, not one; choose a "
                              "label set whose labels are single tokens (e.g. ABCD), or change label_prefix")
        ids.append(toks[0])
    if len(set(ids)) != len(ids):
        raise FormatError(f"labels {list(labels)} do not map to distinct tokens for this tokenizer")
    return ids
