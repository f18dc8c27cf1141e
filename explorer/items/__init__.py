"""Multiple-choice items: the record, loaders, and built-in data sets."""

from explorer.items.builtin import arithmetic, builtin_items, capitals, counterfactual_capitals
from explorer.items.io import items_to_frame, load_items, save_jsonl
from explorer.items.item import Item
from explorer.items.mmlu import mmlu

__all__ = ["Item", "load_items", "items_to_frame", "save_jsonl", "builtin_items", "capitals", "arithmetic",
           "counterfactual_capitals", "mmlu"]
