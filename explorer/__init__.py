"""lm-explorer's headless engine: models, items and prompt formats, scoring, probes, metrics.

Imports no widget library; the ``widgets`` package wraps it for notebooks.
"""

from explorer.errors import (Cancelled, DataError, ExplorerError, FormatError, ItemError, ModelLoadError,
                             SkippedItemsWarning)
from explorer.items import Item, builtin_items, load_items, load_source
from explorer.models import LoadedModel, load_model
from explorer.prompts import DEFAULT_FORMAT, PromptFormat, get_format
from explorer.scoring import score_continuations, score_next_token

__all__ = ["load_model", "LoadedModel", "Item", "load_items", "load_source", "builtin_items", "PromptFormat",
           "DEFAULT_FORMAT", "get_format", "score_next_token", "score_continuations", "ExplorerError", "ItemError",
           "DataError", "SkippedItemsWarning", "FormatError", "ModelLoadError", "Cancelled"]
