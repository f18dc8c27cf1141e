"""Prompt formats, demonstrations and tokenization rules."""

from explorer.prompts.build import build_prompts
from explorer.prompts.demos import draw_demonstrations, split_pool
from explorer.prompts.format import (DEFAULT_FORMAT, LABEL_SETS, LINE_STYLES, NAMED_FORMATS, PromptFormat, get_format,
                                     resolve_labels)
from explorer.prompts.tokens import encode_continuation, encode_prompt, label_token_ids

__all__ = ["build_prompts", "PromptFormat", "DEFAULT_FORMAT", "NAMED_FORMATS", "LABEL_SETS", "LINE_STYLES", "get_format",
           "resolve_labels", "draw_demonstrations", "split_pool", "encode_prompt", "encode_continuation",
           "label_token_ids"]
