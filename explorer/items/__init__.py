"""Multiple-choice items: the record, loaders for every source (files, built-in sets, hub benchmarks), and
built-in data sets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.items.benchmarks import BENCHMARKS, Benchmark, benchmark
    from explorer.items.builtin import arithmetic, builtin_items, capitals, counterfactual_capitals
    from explorer.items.files import FileBytes
    from explorer.items.io import Loaded, items_to_frame, load_builtin, load_items, load_source, save_jsonl
    from explorer.items.item import Item
    from explorer.items.mmlu import mmlu
    from explorer.items.sampling import sample
    from explorer.items.schemas import SCHEMAS, Schema

_EXPORTS = {
    "Item": "explorer.items.item",
    "load_items": "explorer.items.io",
    "load_source": "explorer.items.io",
    "load_builtin": "explorer.items.io",
    "FileBytes": "explorer.items.files",
    "Loaded": "explorer.items.io",
    "items_to_frame": "explorer.items.io",
    "save_jsonl": "explorer.items.io",
    "builtin_items": "explorer.items.builtin",
    "capitals": "explorer.items.builtin",
    "arithmetic": "explorer.items.builtin",
    "counterfactual_capitals": "explorer.items.builtin",
    "mmlu": "explorer.items.mmlu",
    "sample": "explorer.items.sampling",
    "SCHEMAS": "explorer.items.schemas",
    "Schema": "explorer.items.schemas",
    "BENCHMARKS": "explorer.items.benchmarks",
    "Benchmark": "explorer.items.benchmarks",
    "benchmark": "explorer.items.benchmarks",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

# Imported now: the function shares its module's name, and importing that module later would leave the module here.
from explorer.items.mmlu import mmlu  # noqa: E402
