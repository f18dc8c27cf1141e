"""Multiple-choice items: the record, loaders for every source (files, built-in sets, hub benchmarks), and
built-in data sets."""

from explorer.items.benchmarks import BENCHMARKS, Benchmark, benchmark
from explorer.items.builtin import arithmetic, builtin_items, capitals, counterfactual_capitals
from explorer.items.io import Loaded, items_to_frame, load_items, load_source, save_jsonl
from explorer.items.item import Item
from explorer.items.mmlu import mmlu
from explorer.items.sampling import sample
from explorer.items.schemas import SCHEMAS, Schema

__all__ = ["Item", "load_items", "load_source", "Loaded", "items_to_frame", "save_jsonl", "builtin_items", "capitals",
           "arithmetic", "counterfactual_capitals", "mmlu", "sample", "SCHEMAS", "Schema", "BENCHMARKS", "Benchmark",
           "benchmark"]
