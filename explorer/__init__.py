"""lm-explorer's headless engine: models, items and prompt formats, scoring, probes, metrics.

Imports no widget library; the ``widgets`` package wraps it for notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.models.load import load_model
    from explorer.models.handle import LoadedModel
    from explorer.items.item import Item
    from explorer.items.io import load_items, load_source
    from explorer.items.builtin import builtin_items
    from explorer.prompts.format import DEFAULT_FORMAT, get_format, PromptFormat
    from explorer.scoring.engine import score_continuations, score_next_token
    from explorer.errors import (Cancelled, DataError, ExplorerError, FormatError, ItemError, ModelLoadError,
                                 NoItemsError, SkippedItemsWarning)

_EXPORTS = {
    "load_model": "explorer.models.load",
    "LoadedModel": "explorer.models.handle",
    "Item": "explorer.items.item",
    "load_items": "explorer.items.io",
    "load_source": "explorer.items.io",
    "builtin_items": "explorer.items.builtin",
    "PromptFormat": "explorer.prompts.format",
    "DEFAULT_FORMAT": "explorer.prompts.format",
    "get_format": "explorer.prompts.format",
    "score_next_token": "explorer.scoring.engine",
    "score_continuations": "explorer.scoring.engine",
    "ExplorerError": "explorer.errors",
    "ItemError": "explorer.errors",
    "DataError": "explorer.errors",
    "SkippedItemsWarning": "explorer.errors",
    "FormatError": "explorer.errors",
    "ModelLoadError": "explorer.errors",
    "NoItemsError": "explorer.errors",
    "Cancelled": "explorer.errors",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
