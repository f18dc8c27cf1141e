"""Prompt formats, demonstrations and tokenization rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.prompts.build import build_prompts
    from explorer.prompts.format import (DEFAULT_FORMAT, get_format, LABEL_SETS, LINE_STYLES, NAMED_FORMATS,
                                         PromptFormat, resolve_labels)
    from explorer.prompts.demos import draw_demonstrations, split_pool
    from explorer.prompts.tokens import encode_continuation, encode_prompt, label_token_ids

_EXPORTS = {
    "build_prompts": "explorer.prompts.build",
    "PromptFormat": "explorer.prompts.format",
    "DEFAULT_FORMAT": "explorer.prompts.format",
    "NAMED_FORMATS": "explorer.prompts.format",
    "LABEL_SETS": "explorer.prompts.format",
    "LINE_STYLES": "explorer.prompts.format",
    "get_format": "explorer.prompts.format",
    "resolve_labels": "explorer.prompts.format",
    "draw_demonstrations": "explorer.prompts.demos",
    "split_pool": "explorer.prompts.demos",
    "encode_prompt": "explorer.prompts.tokens",
    "encode_continuation": "explorer.prompts.tokens",
    "label_token_ids": "explorer.prompts.tokens",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
